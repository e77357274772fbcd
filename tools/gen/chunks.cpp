#include "gen/chunks.hpp"

namespace rfmseg::gen {

std::vector<Chunk> make_chunks(const ShopModel& m) {
  const std::uint64_t limit = m.opt.chunk_lines;
  std::vector<Chunk> chunks;
  std::uint64_t acc_begin = 0, acc_end = 0;
  auto flush = [&] {
    if (acc_end > acc_begin) chunks.push_back({acc_begin, acc_end});
    acc_begin = acc_end;
  };
  for (std::size_t d = 0; d + 1 < m.day_begin.size(); ++d) {
    const std::uint64_t lo = m.day_begin[d], hi = m.day_begin[d + 1];
    if (hi == lo) continue;
    if (hi - lo > limit) {
      flush();
      const std::uint64_t pieces = (hi - lo + limit - 1) / limit;
      for (std::uint64_t i = 0; i < pieces; ++i) {
        chunks.push_back({lo + (hi - lo) * i / pieces, lo + (hi - lo) * (i + 1) / pieces});
      }
      acc_begin = acc_end = hi;
      continue;
    }
    if (acc_end - acc_begin + (hi - lo) > limit) flush();
    if (acc_end == acc_begin) acc_begin = lo;
    acc_end = hi;
  }
  flush();
  return chunks;
}

}  // namespace rfmseg::gen
