#pragma once
// The shop and its customers: catalog, latent customer groups, countries, the calendar of the
// period, dirt rates, and the pure functions that draw an invoice's kind, customer, products,
// quantities and date from the counter-based streams.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "gen/options.hpp"
#include "gen/put_text.hpp"
#include "gen/random_stream.hpp"
#include "rfmseg/core/int128.hpp"

namespace rfmseg::gen {

inline constexpr std::array<int, 12> quantity_values = {1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 36, 48};
inline constexpr std::array<int, 12> large_quantities = {72, 96, 100, 120, 144, 200, 240, 288, 400, 480, 600, 1000};

struct GroupSpec {
  const char* name;
  double share;   // fraction of customers
  double weight;  // relative number of purchases per customer over its window
  double lo;      // active window [lo, hi) as fractions of the period
  double hi;
  double gamma;  // product price tier exponent: < 1 pricier, > 1 cheaper
  std::array<double, 12> qty_weights;
  double p_large;  // probability of a wholesale-size quantity
};

inline constexpr std::array<GroupSpec, 5> customer_groups = {{
    {"loyal", 0.12, 8.0, 0.0, 1.0, 0.55, {2, 2, 3, 3, 6, 3, 2, 12, 4, 10, 3, 4}, 0.03},
    {"regular", 0.28, 2.5, 0.0, 1.0, 1.0, {12, 8, 6, 6, 8, 3, 2, 6, 1, 3, 0.5, 0.5}, 0.005},
    {"new", 0.20, 1.0, 0.84, 1.0, 1.0, {14, 9, 7, 6, 7, 3, 2, 5, 1, 2, 0.5, 0.5}, 0.005},
    {"at_risk", 0.15, 4.0, 0.0, 0.67, 0.8, {5, 5, 5, 5, 8, 4, 3, 9, 3, 6, 2, 2}, 0.015},
    {"churned", 0.25, 0.8, 0.0, 0.30, 1.8, {30, 14, 6, 5, 3, 1, 1, 1, 0, 0, 0, 0}, 0.0},
}};
inline constexpr std::size_t group_count = customer_groups.size();
inline constexpr std::size_t loyal_group = 0, churned_group = 4;  ///< the groups whose customers may move

struct Country {
  const char* name;
  double weight;
};
inline constexpr std::array<Country, 37> countries = {{
    {"United Kingdom", 885},
    {"Germany", 22},
    {"France", 20},
    {"EIRE", 15},
    {"Spain", 7},
    {"Netherlands", 6},
    {"Belgium", 6},
    {"Switzerland", 5},
    {"Portugal", 4},
    {"Australia", 3},
    {"Norway", 3},
    {"Italy", 3},
    {"Channel Islands", 2},
    {"Finland", 2},
    {"Cyprus", 2},
    {"Sweden", 2},
    {"Austria", 2},
    {"Denmark", 2},
    {"Japan", 2},
    {"Poland", 2},
    {"USA", 1},
    {"Israel", 1},
    {"Unspecified", 1},
    {"Singapore", 1},
    {"Iceland", 1},
    {"Canada", 1},
    {"Greece", 1},
    {"Malta", 1},
    {"United Arab Emirates", 1},
    {"European Community", 1},
    {"RSA", 1},
    {"Lebanon", 1},
    {"Lithuania", 1},
    {"Brazil", 1},
    {"Czech Republic", 1},
    {"Bahrain", 1},
    {"Saudi Arabia", 1},
}};

inline constexpr std::array<const char*, 24> colour_words = {
    "WHITE",  "RED",    "PINK",    "BLUE",   "GREEN",   "IVORY",   "CREAM", "BLACK",
    "SILVER", "GOLD",   "PASTEL",  "RETRO",  "VINTAGE", "ANTIQUE", "ROSE",  "LILAC",
    "ORANGE", "YELLOW", "NATURAL", "WOODEN", "GLASS",   "ENAMEL",  "ZINC",  "FELTCRAFT"};
inline constexpr std::array<const char*, 24> motif_words = {
    "HANGING HEART", "REGENCY",       "SPACEBOY", "DOLLY GIRL", "PAISLEY", "POLKADOT", "STRAWBERRY", "CHRISTMAS",
    "UNION JACK",    "BIRD",          "OWL",      "SKULL",      "LOVE",    "HEART",    "STAR",       "FLOWER",
    "BUNNY",         "CIRCUS PARADE", "JUNGLE",   "ALPHABET",   "APPLE",   "LEAF",     "DAISY",      "PARIS"};
inline constexpr std::array<const char*, 30> item_words = {
    "T-LIGHT HOLDER", "LUNCH BAG",        "CAKE TINS",   "TEACUP AND SAUCER", "BUNTING", "MUG",     "DOORMAT",
    "CUSHION COVER",  "HOT WATER BOTTLE", "PHOTO FRAME", "NOTEBOOK",          "JAM JAR", "LANTERN", "CAKE STAND",
    "WALL CLOCK",     "CANDLE",           "TISSUES",     "GIFT BAG",          "WRAP",    "NAPKINS", "PAPER CHAIN KIT",
    "ALARM CLOCK",    "SHOPPER BAG",      "CHOPSTICKS",  "COASTER",           "MAGNET",  "SIGN",    "TRINKET BOX",
    "BAKING SET",     "EGG CUP"};
inline constexpr std::array<const char*, 10> prefix_words = {"",          "",       "",       "",       "SET OF 3 ",
                                                             "SET OF 6 ", "JUMBO ", "SMALL ", "LARGE ", "PACK OF 12 "};
inline constexpr std::array<const char*, 6> quote_words = {"PANTRY",  "REGENCY",  "VINTAGE",
                                                           "PAISLEY", "SPACEBOY", "DOLLY GIRL"};

struct Product {
  std::string code;
  std::string desc;
  std::int64_t price = 0;  // cents
};

inline constexpr std::size_t product_count = 4000;
inline constexpr std::size_t tier_bins = 4096;
inline constexpr std::uint64_t first_invoice_number = 536365;
// P(line starts an invoice) = 1/5, compared with the top 24 bits of the line word.
inline constexpr std::uint64_t invoice_start_threshold = (std::uint64_t{1} << 24) / 5;
inline constexpr int max_product_attempts = 64;
inline constexpr int max_customer_attempts = 4096;
inline constexpr double inverse_log_0_8 = -4.481420117724551;  // 1 / ln(0.8): geometric basket sizes, mean 5
inline constexpr int opening_minute = 7 * 60;
inline constexpr int minutes_open = 13 * 60;

// Relative dirt weights: fraction of lines = dirt * weight.
inline constexpr double dirt_weight_missing_id = 0.31;  // whole invoices
inline constexpr double dirt_weight_cancel = 0.15;      // whole invoices
inline constexpr double dirt_weight_adjust = 0.02;      // whole invoices
inline constexpr double dirt_weight_duplicate = 0.15;   // applied to non-start lines only: ~0.12 of all lines
inline constexpr double dirt_weight_negative_quantity = 0.05;
inline constexpr double dirt_weight_zero_price = 0.05;
inline constexpr double dirt_weight_quoted = 0.10;
inline constexpr double dirt_weight_empty_description = 0.05;
inline constexpr double dirt_weight_id_dot0 = 0.10;
inline constexpr double dirt_weight_latin1 = 0.05;

enum class InvoiceKind : std::uint8_t { normal, anonymous, cancel, adjust };
enum class LineDirt : std::uint8_t { clean, dup, neg_qty, zero_price, quoted, empty_desc, id_dot0, latin1 };

struct DayInfo {
  std::string date_prefix;  // e.g. "12/1/2010 " (us) or "2010-12-01 " (iso) or the whole date
  bool with_time = true;
  std::array<double, group_count> rate{};  // per-customer purchase rate of each group (0 when inactive)
  double rate_max = 0.0;
};

/// Everything drawn or tabulated once per run; the draws are const member functions of the line,
/// invoice or customer index, so any rank computes any line alone.
struct ShopModel {
  explicit ShopModel(const Options& opt);

