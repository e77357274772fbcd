#include "gen/shop_model.hpp"

#include <cmath>
#include <cstdio>

#include "rfmseg/core/date.hpp"

namespace rfmseg::gen {

namespace {

/// 0 = Sunday ... 6 = Saturday (the core has no weekday).
unsigned weekday(std::int32_t z) { return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6); }

}  // namespace

Model::Model(const Options& options)
    : opt(options),
      n_lines(options.lines),
      n_customers(options.customers),
      amount(options.format == Format::amount),
      mult_max(1.7 * 1.7) {
  const u64 seed = opt.seed;
  auto stream = [&](Tag t) { return Stream(seed, static_cast<u64>(t)); };
  s_line = stream(kTagLine);
  s_kind = stream(kTagKind);
  s_group = stream(kTagCustGroup);
  s_mult = stream(kTagCustMult);
  s_country = stream(kTagCountry);
  s_cand = stream(kTagCandidate);
  s_product = stream(kTagProduct);
  s_qty = stream(kTagQuantity);
  s_variant = stream(kTagVariant);
  s_adjust = stream(kTagAdjust);
  s_basket = stream(kTagBasket);
  const Stream s_catalog = stream(kTagCatalog);

  eol = opt.is_crlf ? "\r\n" : "\n";
  switch (opt.format) {
    case Format::online_retail:
      header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";
      break;
    case Format::online_retail_ii:
      header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";
      break;
    case Format::amount:
      header = "customer_id,trans_date,tran_amount";
      break;
  }
  header += eol;
  {
    u64 digits = 1;
    for (u64 v = n_customers; v >= 10; v /= 10) ++digits;
    id_width = static_cast<int>(std::max<u64>(5, digits));
  }

  // Dirt thresholds.
  const double r = opt.dirt;
  const std::array<double, 7> lw = {kWDup, kWNegQty, kWZeroPrice, kWQuoted, kWEmptyDesc, kWIdDot0, kWLatin1};
  double acc = 0.0;
  line_thresh[0] = 0;
  for (std::size_t k = 0; k < lw.size(); ++k) {
    acc += r * lw[k];
    line_thresh[k + 1] = static_cast<u64>(std::min(1.0, acc) * static_cast<double>(u64{1} << 40));
  }
  kind_thresh = {r * kWMissing, r * (kWMissing + kWCancel), r * (kWMissing + kWCancel + kWAdjust)};

  // Groups and countries: cumulative 32-bit thresholds.
  double total = 0.0;
  for (const auto& g : kGroups) total += g.share;
  acc = 0.0;
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    acc += kGroups[g].share / total;
    group_cum[g] = static_cast<u32>(std::min(4294967295.0, acc * 4294967296.0));
  }
  total = 0.0;
  for (const auto& c : kCountries) total += c.weight;
  acc = 0.0;
  for (std::size_t k = 0; k < kCountries.size(); ++k) {
    acc += kCountries[k].weight / total;
    country_cum[k] = static_cast<u32>(std::min(4294967295.0, acc * 4294967296.0));
  }
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    double sum = 0.0;
    for (double w : kGroups[g].qty_weights) sum += w;
    double a = 0.0;
    for (std::size_t k = 0; k < kQtyValues.size(); ++k) {
      a += kGroups[g].qty_weights[k] / sum;
      qty_cum[g][k] = static_cast<u32>(std::min(4294967295.0, a * 4294967296.0));
    }
  }

  // Catalog: unique stock codes, composed descriptions, lognormal prices; sorted by price.
  catalog.resize(kProducts);
  for (std::size_t k = 0; k < kProducts; ++k) {
    const u64 w1 = s_catalog(3 * k), w2 = s_catalog(3 * k + 1), w3 = s_catalog(3 * k + 2);
    Product& prod = catalog[k];
    prod.code = std::to_string(10002 + 17 * k + w1 % 17);
    if ((w1 >> 8) % 100 < 15) prod.code += static_cast<char>('A' + (w1 >> 16) % 7);
    prod.desc = std::string(kPrefixes[(w2 >> 0) % kPrefixes.size()]) + kColours[(w2 >> 8) % kColours.size()] + " " +
                kMotifs[(w2 >> 16) % kMotifs.size()] + " " + kItems[(w2 >> 24) % kItems.size()];
    const double u1 = unit(w3), u2 = unit(mix64(w3));
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    double price = 210.0 * std::exp(0.8 * z);
    if ((w1 >> 32) % 100 < 3) price *= 8.0;
    prod.price = std::clamp<i64>(static_cast<i64>(std::llround(price)), 12, 50000);
  }
  std::sort(catalog.begin(), catalog.end(), [](const Product& x, const Product& y) {
    return x.price != y.price ? x.price < y.price : x.code < y.code;
  });
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    for (std::size_t i = 0; i <= kTierBins; ++i) {
      const double q = std::pow(static_cast<double>(i) / kTierBins, kGroups[g].gamma);
      tier[g][i] = static_cast<std::uint16_t>(std::min<double>(kProducts - 1, std::floor(q * kProducts)));
    }
  }

  // Days: activity windows, weights, date prefixes, line boundaries.
  const u64 days = opt.days;
  std::array<u64, kNumGroups> win_lo{}, win_hi{};
  for (std::size_t g = 0; g < kNumGroups; ++g) {
    const auto dd = static_cast<double>(days);
    u64 lo = static_cast<u64>(std::floor(kGroups[g].lo * dd));
    u64 hi = static_cast<u64>(std::llround(kGroups[g].hi * dd));
    if (kGroups[g].hi >= 1.0) {
      hi = days;
      if (kGroups[g].lo > 0.0) lo = days - std::max<u64>(1, static_cast<u64>(std::llround((1.0 - kGroups[g].lo) * dd)));
    }
    hi = std::max(hi, lo + 1);
    win_lo[g] = std::min(lo, days - 1);
    win_hi[g] = std::min(hi, days);
  }
  static constexpr std::array<const char*, 12> kMon = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  day.resize(days);
  std::vector<double> weight(days, 0.0);
  for (u64 d = 0; d < days; ++d) {
    // Options keep the period within the years 1000..9999: int32 day numbers, 4-digit years.
    const auto z = static_cast<std::int32_t>(opt.start_day + static_cast<i64>(d));
    const CivilDate c = civil_from_days(z);
    const int y = c.year;
    // ISO is the core's format_day; the core formats no other date layout, so the rest stay here.
    char buf[48] = "";
    switch (opt.date_style) {
      case DateStyle::us:
        std::snprintf(buf, sizeof buf, "%u/%u/%d ", c.month, c.day, y);
        break;
      case DateStyle::eu:
        std::snprintf(buf, sizeof buf, "%u/%u/%d ", c.day, c.month, y);
        break;
      case DateStyle::us2:
        std::snprintf(buf, sizeof buf, "%u/%u/%02d ", c.month, c.day, y % 100);
        break;
      case DateStyle::iso:
        break;
      case DateStyle::mon:
        std::snprintf(buf, sizeof buf, "%02u-%s-%02d", c.day, kMon[c.month - 1], y % 100);
        break;
      case DateStyle::ymd:
        std::snprintf(buf, sizeof buf, "%04d%02u%02u", y, c.month, c.day);
        break;
    }
    DayInfo& info = day[d];
    info.date_prefix = opt.date_style == DateStyle::iso ? format_day(z) + " " : std::string(buf);
    info.with_time = opt.date_style != DateStyle::mon && opt.date_style != DateStyle::ymd;
    double density = 0.0;
    for (std::size_t g = 0; g < kNumGroups; ++g) {
      if (d >= win_lo[g] && d < win_hi[g]) {
        info.rate[g] = kGroups[g].weight / static_cast<double>(win_hi[g] - win_lo[g]);
        info.rate_max = std::max(info.rate_max, info.rate[g]);
        density += kGroups[g].share * info.rate[g];
      }
    }
    const unsigned wd = weekday(z);
    const double week = days < 7 ? 1.0 : wd == 6 ? 0.0 : wd == 0 ? 0.6 : 1.0;
    weight[d] = density * week;
  }
  double wsum = 0.0;
  for (double w : weight) wsum += w;
  if (wsum <= 0.0) {
    for (auto& w : weight) w = 1.0;
    wsum = static_cast<double>(days);
  }
  b.assign(days + 1, 0);
  double cum = 0.0;
  for (u64 d = 1; d < days; ++d) {
    cum += weight[d - 1];
    u64 l = static_cast<u64>(std::llround(static_cast<double>(n_lines) * (cum / wsum)));
    l = std::min(std::max(l, b[d - 1]), n_lines);
    while (l < n_lines && !is_start(l)) ++l;  // day boundaries sit on invoice starts
    b[d] = l;
  }
  b[days] = n_lines;
}

}  // namespace rfmseg::gen
