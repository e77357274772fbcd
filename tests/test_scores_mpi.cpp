// RFM scores and classic segments under MPI: hand-computed quintiles with ties, segments and the
// segment table; a seeded 10k-customer table against a serial
// reference and against the same table scored on one rank. Every rank count (1-4) and every
// partition of the rows must give bit-identical results.

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/model/scores.hpp"
#include "test_support.hpp"

using namespace rfmseg;

namespace {

/// One customer of a global test table (monetary in exact micro-units).
struct Customer {
  std::int32_t recency;
  std::int64_t frequency;
  std::int64_t monetary_micros;
};

std::int64_t cents(double amount) { return std::llround(amount * 100) * 10000; }

/// Rows [begin, end) of `global` as a CustomerTable (ids "c000123" keep the global order).
CustomerTable make_table(const std::vector<Customer>& global, std::size_t begin, std::size_t end) {
  CustomerTable t;
  for (std::size_t i = begin; i < end; ++i) {
    char id[32];
    std::snprintf(id, sizeof id, "c%06zu", i);
    t.id.emplace_back(id);
    t.last_day.push_back(0);
    t.recency.push_back(global[i].recency);
    t.frequency.push_back(global[i].frequency);
    t.monetary_micros.push_back(global[i].monetary_micros);
    t.monetary.push_back(micros_to_units(global[i].monetary_micros));
  }
  return t;
}

/// Rank r's block [r·n/P, (r+1)·n/P).
CustomerTable block_of(const mpi::Comm& comm, const std::vector<Customer>& global) {
  const auto n = global.size(), p = static_cast<std::size_t>(comm.size()), r = static_cast<std::size_t>(comm.rank());
  return make_table(global, r * n / p, (r + 1) * n / p);
}

/// A skewed partition: rank 0 is empty (when P > 1) and ranks 1..P−1 split the rows at
/// n·(r−1)²/(P−1)², so the last rank holds most of them.
CustomerTable skewed_block_of(const mpi::Comm& comm, const std::vector<Customer>& global) {
  const auto n = global.size(), p = static_cast<std::size_t>(comm.size()), r = static_cast<std::size_t>(comm.rank());
  if (p == 1) return make_table(global, 0, n);
  if (r == 0) return make_table(global, 0, 0);
  auto start = [&](std::size_t q) { return n * (q - 1) * (q - 1) / ((p - 1) * (p - 1)); };
  return make_table(global, start(r), start(r + 1));
}

/// One comm of size 1 per process: scoring the full table on it is the single-rank result.
mpi::Comm self_comm() { return mpi::Comm(MPI_COMM_SELF); }

template <class T>
std::vector<T> gather(const mpi::Comm& comm, const std::vector<T>& local) {
  return mpi::allgatherv<T>(comm, std::span<const T>(local));
}

/// Every per-customer column of `scores`, gathered in global row order.
struct GatheredScores {
  std::vector<std::int8_t> r, f, m, segment, high_value;
  std::vector<std::int16_t> sum, code;
};

GatheredScores gather_scores(const mpi::Comm& comm, const RfmScores& s) {
  return {gather(comm, s.r_score),    gather(comm, s.f_score), gather(comm, s.m_score), gather(comm, s.segment),
          gather(comm, s.high_value), gather(comm, s.rfm_sum), gather(comm, s.rfm_code)};
}

void expect_same_bits(double a, double b, const char* what) {
  EXPECT_EQ(std::bit_cast<std::uint64_t>(a), std::bit_cast<std::uint64_t>(b)) << what << ": " << a << " vs " << b;
}

void expect_same_globals(const RfmScores& a, const RfmScores& b) {
  for (std::size_t d = 0; d < 3; ++d) {
    for (std::size_t j = 0; j < 4; ++j) expect_same_bits(a.cut_points[d][j], b.cut_points[d][j], "cut point");
    expect_same_bits(a.reference[d], b.reference[d], "reference");
  }
  expect_same_bits(a.high_value_threshold, b.high_value_threshold, "high-value threshold");
}

void expect_same_columns(const GatheredScores& a, const GatheredScores& b) {
  EXPECT_EQ(a.r, b.r);
  EXPECT_EQ(a.f, b.f);
  EXPECT_EQ(a.m, b.m);
  EXPECT_EQ(a.sum, b.sum);
  EXPECT_EQ(a.code, b.code);
  EXPECT_EQ(a.segment, b.segment);
  EXPECT_EQ(a.high_value, b.high_value);
}

void expect_same_table(const SegmentTable& a, const SegmentTable& b) {
  EXPECT_EQ(a.count, b.count);
  ASSERT_EQ(a.count.size(), b.count.size());  // local: both sides are computed on this rank
  for (std::size_t s = 0; s < a.count.size(); ++s) {
    expect_same_bits(a.share[s], b.share[s], "share");
    expect_same_bits(a.mean_recency[s], b.mean_recency[s], "mean recency");
    expect_same_bits(a.mean_frequency[s], b.mean_frequency[s], "mean frequency");
    expect_same_bits(a.mean_monetary[s], b.mean_monetary[s], "mean monetary");
    expect_same_bits(a.revenue_share[s], b.revenue_share[s], "revenue share");
  }
}

// ---------------------------------------------------------------- the hand-computed table
//
// row  recency  frequency  monetary   R F M  code  sum  segment (mean reference)
//  0      5        1         10.00    5 1 1   511    7  general development (5)
//  1     40        1        250.50    3 1 4   314    8  general development (5)
//  2      5        3         99.99    5 4 3   543   12  general value (4)
//  3    120        1         15.00    1 1 2   112    4  general win-back (7)
//  4      2        8       1200.00    5 5 5   555   15  important value (0)
//  5     60        1         40.00    2 1 2   212    5  general development (5)
//  6     15        2        310.25    4 4 4   444   12  important development (1)
//  7    300        1          5.50    1 1 1   111    3  general win-back (7)
//  8     15        5        780.00    4 5 5   455   14  important value (0)
//  9     90        1         60.00    2 1 3   213    6  general win-back (7)
//
// n = 10: cut points are the order statistics at ranks ceil(j·10/5) = 2, 4, 6, 8.
//   recency sorted 2 5 5 15 15 40 60 90 120 300       → q = 5, 15, 40, 90 (ties 5 and 15 share R)
//   frequency sorted 1 1 1 1 1 1 2 3 5 8               → q = 1, 1, 1, 3: F is 1, 4 or 5 only
//   monetary sorted 5.5 10 15 40 60 99.99 250.5 310.25 780 1200 → q = 10, 40, 99.99, 310.25
// Means: R 652/10 = 65.2, F 24/10 = 2.4, M 2771.24/10 = 277.124.
// Medians: R (15+40)/2 = 27.5, F (1+1)/2 = 1, M (60+99.99)/2.
// Top 20 %: m = ceil(20·10/100) = 2 → threshold = 2nd largest = 780 → rows 4 and 8.

std::vector<Customer> hand_table() {
  const std::array<Customer, 10> rows{{{5, 1, cents(10.00)},
                                       {40, 1, cents(250.50)},
                                       {5, 3, cents(99.99)},
                                       {120, 1, cents(15.00)},
                                       {2, 8, cents(1200.00)},
                                       {60, 1, cents(40.00)},
                                       {15, 2, cents(310.25)},
                                       {300, 1, cents(5.50)},
                                       {15, 5, cents(780.00)},
                                       {90, 1, cents(60.00)}}};
  return {rows.begin(), rows.end()};
}

// ---------------------------------------------------------------- serial reference

/// The documented definitions, in plain serial code over the whole global table.
struct Reference {
  std::array<std::array<double, 4>, 3> cut_points{};
  std::vector<std::int8_t> r, f, m, segment, high_value;
  std::vector<std::int16_t> sum, code;
};

template <class T>
std::array<T, 4> serial_cuts(std::vector<T> values) {
  std::sort(values.begin(), values.end());
  const auto n = values.size();
  std::array<T, 4> q{};
  for (std::size_t j = 1; j <= 4; ++j) q[j - 1] = values[(j * n + 4) / 5 - 1];  // x_(ceil(j·n/5))
  return q;
}

template <class T>
std::int8_t serial_quintile(T x, const std::array<T, 4>& q) {
  int s = 1;
  for (auto c : q) s += c < x ? 1 : 0;
  return static_cast<std::int8_t>(s);
}

Reference serial_reference(const std::vector<Customer>& global, const std::array<double, 3>& reference,
                           double threshold) {
  std::vector<std::int64_t> rec, freq;
  std::vector<double> mon;
  for (const auto& c : global) {
    rec.push_back(c.recency);
    freq.push_back(c.frequency);
    mon.push_back(micros_to_units(c.monetary_micros));
  }
  const auto qr = serial_cuts(rec), qf = serial_cuts(freq);
  const auto qm = serial_cuts(mon);
  Reference out;
  for (std::size_t j = 0; j < 4; ++j) {
    out.cut_points[0][j] = static_cast<double>(qr[j]);
    out.cut_points[1][j] = static_cast<double>(qf[j]);
    out.cut_points[2][j] = qm[j];
  }
  for (std::size_t i = 0; i < global.size(); ++i) {
    const auto r = static_cast<std::int8_t>(6 - serial_quintile(rec[i], qr));
    const auto f = serial_quintile(freq[i], qf), m = serial_quintile(mon[i], qm);
    out.r.push_back(r);
    out.f.push_back(f);
    out.m.push_back(m);
    out.sum.push_back(static_cast<std::int16_t>(r + f + m));
    out.code.push_back(static_cast<std::int16_t>(100 * r + 10 * f + m));
    const bool recent = static_cast<double>(rec[i]) < reference[0];
    const bool frequent = static_cast<double>(freq[i]) > reference[1];
    const bool valuable = mon[i] > reference[2];
    out.segment.push_back(static_cast<std::int8_t>((valuable ? 0 : 4) + (recent ? 0 : 2) + (frequent ? 0 : 1)));
    out.high_value.push_back(mon[i] >= threshold ? 1 : 0);
  }
  return out;
}

void expect_matches_reference(const GatheredScores& got, const RfmScores& scores, const Reference& want) {
  EXPECT_EQ(got.r, want.r);
  EXPECT_EQ(got.f, want.f);
  EXPECT_EQ(got.m, want.m);
  EXPECT_EQ(got.sum, want.sum);
  EXPECT_EQ(got.code, want.code);
  EXPECT_EQ(got.segment, want.segment);
  EXPECT_EQ(got.high_value, want.high_value);
  for (std::size_t d = 0; d < 3; ++d)
    for (std::size_t j = 0; j < 4; ++j) expect_same_bits(scores.cut_points[d][j], want.cut_points[d][j], "cut point");
}

std::vector<Customer> random_table(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<Customer> rows(n);
  for (auto& c : rows) {
    c.recency = static_cast<std::int32_t>(rng() % 400);  // many ties
    const auto roll = rng() % 100;
    c.frequency = roll < 45 ? 1 : roll < 70 ? 2 : static_cast<std::int64_t>(3 + rng() % 60);  // heavy ties at 1, 2
    // Money in cents, heavy-tailed, a few negative (net cancellations) and a few exact ties.
    const auto base = static_cast<std::int64_t>(rng() % 20000) * static_cast<std::int64_t>(1 + rng() % 50);
    c.monetary_micros = (rng() % 50 == 0 ? -base / 10 : base) * 10000;
    if (rng() % 20 == 0) c.monetary_micros = cents(19.99);
  }
  return rows;
}

}  // namespace