  const Options& opt;
  std::uint64_t line_count;
  std::uint64_t customer_count;
  bool is_amount;                ///< the amount layout: one purchase per line, no invoices
  std::vector<Product> catalog;  // sorted by price
  std::array<std::array<std::uint16_t, tier_bins + 1>, group_count> tier{};
  std::array<std::array<std::uint32_t, quantity_values.size()>, group_count> quantity_cum{};
  std::array<std::uint32_t, group_count> group_cum{};
  std::array<std::uint32_t, countries.size()> country_cum{};
  std::vector<DayInfo> day;
  std::vector<std::uint64_t> day_begin;  // first line of day d (an invoice start); day_begin[days] = line_count
  double max_multiplier;
  std::array<std::uint64_t, 8> line_dirt_thresholds{};  // cumulative 40-bit thresholds of the line dirt kinds
  std::array<double, 3> invoice_kind_thresholds{};
  std::string eol;
  std::string header;
  int id_width = 5;

  RandomStream line_stream, kind_stream, group_stream, multiplier_stream, country_stream, candidate_stream;
  RandomStream product_stream, quantity_stream, variant_stream, adjust_stream, basket_stream, movement_stream;
  /// --night: the first line of each night after the first (each starts an invoice, so a night's
  /// file ends with whole invoices); empty for night 1.
  std::vector<std::uint64_t> night_begin;
  std::uint64_t first_night_begin = UINT64_MAX;
  /// First day of the movements (--move-night), SIZE_MAX when this night has none.
  std::size_t move_day = SIZE_MAX;

