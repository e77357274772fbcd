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
#include "gen/types.hpp"

namespace rfmseg::gen {

constexpr std::array<int, 12> kQtyValues = {1, 2, 3, 4, 6, 8, 10, 12, 16, 24, 36, 48};
constexpr std::array<int, 12> kLargeQty = {72, 96, 100, 120, 144, 200, 240, 288, 400, 480, 600, 1000};

struct GroupSpec {
  const char* name;
  double share;   // fraction of customers
  double weight;  // relative number of purchases per customer over its window
  double lo;      // active window [lo, hi) as fractions of the period
  double hi;
  double gamma;   // product price tier exponent: < 1 pricier, > 1 cheaper
  std::array<double, 12> qty_weights;
  double p_large;  // probability of a wholesale-size quantity
};

constexpr std::array<GroupSpec, 5> kGroups = {{
    {"loyal", 0.12, 8.0, 0.0, 1.0, 0.55, {2, 2, 3, 3, 6, 3, 2, 12, 4, 10, 3, 4}, 0.03},
    {"regular", 0.28, 2.5, 0.0, 1.0, 1.0, {12, 8, 6, 6, 8, 3, 2, 6, 1, 3, 0.5, 0.5}, 0.005},
    {"new", 0.20, 1.0, 0.84, 1.0, 1.0, {14, 9, 7, 6, 7, 3, 2, 5, 1, 2, 0.5, 0.5}, 0.005},
    {"at_risk", 0.15, 4.0, 0.0, 0.67, 0.8, {5, 5, 5, 5, 8, 4, 3, 9, 3, 6, 2, 2}, 0.015},
    {"churned", 0.25, 0.8, 0.0, 0.30, 1.8, {30, 14, 6, 5, 3, 1, 1, 1, 0, 0, 0, 0}, 0.0},
}};
constexpr std::size_t kNumGroups = kGroups.size();

struct Country {
  const char* name;
  double weight;
};
constexpr std::array<Country, 37> kCountries = {{
    {"United Kingdom", 885}, {"Germany", 22}, {"France", 20}, {"EIRE", 15}, {"Spain", 7},
    {"Netherlands", 6}, {"Belgium", 6}, {"Switzerland", 5}, {"Portugal", 4}, {"Australia", 3},
    {"Norway", 3}, {"Italy", 3}, {"Channel Islands", 2}, {"Finland", 2}, {"Cyprus", 2},
    {"Sweden", 2}, {"Austria", 2}, {"Denmark", 2}, {"Japan", 2}, {"Poland", 2}, {"USA", 1},
    {"Israel", 1}, {"Unspecified", 1}, {"Singapore", 1}, {"Iceland", 1}, {"Canada", 1},
    {"Greece", 1}, {"Malta", 1}, {"United Arab Emirates", 1}, {"European Community", 1},
    {"RSA", 1}, {"Lebanon", 1}, {"Lithuania", 1}, {"Brazil", 1}, {"Czech Republic", 1},
    {"Bahrain", 1}, {"Saudi Arabia", 1},
}};

constexpr std::array<const char*, 24> kColours = {
    "WHITE", "RED",   "PINK",    "BLUE",    "GREEN",  "IVORY",  "CREAM",   "BLACK",
    "SILVER", "GOLD", "PASTEL",  "RETRO",   "VINTAGE", "ANTIQUE", "ROSE",   "LILAC",
    "ORANGE", "YELLOW", "NATURAL", "WOODEN", "GLASS",  "ENAMEL", "ZINC",    "FELTCRAFT"};
constexpr std::array<const char*, 24> kMotifs = {
    "HANGING HEART", "REGENCY", "SPACEBOY", "DOLLY GIRL", "PAISLEY", "POLKADOT",
    "STRAWBERRY", "CHRISTMAS", "UNION JACK", "BIRD", "OWL", "SKULL",
    "LOVE", "HEART", "STAR", "FLOWER", "BUNNY", "CIRCUS PARADE",
    "JUNGLE", "ALPHABET", "APPLE", "LEAF", "DAISY", "PARIS"};
constexpr std::array<const char*, 30> kItems = {
    "T-LIGHT HOLDER", "LUNCH BAG", "CAKE TINS", "TEACUP AND SAUCER", "BUNTING", "MUG",
    "DOORMAT", "CUSHION COVER", "HOT WATER BOTTLE", "PHOTO FRAME", "NOTEBOOK", "JAM JAR",
    "LANTERN", "CAKE STAND", "WALL CLOCK", "CANDLE", "TISSUES", "GIFT BAG",
    "WRAP", "NAPKINS", "PAPER CHAIN KIT", "ALARM CLOCK", "SHOPPER BAG", "CHOPSTICKS",
    "COASTER", "MAGNET", "SIGN", "TRINKET BOX", "BAKING SET", "EGG CUP"};
constexpr std::array<const char*, 10> kPrefixes = {"", "", "", "", "SET OF 3 ", "SET OF 6 ",
                                                   "JUMBO ", "SMALL ", "LARGE ", "PACK OF 12 "};
constexpr std::array<const char*, 6> kQuoteWords = {"PANTRY", "REGENCY", "VINTAGE", "PAISLEY",
                                                    "SPACEBOY", "DOLLY GIRL"};

struct Product {
  std::string code;
  std::string desc;
  i64 price = 0;  // cents
};

constexpr std::size_t kProducts = 4000;
constexpr std::size_t kTierBins = 4096;
constexpr u64 kInvoiceBase = 536365;
constexpr u64 kStartThreshold = (u64{1} << 24) / 5;  // P(line starts an invoice) = 1/5
constexpr int kMaxProductAttempts = 64;
constexpr int kMaxCustomerAttempts = 4096;
constexpr double kInvLog08 = -4.481420117724551;   // 1 / ln(0.8): geometric basket sizes, mean 5
constexpr int kMinuteOpen = 7 * 60;
constexpr int kMinutesOpen = 13 * 60;

// Relative dirt weights: fraction of lines = dirt * weight.
constexpr double kWMissing = 0.31, kWCancel = 0.15, kWAdjust = 0.02;
constexpr double kWDup = 0.15;  // applied to non-start lines only: ~0.12 of all lines
constexpr double kWNegQty = 0.05, kWZeroPrice = 0.05, kWQuoted = 0.10, kWEmptyDesc = 0.05,
                 kWIdDot0 = 0.10, kWLatin1 = 0.05;

enum class InvKind : std::uint8_t { normal, anonymous, cancel, adjust };
enum class LineDirt : std::uint8_t { clean, dup, neg_qty, zero_price, quoted, empty_desc, id_dot0, latin1 };

struct DayInfo {
  std::string date_prefix;  // e.g. "12/1/2010 " (us) or "2010-12-01 " (iso) or the whole date
  bool with_time = true;
  std::array<double, kNumGroups> rate{};  // per-customer purchase rate of each group (0 when inactive)
  double rate_max = 0.0;
};

class Model {
 public:
  explicit Model(const Options& opt);