// ---------------------------------------------------------------- hand-computed table

TEST(ScoresHandComputed, quintiles_with_ties_codes_and_mean_segments) {
  const auto comm = mpi::Comm::world();
  const auto global = hand_table();
  for (int partition = 0; partition < 2; ++partition) {
    SCOPED_TRACE(partition == 0 ? "block partition" : "skewed partition");
    const CustomerTable local = partition == 0 ? block_of(comm, global) : skewed_block_of(comm, global);
    const RfmScores s = score_customers(comm, local, ScoreConfig{});
    EXPECT_EQ(s.r_score.size(), local.size());
    const auto got = gather_scores(comm, s);

    EXPECT_EQ(got.r, (std::vector<std::int8_t>{5, 3, 5, 1, 5, 2, 4, 1, 4, 2}));
    EXPECT_EQ(got.f, (std::vector<std::int8_t>{1, 1, 4, 1, 5, 1, 4, 1, 5, 1}));
    EXPECT_EQ(got.m, (std::vector<std::int8_t>{1, 4, 3, 2, 5, 2, 4, 1, 5, 3}));
    EXPECT_EQ(got.code, (std::vector<std::int16_t>{511, 314, 543, 112, 555, 212, 444, 111, 455, 213}));
    EXPECT_EQ(got.sum, (std::vector<std::int16_t>{7, 8, 12, 4, 15, 5, 12, 3, 14, 6}));
    EXPECT_EQ(got.segment, (std::vector<std::int8_t>{5, 5, 4, 7, 0, 5, 1, 7, 0, 7}));
    EXPECT_EQ(got.high_value, (std::vector<std::int8_t>{0, 0, 0, 0, 1, 0, 0, 0, 1, 0}));
    EXPECT_EQ(std::to_string(got.code[2]), "543");

    EXPECT_EQ(s.cut_points[0], (std::array<double, 4>{5, 15, 40, 90}));
    EXPECT_EQ(s.cut_points[1], (std::array<double, 4>{1, 1, 1, 3}));
    EXPECT_EQ(s.cut_points[2], (std::array<double, 4>{10.0, 40.0, 99.99, 310.25}));
    EXPECT_EQ(s.reference[0], 65.2);
    EXPECT_EQ(s.reference[1], 2.4);
    EXPECT_NEAR(s.reference[2], 277.124, 1e-12);
    EXPECT_EQ(s.high_value_threshold, 780.0);

    const SegmentTable t = segment_table(comm, local, s.segment);
    EXPECT_EQ(t.count, (std::vector<std::int64_t>{2, 1, 0, 0, 1, 3, 0, 3}));
    ASSERT_EQ(t.count.size(), 8u);
    EXPECT_DOUBLE_EQ(t.share[5], 0.3);
    EXPECT_EQ(t.mean_recency[0], 8.5);
    EXPECT_EQ(t.mean_recency[5], 35.0);
    EXPECT_EQ(t.mean_recency[7], 170.0);
    EXPECT_EQ(t.mean_frequency[0], 6.5);
    EXPECT_EQ(t.mean_frequency[7], 1.0);
    EXPECT_EQ(t.mean_monetary[0], 990.0);
    EXPECT_EQ(t.mean_monetary[2], 0.0);  // empty segment
    EXPECT_DOUBLE_EQ(t.mean_monetary[5], 300.5 / 3);
    EXPECT_DOUBLE_EQ(t.revenue_share[0], 1980.0 / 2771.24);
    EXPECT_DOUBLE_EQ(t.revenue_share[1], 310.25 / 2771.24);
    EXPECT_EQ(t.revenue_share[6], 0.0);
    double shares = 0;
    for (double v : t.revenue_share) shares += v;
    EXPECT_NEAR(shares, 1.0, 1e-15);

    const std::string text = format_segment_table(t, classic_segment_names());
    EXPECT_NE(text.find("important value"), std::string::npos);
    EXPECT_NE(text.find("general win-back"), std::string::npos);
  }
}

