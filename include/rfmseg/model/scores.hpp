#pragma once
// RFM scores and the 8 classic RFM segments: marketing's rule-based view of the customers,
// independent of K-means. Every global quantity is exact and partition-independent, so the
// results are bit-identical for any rank count.
//
// Quintile cut points. For a feature with n values over all ranks, sorted ascending
// x_(1) ≤ ... ≤ x_(n), the cut points are the order statistics
//
//     q_j = x_(ceil(j·n/5)),  j = 1..4
//
// (the "inverted CDF" quantile, numpy `method="inverted_cdf"`, Hyndman-Fan type 1: the smallest
// value with at least j/5 of the customers at or below it), selected exactly across the ranks by
// global_select (parallel/select.hpp) on order-preserving keys. A value's quintile index is
//
//     s(x) = 1 + #{ j : q_j < x }        (1..5; equal values always share s)
//
// F and M scores are s; the R score is reversed, 6 − s(recency), so the most recent fifth is 5.
// With distinct values exactly ceil(j·n/5) customers have s ≤ j (group sizes differ by at most 1);
// ties never straddle a cut, so a heavily tied feature (frequency 1 for half the customers) simply
// leaves some scores unused instead of splitting equal customers.
//
// Compared with pandas `pd.qcut(x, 5, labels=False) + 1`: the bins are the same right-closed
// intervals (q_{j-1}, q_j] (a value equal to a cut point falls in the lower bin, like s above), but
// pandas' edges come from linear interpolation (`np.quantile` default, type 7) and so may lie
// between data values; with distinct values the group sizes can therefore differ from ours by one
// at a cut. pandas raises on duplicate edges (ties) unless `duplicates="drop"`, which then renumbers
// the remaining bins 0..m−1; we keep the quintile meaning and leave scores unused instead. The
// common tutorial trick `pd.qcut(x.rank(method="first"), 5)` breaks ties by row order, which is
// not partition-independent; we never do that.
//
// Classic segments. A customer is "recent" when recency < the R reference, "F high" when
// frequency > the F reference and "M high" when monetary > the M reference (all strict: a value
// equal to the reference is not recent / low). The reference is the global mean (exact sums,
// global_moments) or the global median: x_((n+1)/2) for odd n, (x_(n/2) + x_(n/2+1)) / 2 for even
// n, as pandas `Series.median()`. Segment index = 4·(M low) + 2·(not recent) + (F low), which is
// the order of classic_segment_names().
//
// High-value flag: monetary ≥ threshold. The threshold is an absolute amount, or for "top p %"
// the m-th largest monetary value with m = ceil(p·n/100) (computed in double), i.e. the order
// statistic x_(n−m+1): with distinct values exactly m customers are flagged, ties at the threshold
// are all flagged.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rfmseg/core/customer_table.hpp"
#include "rfmseg/core/features.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

// ---------------------------------------------------------------- RFM scores and segments

enum class SegmentReference { mean, median };

struct ScoreConfig {
  SegmentReference reference = SegmentReference::mean;  ///< R/F/M split point of the 8 segments
  double high_value_top_percent = 20;                   ///< p in (0, 100]; used without a threshold
  std::optional<double> high_value_threshold;           ///< absolute monetary threshold (wins over p)
};

/// Per local row (same order as the CustomerTable), plus the global parameters used.
struct RfmScores {
  std::vector<std::int8_t> r_score, f_score, m_score;  ///< 1..5 (R reversed: most recent = 5)
  std::vector<std::int16_t> rfm_sum;                   ///< r + f + m, 3..15
  /// 100·r + 10·f + m, e.g. 545: its decimal digits are the "545" code (std::to_string gives it).
  std::vector<std::int16_t> rfm_code;
  std::vector<std::int8_t> segment;     ///< 0..7, index into classic_segment_names()
  std::vector<std::int8_t> high_value;  ///< 1 when monetary ≥ high_value_threshold
  /// cut_points[d][j−1] = q_j of feature d (0 recency in days, 1 frequency, 2 monetary), ascending
  /// values (recency not reversed). NaN when there are no customers.
  std::array<std::array<double, 4>, feature_count> cut_points{};
  std::array<double, feature_count> reference{};  ///< R, F, M segment reference (mean or median)
  double high_value_threshold = 0;
};

/// "important value", "important development", "important retention", "important win-back",
/// "general value", "general development", "general retention", "general win-back".
[[nodiscard]] const std::array<std::string, 8>& classic_segment_names();

/// Classic segment index of one customer given the R, F, M references (see the header comment).
[[nodiscard]] std::int8_t classic_segment(double recency, double frequency, double monetary,
                                          const std::array<double, feature_count>& reference) noexcept;

/// Collective: scores, segments and high-value flags of the local rows. Throws ConfigError for a
/// top percent outside (0, 100] or a non-finite threshold, and InputError (on every rank) when
/// some monetary value is NaN.
[[nodiscard]] RfmScores score_customers(const mpi::Comm& comm, const CustomerTable& table, const ScoreConfig& config);

/// Collective: the scores, segments and high-value flags of the local rows under parameters fixed
/// elsewhere (a saved model's `cut_points`, `reference` and `high_value_threshold`, as RfmScores
/// holds them): the same per-row rule score_customers applies once it has computed its own, so
/// scoring a model's own customers with its parameters gives its scores bit for bit. Throws
/// InputError (on every rank) when some monetary value is NaN, ConfigError for a NaN parameter.
[[nodiscard]] RfmScores score_customers_frozen(const mpi::Comm& comm, const CustomerTable& table,
                                               const std::array<std::array<double, 4>, feature_count>& cut_points,
                                               const std::array<double, feature_count>& reference,
                                               double high_value_threshold);

/// Per segment: customers, share of all customers, mean R / F / M and share of the total
/// monetary. Means of empty segments and the revenue share when the total is 0 are 0.
struct SegmentTable {
  std::vector<std::int64_t> count;
  std::vector<double> share, mean_recency, mean_frequency, mean_monetary, revenue_share;
};

/// Collective: the table of `segment` (one entry per local row, values in [0, segments)). Counts
/// and R, F, M sums are exact integer sums (monetary from monetary_micros), reduced in one
/// allreduce, so the table is identical for any rank count. Throws std::invalid_argument on every
/// rank when some rank's sizes disagree or a segment is out of range.
[[nodiscard]] SegmentTable segment_table(const mpi::Comm& comm, const CustomerTable& table,
                                         std::span<const std::int8_t> segment, int segments = 8);

/// Readable table, one line per segment (names[s] for s < 8, otherwise the index).
[[nodiscard]] std::string format_segment_table(const SegmentTable& table, const std::array<std::string, 8>& names);

}  // namespace rfmseg
