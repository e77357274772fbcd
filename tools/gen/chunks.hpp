#pragma once
// The work units: line ranges of whole days (big days split), dealt round-robin to the ranks.

#include <vector>

#include "gen/shop_model.hpp"
#include "gen/types.hpp"

namespace rfmseg::gen {

struct Chunk {
  u64 begin;
  u64 end;
};

/// Whole days packed into chunks of at most --chunk-lines lines; bigger days are split.
std::vector<Chunk> make_chunks(const Model& m);

}  // namespace rfmseg::gen
