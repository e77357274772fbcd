#include "rfmseg/model/transform.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>
#include <stdexcept>
#include <vector>

#include "rfmseg/core/names.hpp"
#include "rfmseg/parallel/reduce.hpp"

namespace rfmseg {

const char* transform_name(Transform kind) { return name_of(kind).data(); }

Transform parse_transform(const std::string& name) {
  if (const auto kind = parse_name<Transform>(name)) return *kind;
  throw std::invalid_argument("unknown transform '" + name + "' (none, log1p, cbrt, boxcox, yeojohnson)");
}

double boxcox(double x, double lambda) noexcept {
  const double log_x = std::log(x);
  if (std::fabs(lambda) < 1e-12) return log_x;
  return std::expm1(lambda * log_x) / lambda;
}

double yeojohnson(double x, double lambda) noexcept {
  if (x >= 0) {
    if (std::fabs(lambda) < 1e-12) return std::log1p(x);
    return std::expm1(lambda * std::log1p(x)) / lambda;
  }
  if (std::fabs(lambda - 2) < 1e-12) return -std::log1p(-x);
  return -std::expm1((2 - lambda) * std::log1p(-x)) / (2 - lambda);
}

namespace {

// Maximises f on [lo, hi] by Brent's method (golden section with parabolic steps).
double brent_maximize(const std::function<double(double)>& f, double lo, double hi, double tol) {
  const double golden = 0.3819660112501051;
  double x = lo + golden * (hi - lo), w = x, v = x;
  double fx = -f(x), fw = fx, fv = fx;
  double d = 0, e = 0;
  for (int iter = 0; iter < 200; ++iter) {
    const double middle = 0.5 * (lo + hi);
    const double tol1 = tol * std::fabs(x) + 1e-12, tol2 = 2 * tol1;
    if (std::fabs(x - middle) <= tol2 - 0.5 * (hi - lo)) break;
    bool parabolic = false;
    if (std::fabs(e) > tol1) {
      double r = (x - w) * (fx - fv), q = (x - v) * (fx - fw), p = (x - v) * q - (x - w) * r;
      q = 2 * (q - r);
      if (q > 0) p = -p;
      q = std::fabs(q);
      if (std::fabs(p) < std::fabs(0.5 * q * e) && p > q * (lo - x) && p < q * (hi - x)) {
        e = d;
        d = p / q;
        const double u = x + d;
        if (u - lo < tol2 || hi - u < tol2) d = x < middle ? tol1 : -tol1;
        parabolic = true;
      }
    }
    if (!parabolic) {
      e = (x < middle ? hi : lo) - x;
      d = golden * e;
    }
    const double u = std::fabs(d) >= tol1 ? x + d : x + (d > 0 ? tol1 : -tol1);
    const double fu = -f(u);
    if (fu <= fx) {
      (u < x ? hi : lo) = x;
      v = w, fv = fw, w = x, fw = fx, x = u, fx = fu;
    } else {
      (u < x ? lo : hi) = u;
      if (fu <= fw || w == x) {
        v = w, fv = fw, w = u, fw = fu;
      } else if (fu <= fv || v == x || v == w) {
        v = u, fv = fu;
      }
    }
  }
  return x;
}

// Log-likelihood of λ for a power transform: −n/2·log σ²(y_λ) + (λ − 1)·Σ jacobian term.
// Evaluated either on the global histogram of x (every rank the same table, no communication per
// evaluation: recency and frequency take a few hundred distinct values) or, when x has too many
// distinct values, with exact reductions over all customers. Both give the same bits: the sums are
// fixed-point integer sums, and c equal values add up to c times one (reduce.hpp).
class PowerLikelihood {
 public:
  PowerLikelihood(const mpi::Comm& comm, std::span<const double> x, bool is_boxcox)
      : _comm(comm), _x(x), _boxcox(is_boxcox) {
    const auto n = mpi::allreduce<std::uint64_t>(comm, x.size(), mpi::Op::sum);
    _histogram = global_histogram(comm, x, std::min<std::uint64_t>(max_table_entries, n / 4));
    const std::span<const double> points = _histogram ? std::span<const double>(_histogram->value) : x;
    std::vector<double> jacobian(points.size());
    for (std::size_t i = 0; i < points.size(); ++i)
      jacobian[i] = _boxcox ? std::log(points[i]) : std::copysign(std::log1p(std::fabs(points[i])), points[i]);
    _jacobian_sum = _histogram ? weighted_sum(jacobian, _histogram->count) : global_sum(comm, jacobian);
    _y.resize(points.size());
  }

  double operator()(double lambda) {
    const std::span<const double> points = _histogram ? std::span<const double>(_histogram->value) : _x;
    for (std::size_t i = 0; i < points.size(); ++i)
      _y[i] = _boxcox ? boxcox(points[i], lambda) : yeojohnson(points[i], lambda);
    const Moments m = _histogram ? weighted_moments(_y, _histogram->count) : global_moments(_comm, _y);
    const double n = static_cast<double>(m.count);
    if (!(m.variance > 0) || !std::isfinite(m.variance)) return -std::numeric_limits<double>::infinity();
    return -0.5 * n * std::log(m.variance) + (lambda - 1) * _jacobian_sum;
  }

 private:
  static constexpr std::uint64_t max_table_entries = 1u << 20;  // 16 MiB of (value, count) per rank
  const mpi::Comm& _comm;
  std::span<const double> _x;
  bool _boxcox;
  std::optional<Histogram> _histogram;
  double _jacobian_sum = 0;
  std::vector<double> _y;
};

double fit_lambda(const mpi::Comm& comm, std::span<const double> x, bool is_boxcox) {
  PowerLikelihood llf(comm, x, is_boxcox);
  // A coarse scan finds the basin (every rank evaluates the same λs), Brent polishes it.
  double best = 0, best_value = -std::numeric_limits<double>::infinity();
  for (double lambda = -8; lambda <= 8; lambda += 0.5) {
    const double value = llf(lambda);
    if (value > best_value) {
      best_value = value;
      best = lambda;
    }
  }
  return brent_maximize(std::ref(llf), best - 0.5, best + 0.5, 1e-10);
}

}  // namespace

TransformParams fit_transform(const mpi::Comm& comm, Transform kind, std::span<const double> values) {
  TransformParams params;
  params.kind = kind;
  if (kind == Transform::boxcox || kind == Transform::log1p) {
    const double lowest = global_min(comm, values);
    if (kind == Transform::boxcox && lowest <= 0) params.shift = 1 - lowest;
    if (kind == Transform::log1p && lowest <= -1) params.shift = -lowest;
  }
  if (kind == Transform::boxcox || kind == Transform::yeojohnson) {
    std::vector<double> shifted(values.begin(), values.end());
    for (auto& v : shifted) v += params.shift;
    params.lambda = fit_lambda(comm, shifted, kind == Transform::boxcox);
  }
  return params;
}

void apply_transform(const TransformParams& params, std::span<const double> values, std::span<double> out) {
  for (std::size_t i = 0; i < values.size(); ++i) {
    const double x = values[i] + params.shift;
    switch (params.kind) {
      case Transform::none: out[i] = x; break;
      case Transform::log1p: out[i] = std::log1p(x); break;
      case Transform::cbrt: out[i] = std::cbrt(x); break;
      case Transform::boxcox: out[i] = boxcox(x, params.lambda); break;
      case Transform::yeojohnson: out[i] = yeojohnson(x, params.lambda); break;
    }
  }
}

}  // namespace rfmseg
