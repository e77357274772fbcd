#include "gen/ground_truth.hpp"

#include <stdexcept>

#include "gen/put_text.hpp"

namespace rfmseg::gen {

void write_groups(const ShopModel& m, GroundTruth& t, std::FILE* f, const std::string& path, std::size_t snapshot_day) {
  std::vector<char> buffer(std::size_t{1} << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  const std::string& eol = m.eol;
  std::string row =
      "customer_id,group,in_table,recency,frequency,monetary,monetary_net,invoices,kept_lines,purchase_days";
  row += eol;
  std::fwrite(row.data(), 1, row.size(), f);
  char buf[256];
  for (std::uint64_t c = 0; c < m.customer_count; ++c) {
    if (t.at(c, GroundTruth::id_lines) == 0) continue;
    char* p = m.put_customer(buf, c);
    *p++ = ',';
    p = put_str(p, customer_groups[m.group_of(c)].name);
    const std::int64_t kept = t.at(c, GroundTruth::kept_lines);
    const std::int64_t invoices = t.at(c, GroundTruth::invoices);
    p = put_str(p, kept > 0 ? ",1," : ",0,");
    if (kept > 0) p = put_int(p, static_cast<std::int64_t>(snapshot_day) - t.last_day[static_cast<std::size_t>(c)]);
    *p++ = ',';
    p = put_int(p, m.is_amount ? kept : invoices);
    *p++ = ',';
    p = put_cents(p, t.at(c, GroundTruth::monetary));
    *p++ = ',';
    p = put_cents(p, t.at(c, GroundTruth::monetary_net));
    *p++ = ',';
    p = put_int(p, invoices);
    *p++ = ',';
    p = put_int(p, kept);
    *p++ = ',';
    p = put_int(p, t.at(c, GroundTruth::purchase_days));
    p = put_str(p, eol);
    std::fwrite(buf, 1, static_cast<std::size_t>(p - buf), f);
  }
  const bool ok = std::ferror(f) == 0;
  if (std::fclose(f) != 0 || !ok) throw std::runtime_error("cannot write " + path);
}

}  // namespace rfmseg::gen