  /// Whether line j (with line word w) starts an invoice.
  [[nodiscard]] bool is_start(std::uint64_t j, std::uint64_t w) const {
    return is_amount || j == 0 || (w >> 40) < invoice_start_threshold ||
           (j >= first_night_begin && std::binary_search(night_begin.begin(), night_begin.end(), j));
  }
  [[nodiscard]] bool is_start(std::uint64_t j) const { return is_start(j, line_stream(j)); }

  [[nodiscard]] LineDirt line_dirt(std::uint64_t w) const {
    const std::uint64_t u = w & ((std::uint64_t{1} << 40) - 1);
    if (u >= line_dirt_thresholds[7]) return LineDirt::clean;
    for (std::size_t k = 1; k < 8; ++k) {
      if (u < line_dirt_thresholds[k]) return static_cast<LineDirt>(k);
    }
    return LineDirt::clean;
  }

  [[nodiscard]] std::size_t day_of(std::uint64_t j) const {
    // Last d with day_begin[d] <= j.
    const auto it = std::upper_bound(day_begin.begin(), day_begin.end() - 1, j);
    return static_cast<std::size_t>(it - day_begin.begin()) - 1;
  }

  /// Whether line j is an exact copy of line j - 1.
  [[nodiscard]] bool is_dup(std::uint64_t j, std::uint64_t w) const {
    if (j == 0 || line_dirt(w) != LineDirt::dup) return false;
    if (!is_amount) return !is_start(j, w);
    const std::size_t d = day_of(j);
    return day_begin[d] != j;  // never across a day boundary (the copy would carry the other day's date)
  }

  [[nodiscard]] InvoiceKind invoice_kind(std::uint64_t s) const {
    const double u = unit(kind_stream(s));
    if (u < invoice_kind_thresholds[0]) return InvoiceKind::anonymous;
    if (u < invoice_kind_thresholds[1]) return InvoiceKind::cancel;
    if (u < invoice_kind_thresholds[2]) return InvoiceKind::adjust;
    return InvoiceKind::normal;
  }

