// The rows of each layout: online-retail and online-retail-ii (one product line of an invoice)
// and amount (one purchase: customer, date, basket total).
#include "gen/generator.hpp"

#include "gen/put_text.hpp"

namespace rfmseg::gen {

char* Generator::retail_line(char* p, std::uint64_t j, std::uint64_t m, LineDirt dirt, std::uint64_t /*w*/,
                             LineFacts& facts) {
  const Invoice& inv = _invoice;
  p = put_str(p, std::string_view(inv.head, inv.head_len));
  std::int64_t qty = 1, price = 0;
  std::string_view code, desc;
  bool adjust = inv.kind == InvoiceKind::adjust;
  if (adjust) {
    code = "B";
    desc = "Adjust bad debt";
    price = -(_model.adjust_amount(inv.base) + static_cast<std::int64_t>(m));  // distinct lines
  } else {
    const std::size_t k = _model.pick_product(inv.base, m, inv.group, _used);
    _used.push_back(static_cast<std::uint16_t>(k));
    _model.pick_quantity_price(inv.base, m, inv.group, k, qty, price);
    code = _model.catalog[k].code;
    desc = _model.catalog[k].desc;
    if (inv.kind == InvoiceKind::cancel) qty = -qty;
    if (dirt == LineDirt::neg_qty && qty > 0) qty = -qty;
    if (dirt == LineDirt::zero_price) price = 0;
  }
  p = put_str(p, code);
  *p++ = ',';
  if (adjust || (dirt != LineDirt::quoted && dirt != LineDirt::latin1 && dirt != LineDirt::empty_desc)) {
    p = put_str(p, desc);
  } else if (dirt == LineDirt::quoted) {
    const std::uint64_t v = _model.variant_stream(j);
    const std::string_view word = quote_words[(v >> 8) % quote_words.size()];
    switch (v % 3) {
      case 0:  // "SET OF 3 CAKE TINS, ""PANTRY"" DESIGN"
        *p++ = '"';
        p = put_str(p, desc);
        p = put_str(p, ", \"\"");
        p = put_str(p, word);
        p = put_str(p, "\"\" DESIGN\"");
        break;
      case 1:  // "RED OWL MUG, ASSORTED COLOURS"
        *p++ = '"';
        p = put_str(p, desc);
        p = put_str(p, ", ASSORTED COLOURS\"");
        break;
      default:  // """PANTRY"" RED OWL MUG"
        p = put_str(p, "\"\"\"");
        p = put_str(p, word);
        p = put_str(p, "\"\" ");
        p = put_str(p, desc);
        *p++ = '"';
        break;
    }
  } else if (dirt == LineDirt::latin1) {
    const std::uint64_t v = _model.variant_stream(j);
    switch (v % 3) {
      case 0:  // raw Latin-1 pound sign
        p = put_str(p, desc);
        p = put_str(p, " \xA3");
        p = put_uint(p, 1 + (v >> 8) % 20);
        break;
      case 1:  // UTF-8 pound sign read as Latin-1: "Â£"
        p = put_str(p, desc);
        p = put_str(p, " \xC2\xA3");
        p = put_uint(p, 1 + (v >> 8) % 20);
        break;
      default:  // raw Latin-1 E acute
        p = put_str(p, "CAF\xC9 ");
        p = put_str(p, desc);
        break;
    }
  }  // empty_desc: nothing
  *p++ = ',';
  p = put_int(p, qty);
  p = put_str(p, std::string_view(inv.tail, inv.tail_len));
  p = put_cents(p, price);
  *p++ = ',';
  p = put_str(p, std::string_view(inv.id, inv.id_len));
  if (dirt == LineDirt::id_dot0 && inv.id_len > 0) p = put_str(p, ".0");
  *p++ = ',';
  p = put_str(p, inv.country);

  facts.cust = inv.hidden ? -1 : static_cast<std::int64_t>(inv.cust);
  facts.qty = qty;
  facts.price = price;
  facts.cancel = inv.kind == InvoiceKind::cancel || qty < 0;
  return p;
}

char* Generator::amount_line(char* p, std::uint64_t /*j*/, LineDirt dirt, LineFacts& facts) {
  const Invoice& inv = _invoice;
  std::int64_t amount = inv.amount;
  if (dirt == LineDirt::neg_qty && amount > 0) amount = -amount;
  if (dirt == LineDirt::zero_price) amount = 0;
  p = put_str(p, std::string_view(inv.id, inv.id_len));
  p = put_str(p, std::string_view(inv.tail, inv.tail_len));
  p = put_amount(p, amount);
  facts.cust = inv.hidden ? -1 : static_cast<std::int64_t>(inv.cust);
  facts.qty = 1;
  facts.price = amount;
  facts.cancel = false;  // no invoice and no quantity: negative amounts are nonpositive prices
  return p;
}

}  // namespace rfmseg::gen