  const Options& opt;
  u64 n_lines;
  u64 n_customers;
  bool amount;
  std::vector<Product> catalog;  // sorted by price
  std::array<std::array<std::uint16_t, kTierBins + 1>, kNumGroups> tier{};
  std::array<std::array<u32, kQtyValues.size()>, kNumGroups> qty_cum{};
  std::array<u32, kNumGroups> group_cum{};
  std::array<u32, kCountries.size()> country_cum{};
  std::vector<DayInfo> day;
  std::vector<u64> b;  // b[d] = first line of day d (an invoice start), b[days] = n_lines
  double mult_max;
  std::array<u64, 8> line_thresh{};  // cumulative 40-bit thresholds of the line dirt kinds
  std::array<double, 3> kind_thresh{};
  std::string eol;
  std::string header;
  int id_width = 5;

  Stream s_line, s_kind, s_group, s_mult, s_country, s_cand, s_product, s_qty, s_variant, s_adjust, s_basket;

  [[nodiscard]] bool is_start(u64 j, u64 w) const { return amount || j == 0 || (w >> 40) < kStartThreshold; }
  [[nodiscard]] bool is_start(u64 j) const { return amount || j == 0 || (s_line(j) >> 40) < kStartThreshold; }

  [[nodiscard]] LineDirt line_dirt(u64 w) const {
    const u64 u = w & ((u64{1} << 40) - 1);
    if (u >= line_thresh[7]) return LineDirt::clean;
    for (std::size_t k = 1; k < 8; ++k) {
      if (u < line_thresh[k]) return static_cast<LineDirt>(k);
    }
    return LineDirt::clean;
  }

  [[nodiscard]] std::size_t day_of(u64 j) const {
    // Last d with b[d] <= j.
    const auto it = std::upper_bound(b.begin(), b.end() - 1, j);
    return static_cast<std::size_t>(it - b.begin()) - 1;
  }

  /// Whether line j is an exact copy of line j - 1.
  [[nodiscard]] bool is_dup(u64 j, u64 w) const {
    if (j == 0 || line_dirt(w) != LineDirt::dup) return false;
    if (!amount) return !is_start(j, w);
    const std::size_t d = day_of(j);
    return b[d] != j;  // never across a day boundary (the copy would carry the other day's date)
  }

  [[nodiscard]] InvKind inv_kind(u64 s) const {
    const double u = unit(s_kind(s));
    if (u < kind_thresh[0]) return InvKind::anonymous;
    if (u < kind_thresh[1]) return InvKind::cancel;
    if (u < kind_thresh[2]) return InvKind::adjust;
    return InvKind::normal;
  }

  [[nodiscard]] std::size_t group_of(u64 c) const {
    const auto u = static_cast<u32>(s_group(c) >> 32);
    std::size_t g = 0;
    while (g + 1 < kNumGroups && u >= group_cum[g]) ++g;
    return g;
  }