  [[nodiscard]] std::size_t group_of(std::uint64_t c) const {
    const auto u = static_cast<std::uint32_t>(group_stream(c) >> 32);
    std::size_t g = 0;
    while (g + 1 < group_count && u >= group_cum[g]) ++g;
    return g;
  }

  /// Per-customer purchase-rate multiplier: q^2 with q = 0.3 + 1.4 * (mean of 4 uniforms), so
  /// mean ~1.04, coefficient of variation ~0.4, range [0.09, 2.89] (a cheap lognormal look-alike).
  [[nodiscard]] double multiplier_of(std::uint64_t c) const {
    const std::uint64_t w = multiplier_stream(c);
    const double sum = static_cast<double>(w & 0xffff) + static_cast<double>((w >> 16) & 0xffff) +
                       static_cast<double>((w >> 32) & 0xffff) + static_cast<double>(w >> 48);
    const double q = 0.3 + 1.4 * (sum / (4.0 * 65535.0));
    return q * q;
  }

  /// Whether customer c (of group g) moves from move_day on: loyal ones stop, churned ones come back.
  [[nodiscard]] bool moves(std::uint64_t c, std::size_t g) const {
    return (g == loyal_group || g == churned_group) && unit(movement_stream(c)) < opt.move_share;
  }
  /// The group whose purchase rate customer c follows on day d.
  [[nodiscard]] std::size_t behaviour_of(std::uint64_t c, std::size_t d) const {
    const std::size_t g = group_of(c);
    if (d < move_day || !moves(c, g)) return g;
    return g == loyal_group ? churned_group : loyal_group;
  }
  /// Customer c's purchase rate on day d (before its multiplier).
  [[nodiscard]] double rate_of(std::uint64_t c, std::size_t d) const {
    const std::size_t g = group_of(c);
    if (d < move_day || !moves(c, g)) return day[d].rate[g];
    return g == loyal_group ? 0.0 : day[d].rate[loyal_group];  // a stopped loyal one never buys again
  }

  [[nodiscard]] std::size_t country_of(std::uint64_t c) const {
    const auto u = static_cast<std::uint32_t>(country_stream(c) >> 32);
    std::size_t k = 0;
    while (k + 1 < countries.size() && u >= country_cum[k]) ++k;
    return k;
  }

  /// The customer of the invoice starting at line s on day d.
  [[nodiscard]] std::uint64_t customer_at(std::uint64_t s, std::size_t d) const {
    const DayInfo& info = day[d];
    const double bound = info.rate_max * max_multiplier;
    std::uint64_t c = 0;
    for (int a = 0; a < max_customer_attempts; ++a) {
      // One word per attempt: the candidate comes from its high bits (multiply-shift), the
      // acceptance uniform from its low 32 bits.
      const std::uint64_t w = candidate_stream(s * 8192 + static_cast<std::uint64_t>(a));
      c = mulhi(w, customer_count);
      const double r = rate_of(c, d);
      if (r <= 0.0) continue;
      const double u = (static_cast<double>(w & 0xffffffffULL) + 0.5) * 0x1.0p-32 * bound;
      if (u >= r * max_multiplier) continue;
      if (u < r * multiplier_of(c)) return c;
    }
    return c;  // practically unreachable
  }

  /// Product index (into the price-sorted catalog) of line m of the basket drawn at s.
  [[nodiscard]] std::size_t pick_product(std::uint64_t s, std::uint64_t m, std::size_t g,
                                         const std::vector<std::uint16_t>& used) const {
    std::size_t k = 0;
    auto taken = [&](std::size_t x) { return std::find(used.begin(), used.end(), x) != used.end(); };
    for (int a = 0; a < max_product_attempts; ++a) {
      const std::uint64_t w = product_stream(s * 65536 + (m & 1023) * 64 + static_cast<std::uint64_t>(a));
      const std::size_t bin = static_cast<std::size_t>(w >> 52);
      const std::uint64_t frac = (w >> 36) & 0xffff;
      const std::size_t lo = tier[g][bin], hi = tier[g][bin + 1];
      k = lo + static_cast<std::size_t>(((hi - lo) * frac) >> 16);
      if (!taken(k)) return k;
    }
    while (taken(k)) k = (k + 1) % product_count;
    return k;
  }

