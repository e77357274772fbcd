#pragma once
// Formats a range of data lines into a buffer: the invoices, their rows in the chosen layout, the
// line-level dirt, and (optionally) the ground truth of the lines it emits.

#include <cstddef>
#include <string_view>
#include <vector>

#include "gen/ground_truth.hpp"
#include "gen/shop_model.hpp"
#include "gen/types.hpp"

namespace rfmseg::gen {

constexpr std::size_t kMaxLine = 256;

class Generator {
 public:
  explicit Generator(const Model& model) : _m(model) { _used.reserve(64); }

  /// Number of invoice starts in [begin, end).
  [[nodiscard]] u64 count_starts(u64 begin, u64 end) const {
    if (_m.amount) return end - begin;
    u64 n = 0;
    for (u64 j = begin; j < end; ++j) n += _m.is_start(j) ? 1 : 0;
    return n;
  }

  /// Formats lines [begin, end) into out; starts_before = number of invoice starts before begin.
  /// Returns the number of bytes written. `truth` (optional) receives the fates of these lines.
  std::size_t chunk(u64 begin, u64 end, u64 starts_before, char* out, Truth* truth);

 private:
  struct Invoice {
    InvKind kind = InvKind::normal;
    u64 base = 0;       // line whose basket the invoice's lines are drawn from
    u64 cust = 0;
    std::size_t group = 0;
    bool hidden = false;  // customer id printed empty
    bool referenced = false;
    char head[32];        // invoice number with prefix, then ','
    std::size_t head_len = 0;
    char tail[96];        // ",date,"
    std::size_t tail_len = 0;
    char id[32];
    std::size_t id_len = 0;
    std::string_view country;
    i64 amount = 0;       // amount layout
  };

  void setup_invoice(u64 s, u64 number, std::size_t d);
  char* retail_line(char* p, u64 j, u64 m, LineDirt dirt, u64 w, LineFacts& facts);
  char* amount_line(char* p, u64 j, LineDirt dirt, LineFacts& facts);

  const Model& _m;
  Invoice _inv;
  std::vector<std::uint16_t> _used;
  std::vector<std::uint16_t> _scratch_used;
};

}  // namespace rfmseg::gen
