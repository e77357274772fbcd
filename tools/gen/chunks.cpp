#include "gen/chunks.hpp"

namespace rfmseg::gen {

std::vector<Chunk> make_chunks(const Model& m) {
  const u64 limit = m.opt.chunk_lines;
  std::vector<Chunk> chunks;
  u64 acc_begin = 0, acc_end = 0;
  auto flush = [&] {
    if (acc_end > acc_begin) chunks.push_back({acc_begin, acc_end});
    acc_begin = acc_end;
  };
  for (std::size_t d = 0; d + 1 < m.b.size(); ++d) {
    const u64 lo = m.b[d], hi = m.b[d + 1];
    if (hi == lo) continue;
    if (hi - lo > limit) {
      flush();
      const u64 pieces = (hi - lo + limit - 1) / limit;
      for (u64 i = 0; i < pieces; ++i) {
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
