#include "gen/generator.hpp"

#include <array>
#include <cstring>
#include <stdexcept>

#include "gen/put_text.hpp"
#include "rfmseg/core/hash.hpp"

namespace rfmseg::gen {

void Generator::setup_invoice(u64 s, u64 number, std::size_t d) {
  Invoice& inv = _inv;
  inv.kind = _m.inv_kind(s);
  inv.base = s;
  inv.referenced = false;
  inv.hidden = inv.kind == InvKind::anonymous;
  u64 shown_number = number;
  std::size_t cust_day = d;
  if (inv.kind == InvKind::cancel && s > 0) {
    // Cancel the previous invoice when it is an ordinary purchase: same customer, same items.
    u64 prev = s - 1;
    if (!_m.amount) {
      while (!_m.is_start(prev)) --prev;
    }
    const bool prev_ok = _m.inv_kind(prev) == InvKind::normal && (!_m.amount || !_m.is_dup(prev, _m.s_line(prev)));
    if (prev_ok) {
      inv.base = prev;
      inv.referenced = true;
      shown_number = number - 1;
      cust_day = _m.day_of(prev);
    }
  }
  inv.cust = _m.customer_at(inv.base, cust_day);
  inv.group = _m.group_of(inv.cust);
  _used.clear();

  if (_m.amount) {
    inv.amount = inv.kind == InvKind::adjust ? -_m.adjust_amount(s) : _m.basket_total(inv.base, inv.group, _scratch_used);
    if (inv.kind == InvKind::cancel) inv.amount = -inv.amount;
  } else {
    char* p = inv.head;
    if (inv.kind == InvKind::cancel) *p++ = 'C';
    if (inv.kind == InvKind::adjust) *p++ = 'A';
    p = put_uint(p, kInvoiceBase + shown_number);
    *p++ = ',';
    inv.head_len = static_cast<std::size_t>(p - inv.head);
    inv.country = kCountries[_m.country_of(inv.cust)].name;
  }
  char* t = inv.tail;
  *t++ = ',';
  t = _m.put_date(t, s, d);
  *t++ = ',';
  inv.tail_len = static_cast<std::size_t>(t - inv.tail);
  inv.id_len = inv.hidden ? 0 : static_cast<std::size_t>(_m.put_customer(inv.id, inv.cust) - inv.id);
}

std::size_t Generator::chunk(u64 begin, u64 end, u64 starts_before, char* out, Truth* truth) {
  if (begin >= end) return 0;
  std::size_t d = _m.day_of(begin);
  // Where generation starts: the invoice containing the first non-duplicate line at or before
  // `begin` -- or, when the ground truth is wanted and the chunk splits a day, the day's start
  // (duplicates and per-day counts need every earlier line of that day).
  u64 gen = begin;
  if (truth != nullptr && _m.b[d] != begin) {
    gen = _m.b[d];
  } else {
    while (_m.is_dup(gen, _m.s_line(gen))) --gen;
    if (!_m.amount) {
      while (!_m.is_start(gen)) --gen;
    }
  }
  u64 number = starts_before - count_starts(gen, begin);  // starts before `gen`

  const std::string_view eol = _m.eol;
  char* p = out;
  std::array<std::array<char, kMaxLine>, 2> scratch;
  int slot = 0;
  const char* last = nullptr;  // previous line (without line end)
  std::size_t last_len = 0;
  LineFacts facts, last_facts;
  u64 m = 0;  // line index within the invoice
  std::size_t day_now = static_cast<std::size_t>(-1);
  bool inv_counted = false;

  for (u64 j = gen; j < end; ++j) {
    const u64 w = _m.s_line(j);
    const bool start = j == gen || _m.is_start(j, w);
    while (_m.b[d + 1] <= j) ++d;
    const bool emit = j >= begin;
    const LineDirt dirt = _m.line_dirt(w);
    const bool dup = j != gen && dirt == LineDirt::dup && (_m.amount ? _m.b[d] != j : !start);
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
      e = _m.amount ? amount_line(line, j, dirt, facts) : retail_line(line, j, m, dirt, w, facts);
      ++m;
    }
    const auto len = static_cast<std::size_t>(e - line);
    if (len + eol.size() > kMaxLine) throw std::logic_error("rfmseg-gen: line longer than kMaxLine");
    last = line;
    last_len = len;
    last_facts = facts;
    if (emit) p = put_str(e, eol);

    if (truth != nullptr) {
      if (d != day_now) {
        day_now = d;
        truth->seen.reset(static_cast<std::size_t>(_m.b[d + 1] - _m.b[d]));
      }
      const bool fresh = truth->seen.insert(rfmseg::hash_bytes(std::string_view(line, len), 0x5eed),
                                            rfmseg::hash_bytes(std::string_view(line, len), 0xfeed));
      Fate fate;
      if (facts.cust < 0) fate = kMissing;
      else if (!fresh) fate = kDuplicate;
      else if (facts.cancel) fate = kCancellation;
      else if (facts.qty == 0) fate = kZeroQty;
      else if (facts.price <= 0) fate = kNonpositive;
      else fate = kKept;
      const auto c = static_cast<u64>(facts.cust);
      const auto di = static_cast<std::int32_t>(d);
      if (emit) {
        ++truth->fates[fate];
        if (facts.cust >= 0) ++truth->at(c, Truth::kIdLines);
        if (fate == kCancellation) truth->at(c, Truth::kMonetaryNet) += facts.qty * facts.price;
        if (fate == kKept) {
          const i64 value = facts.qty * facts.price;
          ++truth->at(c, Truth::kKeptLines);
          truth->at(c, Truth::kMonetary) += value;
          truth->at(c, Truth::kMonetaryNet) += value;
          if (_m.amount || !inv_counted) ++truth->at(c, Truth::kInvoices);
          if (truth->day_marker[c] != di) ++truth->at(c, Truth::kDays);
          truth->last_day[c] = std::max(truth->last_day[c], di);
        }
      }
      if (fate == kKept) {
        inv_counted = true;
        truth->day_marker[c] = di;
      }
    }
  }
  return static_cast<std::size_t>(p - out);
}

}  // namespace rfmseg::gen