TEST(ScoresHandComputed, median_reference_and_thresholds) {
  const auto comm = mpi::Comm::world();
  const auto global = hand_table();
  const CustomerTable local = block_of(comm, global);

  ScoreConfig median;
  median.reference = SegmentReference::median;
  median.high_value_top_percent = 25;  // m = ceil(2.5) = 3 → 3rd largest = 310.25
  const RfmScores s = score_customers(comm, local, median);
  EXPECT_EQ(s.reference[0], 27.5);
  EXPECT_EQ(s.reference[1], 1.0);
  EXPECT_EQ(s.reference[2], (60.0 + 99.99) / 2);
  EXPECT_EQ(s.high_value_threshold, 310.25);
  const auto got = gather_scores(comm, s);
  EXPECT_EQ(got.segment, (std::vector<std::int8_t>{5, 3, 0, 7, 0, 7, 0, 7, 0, 7}));
  EXPECT_EQ(got.high_value, (std::vector<std::int8_t>{0, 0, 0, 0, 1, 0, 1, 0, 1, 0}));
  // Scores do not depend on the segment reference.
  EXPECT_EQ(got.code, (std::vector<std::int16_t>{511, 314, 543, 112, 555, 212, 444, 111, 455, 213}));

  ScoreConfig absolute;
  absolute.high_value_threshold = 250.5;  // ties at the threshold are flagged
  const RfmScores a = score_customers(comm, local, absolute);
  EXPECT_EQ(a.high_value_threshold, 250.5);
  EXPECT_EQ(gather(comm, a.high_value), (std::vector<std::int8_t>{0, 1, 0, 0, 1, 0, 1, 0, 1, 0}));

  ScoreConfig everyone;
  everyone.high_value_top_percent = 100;
  const RfmScores e = score_customers(comm, local, everyone);
  EXPECT_EQ(e.high_value_threshold, 5.5);
  EXPECT_EQ(gather(comm, e.high_value), std::vector<std::int8_t>(10, 1));
}

