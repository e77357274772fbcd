#include "gen/shop_model.hpp"

#include <cmath>
#include <cstdio>

#include "rfmseg/core/date.hpp"

namespace rfmseg::gen {

namespace {

/// 0 = Sunday ... 6 = Saturday (the core has no weekday).
unsigned weekday(std::int32_t z) { return static_cast<unsigned>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6); }

}  // namespace

ShopModel::ShopModel(const Options& options)
    : opt(options),
      line_count(options.lines),
      customer_count(options.customers),
      is_amount(options.format == Format::amount),
      max_multiplier(1.7 * 1.7) {
  const std::uint64_t seed = opt.seed;
  auto stream = [&](StreamTag t) { return RandomStream(seed, static_cast<std::uint64_t>(t)); };
  line_stream = stream(StreamTag::line);
  kind_stream = stream(StreamTag::kind);
  group_stream = stream(StreamTag::customer_group);
  multiplier_stream = stream(StreamTag::customer_multiplier);
  country_stream = stream(StreamTag::country);
  candidate_stream = stream(StreamTag::candidate);
  product_stream = stream(StreamTag::product);
  quantity_stream = stream(StreamTag::quantity);
  variant_stream = stream(StreamTag::variant);
  adjust_stream = stream(StreamTag::adjust);
  basket_stream = stream(StreamTag::basket);
  movement_stream = stream(StreamTag::movement);
  const RandomStream catalog_stream = stream(StreamTag::catalog);

  eol = opt.is_crlf ? "\r\n" : "\n";
  switch (opt.format) {
    case Format::online_retail:
      header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country";
      break;
    case Format::online_retail_ii:
      header = "Invoice,StockCode,Description,Quantity,InvoiceDate,Price,Customer ID,Country";
      break;
    case Format::amount: header = "customer_id,trans_date,tran_amount"; break;
  }
  header += eol;
  {
    std::uint64_t digits = 1;
    for (std::uint64_t v = customer_count; v >= 10; v /= 10) ++digits;
    id_width = static_cast<int>(std::max<std::uint64_t>(5, digits));
  }

  // Dirt thresholds.
  const double r = opt.dirt;
  // In the order of LineDirt after `clean`.
  const std::array<double, 7> lw = {dirt_weight_duplicate, dirt_weight_negative_quantity, dirt_weight_zero_price,
                                    dirt_weight_quoted,    dirt_weight_empty_description, dirt_weight_id_dot0,
                                    dirt_weight_latin1};
  double acc = 0.0;
  line_dirt_thresholds[0] = 0;
  for (std::size_t k = 0; k < lw.size(); ++k) {
    acc += r * lw[k];
    line_dirt_thresholds[k + 1] =
        static_cast<std::uint64_t>(std::min(1.0, acc) * static_cast<double>(std::uint64_t{1} << 40));
  }
  invoice_kind_thresholds = {r * dirt_weight_missing_id, r * (dirt_weight_missing_id + dirt_weight_cancel),
                             r * (dirt_weight_missing_id + dirt_weight_cancel + dirt_weight_adjust)};

  // Groups and countries: cumulative 32-bit thresholds.
  double total = 0.0;
  for (const auto& g : customer_groups) total += g.share;
  acc = 0.0;
  for (std::size_t g = 0; g < group_count; ++g) {
    acc += customer_groups[g].share / total;
    group_cum[g] = static_cast<std::uint32_t>(std::min(4294967295.0, acc * 4294967296.0));
  }
  total = 0.0;
  for (const auto& c : countries) total += c.weight;
  acc = 0.0;
  for (std::size_t k = 0; k < countries.size(); ++k) {
    acc += countries[k].weight / total;
    country_cum[k] = static_cast<std::uint32_t>(std::min(4294967295.0, acc * 4294967296.0));
  }
  for (std::size_t g = 0; g < group_count; ++g) {
    double sum = 0.0;
    for (double w : customer_groups[g].qty_weights) sum += w;
    double a = 0.0;
    for (std::size_t k = 0; k < quantity_values.size(); ++k) {
      a += customer_groups[g].qty_weights[k] / sum;
      quantity_cum[g][k] = static_cast<std::uint32_t>(std::min(4294967295.0, a * 4294967296.0));
    }
  }

  // Catalog: unique stock codes, composed descriptions, lognormal prices; sorted by price.
  catalog.resize(product_count);
  for (std::size_t k = 0; k < product_count; ++k) {
    const std::uint64_t w1 = catalog_stream(3 * k), w2 = catalog_stream(3 * k + 1), w3 = catalog_stream(3 * k + 2);
    Product& prod = catalog[k];
    prod.code = std::to_string(10002 + 17 * k + w1 % 17);
    if ((w1 >> 8) % 100 < 15) prod.code += static_cast<char>('A' + (w1 >> 16) % 7);
    prod.desc = std::string(prefix_words[(w2 >> 0) % prefix_words.size()]) +
                colour_words[(w2 >> 8) % colour_words.size()] + " " + motif_words[(w2 >> 16) % motif_words.size()] +
                " " + item_words[(w2 >> 24) % item_words.size()];
    const double u1 = unit(w3), u2 = unit(mix64(w3));
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
    double price = 210.0 * std::exp(0.8 * z);
    if ((w1 >> 32) % 100 < 3) price *= 8.0;
    prod.price = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::llround(price)), 12, 50000);
  }
  std::sort(catalog.begin(), catalog.end(), [](const Product& x, const Product& y) {
    return x.price != y.price ? x.price < y.price : x.code < y.code;
  });
  for (std::size_t g = 0; g < group_count; ++g) {
    for (std::size_t i = 0; i <= tier_bins; ++i) {
      const double q = std::pow(static_cast<double>(i) / tier_bins, customer_groups[g].gamma);
      tier[g][i] = static_cast<std::uint16_t>(std::min<double>(product_count - 1, std::floor(q * product_count)));
    }
  }

  // Days: activity windows, weights, date prefixes, line boundaries. The days of later nights
  // (--night) continue the period: the groups active to its end stay active at the same rates.
  const std::uint64_t days = opt.days;
  const std::uint64_t total_days = opt.total_days();
  if (opt.move_night <= opt.night) move_day = static_cast<std::size_t>(days + (opt.move_night - 2) * opt.night_days);
  std::array<std::uint64_t, group_count> win_lo{}, win_hi{};
  for (std::size_t g = 0; g < group_count; ++g) {
    const auto dd = static_cast<double>(days);
    std::uint64_t lo = static_cast<std::uint64_t>(std::floor(customer_groups[g].lo * dd));
    std::uint64_t hi = static_cast<std::uint64_t>(std::llround(customer_groups[g].hi * dd));
    if (customer_groups[g].hi >= 1.0) {
      hi = days;
      if (customer_groups[g].lo > 0.0) {
        lo = days -
             std::max<std::uint64_t>(1, static_cast<std::uint64_t>(std::llround((1.0 - customer_groups[g].lo) * dd)));
      }
    }
    hi = std::max(hi, lo + 1);
    win_lo[g] = std::min(lo, days - 1);
    win_hi[g] = std::min(hi, days);
  }
  static constexpr std::array<const char*, 12> month_abbreviations = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  day.resize(total_days);
  std::vector<double> weight(total_days, 0.0);
  for (std::uint64_t d = 0; d < total_days; ++d) {
    // Options keep the period within the years 1000..9999: int32 day numbers, 4-digit years.
    const auto z = static_cast<std::int32_t>(opt.start_day + static_cast<std::int64_t>(d));
    const CivilDate c = civil_from_days(z);
    const int y = c.year;
    // ISO is the core's format_day; the core formats no other date layout, so the rest stay here.
    char buf[48] = "";
    switch (opt.date_style) {
      case DateStyle::us: std::snprintf(buf, sizeof buf, "%u/%u/%d ", c.month, c.day, y); break;
      case DateStyle::eu: std::snprintf(buf, sizeof buf, "%u/%u/%d ", c.day, c.month, y); break;
      case DateStyle::us2: std::snprintf(buf, sizeof buf, "%u/%u/%02d ", c.month, c.day, y % 100); break;
      case DateStyle::iso: break;
      case DateStyle::mon:
        std::snprintf(buf, sizeof buf, "%02u-%s-%02d", c.day, month_abbreviations[c.month - 1], y % 100);
        break;
      case DateStyle::ymd: std::snprintf(buf, sizeof buf, "%04d%02u%02u", y, c.month, c.day); break;
    }
    DayInfo& info = day[d];
    info.date_prefix = opt.date_style == DateStyle::iso ? format_day(z) + " " : std::string(buf);
    info.with_time = opt.date_style != DateStyle::mon && opt.date_style != DateStyle::ymd;
    double density = 0.0;
    for (std::size_t g = 0; g < group_count; ++g) {
      if ((d >= win_lo[g] && d < win_hi[g]) || (d >= days && customer_groups[g].hi >= 1.0)) {
        info.rate[g] = customer_groups[g].weight / static_cast<double>(win_hi[g] - win_lo[g]);
        info.rate_max = std::max(info.rate_max, info.rate[g]);
        density += customer_groups[g].share * info.rate[g];
      }
    }
    const unsigned wd = weekday(z);
    const double week = days < 7 ? 1.0 : wd == 6 ? 0.0 : wd == 0 ? 0.6 : 1.0;
    weight[d] = density * week;
  }
  double wsum = 0.0;
  for (std::uint64_t d = 0; d < days; ++d) wsum += weight[d];
  if (wsum <= 0.0) {
    for (auto& w : weight) w = 1.0;
    wsum = static_cast<double>(days);
  }
  day_begin.assign(days + 1, 0);
  double cum = 0.0;
  for (std::uint64_t d = 1; d < days; ++d) {
    cum += weight[d - 1];
    std::uint64_t l = static_cast<std::uint64_t>(std::llround(static_cast<double>(line_count) * (cum / wsum)));
    l = std::min(std::max(l, day_begin[d - 1]), line_count);
    while (l < line_count && !is_start(l)) ++l;  // day boundaries sit on invoice starts
    day_begin[d] = l;
  }
  day_begin[days] = line_count;
  // Later nights: the same lines per unit of weight; each night starts with an invoice.
  day_begin.resize(total_days + 1, line_count);
  if (total_days > days) {
    night_begin.push_back(line_count);
    first_night_begin = line_count;
  }
  cum = 0.0;
  for (std::uint64_t d = days + 1; d <= total_days; ++d) {
    cum += weight[d - 1];
    std::uint64_t l =
        line_count + static_cast<std::uint64_t>(std::llround(static_cast<double>(line_count) * (cum / wsum)));
    l = std::max(l, day_begin[d - 1]);
    if (d < total_days && (d - days) % opt.night_days == 0) {
      if (l != night_begin.back()) night_begin.push_back(l);  // forced start
    } else {
      while (d < total_days && !is_start(l)) ++l;
    }
    day_begin[d] = l;
  }
  line_count = day_begin[total_days];
}

}  // namespace rfmseg::gen
