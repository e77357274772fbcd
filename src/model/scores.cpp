#include "rfmseg/model/scores.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <stdexcept>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/int128.hpp"
#include "rfmseg/model/scale.hpp"
#include "rfmseg/parallel/reduce.hpp"
#include "rfmseg/parallel/select.hpp"

namespace rfmseg {

// ---------------------------------------------------------------- scores

const std::array<std::string, 8>& classic_segment_names() {
  static const std::array<std::string, 8> names = {"important value",    "important development", "important retention",
                                                   "important win-back", "general value",         "general development",
                                                   "general retention",  "general win-back"};
  return names;
}

std::int8_t classic_segment(double recency, double frequency, double monetary,
                            const std::array<double, feature_count>& reference) noexcept {
  const bool recent = recency < reference[0];
  const bool frequent = frequency > reference[1];
  const bool valuable = monetary > reference[2];
  return static_cast<std::int8_t>((valuable ? 0 : 4) + (recent ? 0 : 2) + (frequent ? 0 : 1));
}

namespace {

// Quintile index 1..5: one plus the number of cut points strictly below the key.
std::int8_t quintile(std::uint64_t key, std::span<const std::uint64_t> cuts) {
  std::int8_t s = 1;
  for (auto c : cuts) s = static_cast<std::int8_t>(s + (c < key ? 1 : 0));
  return s;
}

std::vector<std::uint64_t> sorted(std::vector<std::uint64_t> keys) {
  std::sort(keys.begin(), keys.end());
  return keys;
}

void validate(const ScoreConfig& config) {
  if (config.high_value_threshold) {
    if (!std::isfinite(*config.high_value_threshold)) throw ConfigError("high-value threshold must be a finite amount");
  } else if (!(config.high_value_top_percent > 0 && config.high_value_top_percent <= 100)) {
    throw ConfigError("high-value top percent must be in (0, 100], got " +
                      std::to_string(config.high_value_top_percent));
  }
}

// The per-row rule, from the parameters in `out` (cut points, references, threshold). The cut
// points are compared as order keys: a recency or frequency cut is an integer held exactly in a
// double and a monetary cut is the selected double itself, so the keys equal the selected ones.
void assign_scores(const CustomerTable& table, RfmScores& out) {
  const std::size_t local = table.size();
  out.r_score.resize(local);
  out.f_score.resize(local);
  out.m_score.resize(local);
  out.rfm_sum.resize(local);
  out.rfm_code.resize(local);
  out.segment.resize(local);
  out.high_value.resize(local);
  if (local == 0) return;  // (no customers at all: the parameters are NaN)
  std::array<std::array<std::uint64_t, 4>, feature_count> cuts{};
  for (std::size_t j = 0; j < 4; ++j) {
    cuts[0][j] = order_key(static_cast<std::int64_t>(out.cut_points[0][j]));
    cuts[1][j] = order_key(static_cast<std::int64_t>(out.cut_points[1][j]));
    cuts[2][j] = order_key(out.cut_points[2][j]);
  }
  const std::uint64_t threshold_key = order_key(out.high_value_threshold);
  for (std::size_t i = 0; i < local; ++i) {
    const std::uint64_t m_key = order_key(table.monetary[i]);
    const auto r =
        static_cast<std::int8_t>(6 - quintile(order_key(static_cast<std::int64_t>(table.recency[i])), cuts[0]));
    const auto f = quintile(order_key(table.frequency[i]), cuts[1]);
    const auto m = quintile(m_key, cuts[2]);
    out.r_score[i] = r;
    out.f_score[i] = f;
    out.m_score[i] = m;
    out.rfm_sum[i] = static_cast<std::int16_t>(r + f + m);
    out.rfm_code[i] = static_cast<std::int16_t>(100 * r + 10 * f + m);
    out.segment[i] =
        classic_segment(table.recency[i], static_cast<double>(table.frequency[i]), table.monetary[i], out.reference);
    out.high_value[i] = m_key >= threshold_key ? 1 : 0;
  }
}

}  // namespace

RfmScores score_customers(const mpi::Comm& comm, const CustomerTable& table, const ScoreConfig& config) {
  validate(config);
  const std::size_t local = table.size();
  bool has_nan = false;
  for (double m : table.monetary) has_nan = has_nan || std::isnan(m);
  if (mpi::any_of(comm, has_nan)) throw InputError("RFM scores: a monetary value is NaN");

  // Order keys of the three features: recency, frequency, monetary.
  std::array<std::vector<std::uint64_t>, feature_count> keys;
  for (auto& k : keys) k.resize(local);
  for (std::size_t i = 0; i < local; ++i) {
    keys[0][i] = order_key(static_cast<std::int64_t>(table.recency[i]));
    keys[1][i] = order_key(table.frequency[i]);
    keys[2][i] = order_key(table.monetary[i]);
  }
  const auto n = mpi::allreduce<std::uint64_t>(comm, local, mpi::Op::sum);

  // Wanted order statistics per feature: the 4 quintile cuts, then the median pair, then (M only)
  // the high-value threshold.
  std::array<std::vector<std::uint64_t>, feature_count> sorted_keys;
  std::array<SelectionQuery, feature_count> queries;
  const bool by_median = config.reference == SegmentReference::median;
  const bool by_percent = !config.high_value_threshold.has_value();
  const std::uint64_t top =
      by_percent ? static_cast<std::uint64_t>(std::ceil(config.high_value_top_percent * static_cast<double>(n) / 100.0))
                 : 0;
  if (n > 0) {
    for (std::size_t d = 0; d < feature_count; ++d) {
      sorted_keys[d] = sorted(keys[d]);
      queries[d].sorted_keys = sorted_keys[d];
      for (std::uint64_t j = 1; j <= 4; ++j) queries[d].ranks.push_back((j * n + 4) / 5);  // ceil(j·n/5)
      if (by_median) {
        queries[d].ranks.push_back((n + 1) / 2);
        queries[d].ranks.push_back(n / 2 + 1);
      }
    }
    if (by_percent) queries[2].ranks.push_back(n - std::min(std::max<std::uint64_t>(top, 1), n) + 1);
  }
  const auto selected = global_select(comm, queries);

  RfmScores out;
  const double nan = std::numeric_limits<double>::quiet_NaN();
  auto decode = [](std::size_t d, std::uint64_t key) {
    return d == 2 ? decode_double(key) : static_cast<double>(decode_int64(key));
  };
  for (std::size_t d = 0; d < feature_count; ++d) {
    for (std::size_t j = 0; j < 4; ++j) out.cut_points[d][j] = n > 0 ? decode(d, selected[d][j]) : nan;
  }

  // Segment references.
  if (by_median) {
    for (std::size_t d = 0; d < feature_count; ++d)
      out.reference[d] = n > 0 ? (decode(d, selected[d][4]) + decode(d, selected[d][5])) / 2 : nan;
  } else {
    Features values;
    values.resize(local);
    for (std::size_t i = 0; i < local; ++i) {
      values.column[0][i] = table.recency[i];
      values.column[1][i] = static_cast<double>(table.frequency[i]);
      values.column[2][i] = table.monetary[i];
    }
    for (std::size_t d = 0; d < feature_count; ++d) {
      const auto m = global_moments(comm, values.column[d]);
      out.reference[d] = m.count > 0 ? m.mean : nan;
    }
  }

  // High-value threshold.
  if (by_percent) {
    out.high_value_threshold = n > 0 ? decode_double(selected[2].back()) : nan;
  } else {
    out.high_value_threshold = *config.high_value_threshold;
  }
  assign_scores(table, out);
  return out;
}

RfmScores score_customers_frozen(const mpi::Comm& comm, const CustomerTable& table,
                                 const std::array<std::array<double, 4>, feature_count>& cut_points,
                                 const std::array<double, feature_count>& reference, double high_value_threshold) {
  bool has_nan = false;
  for (double m : table.monetary) has_nan = has_nan || std::isnan(m);
  if (mpi::any_of(comm, has_nan)) throw InputError("RFM scores: a monetary value is NaN");
  bool bad = std::isnan(high_value_threshold);
  for (std::size_t d = 0; d < feature_count; ++d) {
    bad = bad || std::isnan(reference[d]);
    for (double cut : cut_points[d]) bad = bad || std::isnan(cut);
  }
  if (bad) throw ConfigError("RFM scores: a quintile cut point, segment reference or high-value threshold is NaN");
  RfmScores out;
  out.cut_points = cut_points;
  out.reference = reference;
  out.high_value_threshold = high_value_threshold;
  assign_scores(table, out);
  return out;
}

// ---------------------------------------------------------------- segment table

SegmentTable segment_table(const mpi::Comm& comm, const CustomerTable& table, std::span<const std::int8_t> segment,
                           int segments) {
  const std::size_t local = table.size();
  bool bad = segments < 1 || segment.size() != local || table.recency.size() != local ||
             table.frequency.size() != local || table.monetary_micros.size() != local;
  for (std::size_t i = 0; i < segment.size() && !bad; ++i) bad = segment[i] < 0 || segment[i] >= segments;
  if (mpi::any_of(comm, bad)) {
    throw std::invalid_argument("segment_table: column sizes disagree or a segment is outside 0.." +
                                std::to_string(segments - 1));
  }

  // Per segment [count, Σ recency, Σ frequency, Σ monetary_micros], summed exactly in one allreduce.
  const auto k = static_cast<std::size_t>(segments);
  std::vector<int128_t> sums(4 * k, 0);
  for (std::size_t i = 0; i < local; ++i) {
    const auto s = static_cast<std::size_t>(segment[i]);
    sums[4 * s] += 1;
    sums[4 * s + 1] += table.recency[i];
    sums[4 * s + 2] += table.frequency[i];
    sums[4 * s + 3] += table.monetary_micros[i];
  }
  mpi::allreduce_sum_inplace(comm, sums);

  int128_t customers = 0, revenue = 0;
  for (std::size_t s = 0; s < k; ++s) {
    customers += sums[4 * s];
    revenue += sums[4 * s + 3];
  }
  SegmentTable out;
  out.count.resize(k);
  out.share.resize(k);
  out.mean_recency.resize(k);
  out.mean_frequency.resize(k);
  out.mean_monetary.resize(k);
  out.revenue_share.resize(k);
  for (std::size_t s = 0; s < k; ++s) {
    const auto count = static_cast<std::int64_t>(sums[4 * s]);
    const auto c = static_cast<double>(count);
    out.count[s] = count;
    out.share[s] = customers != 0 ? c / static_cast<double>(customers) : 0;
    out.mean_recency[s] = count != 0 ? static_cast<double>(sums[4 * s + 1]) / c : 0;
    out.mean_frequency[s] = count != 0 ? static_cast<double>(sums[4 * s + 2]) / c : 0;
    out.mean_monetary[s] = count != 0 ? micros_to_units(sums[4 * s + 3]) / c : 0;
    out.revenue_share[s] = revenue != 0 ? static_cast<double>(sums[4 * s + 3]) / static_cast<double>(revenue) : 0;
  }
  return out;
}

std::string format_segment_table(const SegmentTable& table, const std::array<std::string, 8>& names) {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%-22s %9s %6s %9s %9s %12s %7s\n", "segment", "customers", "share", "R mean",
                "F mean", "M mean", "revenue");
  out += line;
  for (std::size_t s = 0; s < table.count.size(); ++s) {
    const std::string name = s < names.size() ? names[s] : std::to_string(s);
    std::snprintf(line, sizeof line, "%-22.22s %9lld %5.1f%% %9.1f %9.2f %12.2f %6.1f%%\n", name.c_str(),
                  static_cast<long long>(table.count[s]), 100 * table.share[s], table.mean_recency[s],
                  table.mean_frequency[s], table.mean_monetary[s], 100 * table.revenue_share[s]);
    out += line;
  }
  return out;
}

}  // namespace rfmseg