TEST(ScoresHandComputed, classic_segment_mapping_and_names) {
  const auto& names = classic_segment_names();
  const std::array<double, 3> ref{10, 2, 100};
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(1, 3, 200, ref))], "important value");
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(1, 1, 200, ref))], "important development");
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(50, 3, 200, ref))], "important retention");
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(50, 1, 200, ref))], "important win-back");
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(1, 3, 50, ref))], "general value");
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(1, 1, 50, ref))], "general development");
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(50, 3, 50, ref))], "general retention");
  EXPECT_EQ(names[static_cast<std::size_t>(classic_segment(50, 1, 50, ref))], "general win-back");
  // Equal to the reference: not recent, not high.
  EXPECT_EQ(classic_segment(10, 2, 100, ref), 7);
}

TEST(ScoresHandComputed, tiny_and_empty_tables) {
  const auto comm = mpi::Comm::world();
  // One customer (on the last rank): every cut point is its value, so R = 5, F = M = 1.
  const std::vector<Customer> one{{7, 3, cents(12.5)}};
  const CustomerTable local = comm.rank() + 1 == comm.size() ? make_table(one, 0, 1) : make_table(one, 0, 0);
  const RfmScores s = score_customers(comm, local, ScoreConfig{});
  EXPECT_EQ(gather(comm, s.rfm_code), (std::vector<std::int16_t>{511}));
  EXPECT_EQ(gather(comm, s.high_value), (std::vector<std::int8_t>{1}));
  EXPECT_EQ(s.cut_points[2], (std::array<double, 4>{12.5, 12.5, 12.5, 12.5}));
  EXPECT_EQ(gather(comm, s.segment), (std::vector<std::int8_t>{7}));  // equal to every mean

  // No customers anywhere: empty columns, NaN parameters, an all-zero table.
  const CustomerTable none = make_table(one, 0, 0);
  ScoreConfig median;
  median.reference = SegmentReference::median;
  const RfmScores z = score_customers(comm, none, median);
  EXPECT_TRUE(z.r_score.empty());
  EXPECT_TRUE(std::isnan(z.cut_points[0][0]));
  EXPECT_TRUE(std::isnan(z.reference[2]));
  EXPECT_TRUE(std::isnan(z.high_value_threshold));
  const SegmentTable t = segment_table(comm, none, z.segment);
  EXPECT_EQ(t.count, std::vector<std::int64_t>(8, 0));
  EXPECT_EQ(t.share, std::vector<double>(8, 0.0));
}