  /// Quantity and unit price (cents) of line m of the basket drawn at s for group g.
  void pick_quantity_price(std::uint64_t s, std::uint64_t m, std::size_t g, std::size_t product, std::int64_t& qty,
                           std::int64_t& price) const {
    const std::uint64_t w = quantity_stream(s * 1024 + (m & 1023));
    const auto u = static_cast<std::uint32_t>(w >> 32);
    const GroupSpec& spec = customer_groups[g];
    if (unit(w << 32 | 0x80000000ULL) < spec.p_large) {
      qty = large_quantities[(w >> 32) % large_quantities.size()];
    } else {
      std::size_t k = 0;
      while (k + 1 < quantity_values.size() && u >= quantity_cum[g][k]) ++k;
      qty = quantity_values[k];
    }
    price = catalog[product].price;
    if (qty >= 24 && price > 20) price = (price * 85 + 50) / 100;  // bulk discount
  }

  /// Total (cents) of a basket of random length drawn at s (amount layout).
  [[nodiscard]] std::int64_t basket_total(std::uint64_t s, std::size_t g, std::vector<std::uint16_t>& used) const {
    const double u = unit(basket_stream(s));
    const auto len = static_cast<std::uint64_t>(std::min(200.0, 1.0 + std::floor(std::log(u) * inverse_log_0_8)));
    used.clear();
    std::int64_t total = 0;
    for (std::uint64_t m = 0; m < len; ++m) {
      const std::size_t k = pick_product(s, m, g, used);
      used.push_back(static_cast<std::uint16_t>(k));
      std::int64_t qty = 0, price = 0;
      pick_quantity_price(s, m, g, k, qty, price);
      total += qty * price;
    }
    return total;
  }

  [[nodiscard]] std::int64_t adjust_amount(std::uint64_t s) const {
    const double u = unit(adjust_stream(s));
    const double v = std::exp(std::log(200.0) + 2.5 * u);  // 2.00 .. 2436.50 (x100 cents)
    return static_cast<std::int64_t>(std::llround(v * 100.0));
  }

  /// Customer id text (without dirt).
  char* put_customer(char* p, std::uint64_t c) const {
    if (!is_amount) return put_uint(p, 12346 + c);
    if (opt.id_style == IdStyle::cs) {
      *p++ = 'C';
      *p++ = 'S';
      return put_uint(p, 1112 + c);
    }
    char tmp[24];
    char* e = put_uint(tmp, c + 1);
    const auto n = static_cast<int>(e - tmp);
    for (int k = n; k < id_width; ++k) *p++ = '0';
    return put_str(p, std::string_view(tmp, static_cast<std::size_t>(n)));
  }

  /// Date (and time) of the invoice starting at s on day d.
  char* put_date(char* p, std::uint64_t s, std::size_t d) const {
    const DayInfo& info = day[d];
    p = put_str(p, info.date_prefix);
    if (!info.with_time) return p;
    const std::uint64_t span = day_begin[d + 1] - day_begin[d];
    const auto minute = static_cast<unsigned>(
        opening_minute +
        static_cast<std::uint64_t>((static_cast<uint128_t>(s - day_begin[d]) * minutes_open) / (span == 0 ? 1 : span)));
    const unsigned hh = minute / 60, mm = minute % 60;
    if (opt.date_style == DateStyle::iso) {
      p = put_pad2(p, hh);
      *p++ = ':';
      p = put_pad2(p, mm);
      return put_str(p, ":00");
    }
    p = put_uint(p, hh);
    *p++ = ':';
    return put_pad2(p, mm);
  }
};

}  // namespace rfmseg::gen
