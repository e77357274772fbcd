#pragma once
// Formats a range of data lines into a buffer: the invoices, their rows in the chosen layout, the
// line-level dirt, and (optionally) the ground truth of the lines it emits.

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "gen/ground_truth.hpp"
#include "gen/shop_model.hpp"

namespace rfmseg::gen {

inline constexpr std::size_t max_line_bytes = 256;

class Generator {
 public:
  explicit Generator(const ShopModel& model) : _model(model) { _used.reserve(64); }

  /// Number of invoice starts in [begin, end).
  [[nodiscard]] std::uint64_t count_starts(std::uint64_t begin, std::uint64_t end) const {
    if (_model.is_amount) return end - begin;
    std::uint64_t n = 0;
    for (std::uint64_t j = begin; j < end; ++j) n += _model.is_start(j) ? 1 : 0;
    return n;
  }

  /// Formats lines [begin, end) into out; starts_before = number of invoice starts before begin.
  /// Returns the number of bytes written. `truth` (optional) receives the fates of these lines.
  std::size_t chunk(std::uint64_t begin, std::uint64_t end, std::uint64_t starts_before, char* out, GroundTruth* truth);

 private:
  struct Invoice {
    InvoiceKind kind = InvoiceKind::normal;
    std::uint64_t base = 0;  // line whose basket the invoice's lines are drawn from
    std::uint64_t cust = 0;
    std::size_t group = 0;
    bool hidden = false;  // customer id printed empty
    bool referenced = false;
    char head[32];  // invoice number with prefix, then ','
    std::size_t head_len = 0;
    char tail[96];  // ",date,"
    std::size_t tail_len = 0;
    char id[32];
    std::size_t id_len = 0;
    std::string_view country;
    std::int64_t amount = 0;  // amount layout
  };

  void setup_invoice(std::uint64_t s, std::uint64_t number, std::size_t d);
  char* retail_line(char* p, std::uint64_t j, std::uint64_t m, LineDirt dirt, std::uint64_t w, LineFacts& facts);
  char* amount_line(char* p, std::uint64_t j, LineDirt dirt, LineFacts& facts);

  const ShopModel& _model;
  Invoice _invoice;
  std::vector<std::uint16_t> _used;
  std::vector<std::uint16_t> _scratch_used;
};

}  // namespace rfmseg::gen