TEST(ScoresHandComputed, errors_are_raised_on_every_rank) {
  const auto comm = mpi::Comm::world();
  const auto global = hand_table();
  const CustomerTable local = block_of(comm, global);

  ScoreConfig bad;
  bad.high_value_top_percent = 0;
  EXPECT_THROW((void)score_customers(comm, local, bad), ConfigError);
  bad.high_value_top_percent = 101;
  EXPECT_THROW((void)score_customers(comm, local, bad), ConfigError);
  bad.high_value_threshold = std::numeric_limits<double>::infinity();
  EXPECT_THROW((void)score_customers(comm, local, bad), ConfigError);

  // A NaN monetary on the last rank only: every rank throws.
  CustomerTable nan_table = local;
  if (comm.rank() + 1 == comm.size()) nan_table.monetary.back() = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW((void)score_customers(comm, nan_table, ScoreConfig{}), InputError);

  // An out-of-range segment on rank 0 only: every rank throws.
  std::vector<std::int8_t> segments(local.size(), 0);
  if (comm.rank() == 0 && !segments.empty()) segments[0] = 8;
  EXPECT_THROW((void)segment_table(comm, local, segments), std::invalid_argument);
}

// ---------------------------------------------------------------- seeded random table

TEST(ScoresRandom, ten_thousand_customers_match_serial_reference_and_one_rank) {
  const auto comm = mpi::Comm::world();
  const auto global = random_table(10007, 20240611);
  const CustomerTable full = make_table(global, 0, global.size());
  const auto single = self_comm();

  for (auto reference : {SegmentReference::mean, SegmentReference::median}) {
    ScoreConfig config;
    config.reference = reference;
    config.high_value_top_percent = 7.5;
    SCOPED_TRACE(reference == SegmentReference::mean ? "mean reference" : "median reference");

    // One rank's result on the whole table: what np = 1 computes.
    const RfmScores serial = score_customers(single, full, config);
    const SegmentTable serial_table = segment_table(single, full, serial.segment);

    // Serial reference from the documented definitions.
    std::vector<double> r, f, m;
    for (const auto& c : global) {
      r.push_back(c.recency);
      f.push_back(static_cast<double>(c.frequency));
      m.push_back(micros_to_units(c.monetary_micros));
    }
    auto sorted_copy = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v;
    };
    const auto rs = sorted_copy(r), fs = sorted_copy(f), ms = sorted_copy(m);
    const std::size_t n = global.size();
    if (reference == SegmentReference::mean) {
      // R and F sums are exact integers; M agrees to rounding (exact sums inside).
      std::int64_t sum_r = 0, sum_f = 0;
      for (const auto& c : global) {
        sum_r += c.recency;
        sum_f += c.frequency;
      }
      EXPECT_EQ(serial.reference[0], static_cast<double>(sum_r) / static_cast<double>(n));
      EXPECT_EQ(serial.reference[1], static_cast<double>(sum_f) / static_cast<double>(n));
      double sum_m = 0;
      for (double v : m) sum_m += v;
      EXPECT_NEAR(serial.reference[2], sum_m / static_cast<double>(n),
                  1e-9 * std::fabs(sum_m / static_cast<double>(n)));
    } else {
      EXPECT_EQ(serial.reference[0], rs[n / 2]);  // n odd: x_((n+1)/2)
      EXPECT_EQ(serial.reference[1], fs[n / 2]);
      EXPECT_EQ(serial.reference[2], ms[n / 2]);
    }
    const std::size_t top = static_cast<std::size_t>(std::ceil(7.5 * static_cast<double>(n) / 100));
    EXPECT_EQ(serial.high_value_threshold, ms[n - top]);
    const Reference want = serial_reference(global, serial.reference, ms[n - top]);
    const GatheredScores serial_columns{serial.r_score,    serial.f_score, serial.m_score, serial.segment,
                                        serial.high_value, serial.rfm_sum, serial.rfm_code};
    expect_matches_reference(serial_columns, serial, want);
    std::int64_t flagged = 0;
    for (auto v : want.high_value) flagged += v;
    EXPECT_GE(flagged, static_cast<std::int64_t>(top));

    // Score sizes: with ties a group may be empty or large, but all counts add up.
    std::array<std::int64_t, 6> per_score{};
    for (auto v : want.m) ++per_score[static_cast<std::size_t>(v)];
    EXPECT_EQ(per_score[1] + per_score[2] + per_score[3] + per_score[4] + per_score[5], static_cast<std::int64_t>(n));

    // Serial segment table from exact sums.
    std::array<std::int64_t, 8> count{};
    std::array<int128_t, 8> money{};
    int128_t total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const auto s = static_cast<std::size_t>(want.segment[i]);
      ++count[s];
      money[s] += global[i].monetary_micros;
      total += global[i].monetary_micros;
    }
    for (std::size_t s = 0; s < 8; ++s) {
      EXPECT_EQ(serial_table.count[s], count[s]);
      if (count[s] > 0) {
        EXPECT_EQ(serial_table.mean_monetary[s], micros_to_units(money[s]) / static_cast<double>(count[s]));
        EXPECT_EQ(serial_table.revenue_share[s], static_cast<double>(money[s]) / static_cast<double>(total));
      }
    }

    // The distributed result, for two partitions, equals the one-rank result bit for bit.
    for (int partition = 0; partition < 2; ++partition) {
      SCOPED_TRACE(partition == 0 ? "block partition" : "skewed partition");
      const CustomerTable local = partition == 0 ? block_of(comm, global) : skewed_block_of(comm, global);
      const RfmScores s = score_customers(comm, local, config);
      expect_same_globals(s, serial);
      expect_same_columns(gather_scores(comm, s), serial_columns);
      expect_same_table(segment_table(comm, local, s.segment), serial_table);
    }
  }
}
