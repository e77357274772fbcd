#pragma once
// The work units: line ranges of whole days (big days split), dealt round-robin to the ranks.

#include <cstdint>
#include <vector>

#include "gen/shop_model.hpp"

namespace rfmseg::gen {

struct Chunk {
  std::uint64_t begin;
  std::uint64_t end;
};

/// Whole days packed into chunks of at most --chunk-lines lines; bigger days are split.
std::vector<Chunk> make_chunks(const ShopModel& m);

}  // namespace rfmseg::gen
