#include "gen/generator.hpp"

#include <array>
#include <cstring>
#include <stdexcept>

#include "gen/put_text.hpp"
#include "rfmseg/core/hash.hpp"

namespace rfmseg::gen {

void Generator::setup_invoice(std::uint64_t s, std::uint64_t number, std::size_t d) {
  Invoice& inv = _invoice;
  inv.kind = _model.invoice_kind(s);
  inv.base = s;
  inv.referenced = false;
  inv.hidden = inv.kind == InvoiceKind::anonymous;
  std::uint64_t shown_number = number;
  std::size_t cust_day = d;
  if (inv.kind == InvoiceKind::cancel && s > 0) {
    // Cancel the previous invoice when it is an ordinary purchase: same customer, same items.
    std::uint64_t prev = s - 1;
    if (!_model.is_amount) {
      while (!_model.is_start(prev)) --prev;
    }
    const bool prev_ok = _model.invoice_kind(prev) == InvoiceKind::normal &&
                         (!_model.is_amount || !_model.is_dup(prev, _model.line_stream(prev)));
    if (prev_ok) {
      inv.base = prev;
      inv.referenced = true;
      shown_number = number - 1;
      cust_day = _model.day_of(prev);
    }
  }
  inv.cust = _model.customer_at(inv.base, cust_day);
  inv.group = _model.group_of(inv.cust);
  _used.clear();

  if (_model.is_amount) {
    inv.amount = inv.kind == InvoiceKind::adjust ? -_model.adjust_amount(s)
                                                 : _model.basket_total(inv.base, inv.group, _scratch_used);
    if (inv.kind == InvoiceKind::cancel) inv.amount = -inv.amount;
  } else {
    char* p = inv.head;
    if (inv.kind == InvoiceKind::cancel) *p++ = 'C';
    if (inv.kind == InvoiceKind::adjust) *p++ = 'A';
    p = put_uint(p, first_invoice_number + shown_number);
    *p++ = ',';
    inv.head_len = static_cast<std::size_t>(p - inv.head);
    inv.country = countries[_model.country_of(inv.cust)].name;
  }
  char* t = inv.tail;
  *t++ = ',';
  t = _model.put_date(t, s, d);
  *t++ = ',';
  inv.tail_len = static_cast<std::size_t>(t - inv.tail);
  inv.id_len = inv.hidden ? 0 : static_cast<std::size_t>(_model.put_customer(inv.id, inv.cust) - inv.id);
}

std::size_t Generator::chunk(std::uint64_t begin, std::uint64_t end, std::uint64_t starts_before, char* out,
                             GroundTruth* truth) {
  if (begin >= end) return 0;
  std::size_t d = _model.day_of(begin);
  // Where generation starts: the invoice containing the first non-duplicate line at or before
  // `begin` -- or, when the ground truth is wanted and the chunk splits a day, the day's start
  // (duplicates and per-day counts need every earlier line of that day).
  std::uint64_t gen = begin;
  if (truth != nullptr && _model.day_begin[d] != begin) {
    gen = _model.day_begin[d];
  } else {
    while (_model.is_dup(gen, _model.line_stream(gen))) --gen;
    if (!_model.is_amount) {
      while (!_model.is_start(gen)) --gen;
    }
  }
  std::uint64_t number = starts_before - count_starts(gen, begin);  // starts before `gen`

  const std::string_view eol = _model.eol;
  char* p = out;
  std::array<std::array<char, max_line_bytes>, 2> scratch;
  int slot = 0;
  const char* last = nullptr;  // previous line (without line end)
  std::size_t last_len = 0;
  LineFacts facts, last_facts;
  std::uint64_t m = 0;  // line index within the invoice
  std::size_t day_now = static_cast<std::size_t>(-1);
  bool inv_counted = false;

  for (std::uint64_t j = gen; j < end; ++j) {
    const std::uint64_t w = _model.line_stream(j);
    const bool start = j == gen || _model.is_start(j, w);
    while (_model.day_begin[d + 1] <= j) ++d;
    const bool emit = j >= begin;
    const LineDirt dirt = _model.line_dirt(w);
    const bool dup = j != gen && dirt == LineDirt::dup && (_model.is_amount ? _model.day_begin[d] != j : !start);
    char* line = emit ? p : scratch[static_cast<std::size_t>(slot ^= 1)].data();
    char* e;
    if (dup) {
      std::memcpy(line, last, last_len);
      e = line + last_len;
      facts = last_facts;
    } else {
      if (start) {
        setup_invoice(j, number, d);
        ++number;
        m = 0;
        inv_counted = false;
      }
      e = _model.is_amount ? amount_line(line, j, dirt, facts) : retail_line(line, j, m, dirt, w, facts);
      ++m;
    }
    const auto len = static_cast<std::size_t>(e - line);
    if (len + eol.size() > max_line_bytes) throw std::logic_error("rfmseg-gen: line longer than max_line_bytes");
    last = line;
    last_len = len;
    last_facts = facts;
    if (emit) p = put_str(e, eol);

    if (truth != nullptr) {
      if (d != day_now) {
        day_now = d;
        truth->seen.reset(static_cast<std::size_t>(_model.day_begin[d + 1] - _model.day_begin[d]));
      }
      const bool fresh = truth->seen.insert(rfmseg::hash_bytes(std::string_view(line, len), 0x5eed),
                                            rfmseg::hash_bytes(std::string_view(line, len), 0xfeed));
      LineFate fate;
      if (facts.cust < 0)
        fate = LineFate::missing_customer;
      else if (!fresh)
        fate = LineFate::duplicate;
      else if (facts.cancel)
        fate = LineFate::cancellation;
      else if (facts.qty == 0)
        fate = LineFate::zero_quantity;
      else if (facts.price <= 0)
        fate = LineFate::nonpositive_price;
      else
        fate = LineFate::kept;
      const auto c = static_cast<std::uint64_t>(facts.cust);
      const auto di = static_cast<std::int32_t>(d);
      if (emit) {
        ++truth->fates[static_cast<std::size_t>(fate)];
        if (facts.cust >= 0) ++truth->at(c, GroundTruth::id_lines);
        if (fate == LineFate::cancellation) truth->at(c, GroundTruth::monetary_net) += facts.qty * facts.price;
        if (fate == LineFate::kept) {
          const std::int64_t value = facts.qty * facts.price;
          ++truth->at(c, GroundTruth::kept_lines);
          truth->at(c, GroundTruth::monetary) += value;
          truth->at(c, GroundTruth::monetary_net) += value;
          if (_model.is_amount || !inv_counted) ++truth->at(c, GroundTruth::invoices);
          if (truth->day_marker[c] != di) ++truth->at(c, GroundTruth::purchase_days);
          truth->last_day[c] = std::max(truth->last_day[c], di);
        }
      }
      if (fate == LineFate::kept) {
        inv_counted = true;
        truth->day_marker[c] = di;
      }
    }
  }
  return static_cast<std::size_t>(p - out);
}

}  // namespace rfmseg::gen