  /// Per-customer purchase-rate multiplier: q^2 with q = 0.3 + 1.4 * (mean of 4 uniforms), so
  /// mean ~1.04, coefficient of variation ~0.4, range [0.09, 2.89] (a cheap lognormal look-alike).
  [[nodiscard]] double mult_of(u64 c) const {
    const u64 w = s_mult(c);
    const double sum = static_cast<double>(w & 0xffff) + static_cast<double>((w >> 16) & 0xffff) +
                       static_cast<double>((w >> 32) & 0xffff) + static_cast<double>(w >> 48);
    const double q = 0.3 + 1.4 * (sum / (4.0 * 65535.0));
    return q * q;
  }

  [[nodiscard]] std::size_t country_of(u64 c) const {
    const auto u = static_cast<u32>(s_country(c) >> 32);
    std::size_t k = 0;
    while (k + 1 < kCountries.size() && u >= country_cum[k]) ++k;
    return k;
  }

  /// The customer of the invoice starting at line s on day d.
  [[nodiscard]] u64 customer_at(u64 s, std::size_t d) const {
    const DayInfo& info = day[d];
    const double bound = info.rate_max * mult_max;
    u64 c = 0;
    for (int a = 0; a < kMaxCustomerAttempts; ++a) {
      // One word per attempt: the candidate comes from its high bits (multiply-shift), the
      // acceptance uniform from its low 32 bits.
      const u64 w = s_cand(s * 8192 + static_cast<u64>(a));
      c = mulhi(w, n_customers);
      const double r = info.rate[group_of(c)];
      if (r <= 0.0) continue;
      const double u = (static_cast<double>(w & 0xffffffffULL) + 0.5) * 0x1.0p-32 * bound;
      if (u >= r * mult_max) continue;
      if (u < r * mult_of(c)) return c;
    }
    return c;  // practically unreachable
  }

  /// Product index (into the price-sorted catalog) of line m of the basket drawn at s.
  [[nodiscard]] std::size_t pick_product(u64 s, u64 m, std::size_t g, const std::vector<std::uint16_t>& used) const {
    std::size_t k = 0;
    auto taken = [&](std::size_t x) { return std::find(used.begin(), used.end(), x) != used.end(); };
    for (int a = 0; a < kMaxProductAttempts; ++a) {
      const u64 w = s_product(s * 65536 + (m & 1023) * 64 + static_cast<u64>(a));
      const std::size_t bin = static_cast<std::size_t>(w >> 52);
      const u64 frac = (w >> 36) & 0xffff;
      const std::size_t lo = tier[g][bin], hi = tier[g][bin + 1];
      k = lo + static_cast<std::size_t>(((hi - lo) * frac) >> 16);
      if (!taken(k)) return k;
    }
    while (taken(k)) k = (k + 1) % kProducts;
    return k;
  }

  /// Quantity and unit price (cents) of line m of the basket drawn at s for group g.
  void pick_qty_price(u64 s, u64 m, std::size_t g, std::size_t product, i64& qty, i64& price) const {
    const u64 w = s_qty(s * 1024 + (m & 1023));
    const auto u = static_cast<u32>(w >> 32);
    const GroupSpec& spec = kGroups[g];
    if (unit(w << 32 | 0x80000000ULL) < spec.p_large) {
      qty = kLargeQty[(w >> 32) % kLargeQty.size()];
    } else {
      std::size_t k = 0;
      while (k + 1 < kQtyValues.size() && u >= qty_cum[g][k]) ++k;
      qty = kQtyValues[k];
    }
    price = catalog[product].price;
    if (qty >= 24 && price > 20) price = (price * 85 + 50) / 100;  // bulk discount
  }

  /// Total (cents) of a basket of random length drawn at s (amount layout).
  [[nodiscard]] i64 basket_total(u64 s, std::size_t g, std::vector<std::uint16_t>& used) const {
    const double u = unit(s_basket(s));
    const auto len = static_cast<u64>(std::min(200.0, 1.0 + std::floor(std::log(u) * kInvLog08)));
    used.clear();
    i64 total = 0;
    for (u64 m = 0; m < len; ++m) {
      const std::size_t k = pick_product(s, m, g, used);
      used.push_back(static_cast<std::uint16_t>(k));
      i64 qty = 0, price = 0;
      pick_qty_price(s, m, g, k, qty, price);
      total += qty * price;
    }
    return total;
  }

  [[nodiscard]] i64 adjust_amount(u64 s) const {
    const double u = unit(s_adjust(s));
    const double v = std::exp(std::log(200.0) + 2.5 * u);  // 2.00 .. 2436.50 (x100 cents)
    return static_cast<i64>(std::llround(v * 100.0));
  }

  /// Customer id text (without dirt).
  char* put_customer(char* p, u64 c) const {
    if (!amount) return put_uint(p, 12346 + c);
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
  char* put_date(char* p, u64 s, std::size_t d) const {
    const DayInfo& info = day[d];
    p = put_str(p, info.date_prefix);
    if (!info.with_time) return p;
    const u64 span = b[d + 1] - b[d];
    const auto minute = static_cast<unsigned>(kMinuteOpen + static_cast<u64>(
        (static_cast<u128>(s - b[d]) * kMinutesOpen) / (span == 0 ? 1 : span)));
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
