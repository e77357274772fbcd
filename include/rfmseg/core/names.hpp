#pragma once
// The one table of every configuration enum's names: the command line parses them here
// (app/options.cpp), and the result file, the console and the checkpoints print them from here.

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rfmseg/core/config.hpp"

namespace rfmseg {

/// Names of an enum's values; the first name of a value is how it is printed, later ones are
/// accepted spellings.
template <class E>
struct EnumNames;

template <>
struct EnumNames<FrequencyMode> {
  static constexpr std::pair<FrequencyMode, std::string_view> table[] = {{FrequencyMode::automatic, "auto"},
                                                                         {FrequencyMode::invoices, "invoices"},
                                                                         {FrequencyMode::lines, "lines"},
                                                                         {FrequencyMode::days, "days"}};
};
template <>
struct EnumNames<CancellationPolicy> {
  static constexpr std::pair<CancellationPolicy, std::string_view> table[] = {{CancellationPolicy::drop, "drop"},
                                                                              {CancellationPolicy::net, "net"}};
};
template <>
struct EnumNames<DuplicatePolicy> {
  static constexpr std::pair<DuplicatePolicy, std::string_view> table[] = {
      {DuplicatePolicy::automatic, "auto"}, {DuplicatePolicy::drop, "drop"}, {DuplicatePolicy::keep, "keep"}};
};
template <>
struct EnumNames<Transform> {
  static constexpr std::pair<Transform, std::string_view> table[] = {
      {Transform::none, "none"},     {Transform::log1p, "log1p"},           {Transform::cbrt, "cbrt"},
      {Transform::boxcox, "boxcox"}, {Transform::yeojohnson, "yeojohnson"}, {Transform::log1p, "log"}};
};
template <>
struct EnumNames<Scaler> {
  static constexpr std::pair<Scaler, std::string_view> table[] = {{Scaler::standard, "standard"},
                                                                  {Scaler::minmax, "minmax"}};
};
template <>
struct EnumNames<Init> {
  static constexpr std::pair<Init, std::string_view> table[] = {{Init::kmeans_plus_plus, "kmeans++"},
                                                                {Init::kmeans_parallel, "kmeans-parallel"},
                                                                {Init::random, "random"},
                                                                {Init::kmeans_parallel, "kmeans||"}};
};
template <>
struct EnumNames<KSelect> {
  static constexpr std::pair<KSelect, std::string_view> table[] = {
      {KSelect::none, "none"}, {KSelect::elbow, "elbow"}, {KSelect::silhouette, "silhouette"}};
};
template <>
struct EnumNames<SweepMetrics> {
  static constexpr std::pair<SweepMetrics, std::string_view> table[] = {{SweepMetrics::all, "all"},
                                                                        {SweepMetrics::sse, "sse"}};
};
template <>
struct EnumNames<KMeansAlgorithm> {
  static constexpr std::pair<KMeansAlgorithm, std::string_view> table[] = {{KMeansAlgorithm::automatic, "auto"},
                                                                           {KMeansAlgorithm::hamerly, "hamerly"},
                                                                           {KMeansAlgorithm::lloyd, "lloyd"},
                                                                           {KMeansAlgorithm::kdtree, "kdtree"}};
};

/// How `value` is printed.
template <class E>
[[nodiscard]] constexpr std::string_view name_of(E value) {
  for (const auto& [v, name] : EnumNames<E>::table)
    if (v == value) return name;
  return "?";
}

/// The value named `name` (any accepted spelling), or nothing.
template <class E>
[[nodiscard]] constexpr std::optional<E> parse_name(std::string_view name) {
  for (const auto& [v, n] : EnumNames<E>::table)
    if (n == name) return v;
  return std::nullopt;
}

/// The printed names, for messages: "auto, invoices, lines or days".
template <class E>
[[nodiscard]] std::string name_choices() {
  std::string out;
  std::size_t count = 0;
  for (const auto& [v, name] : EnumNames<E>::table)
    if (name_of(v) == name) ++count;
  std::size_t i = 0;
  for (const auto& [v, name] : EnumNames<E>::table) {
    if (name_of(v) != name) continue;
    out += std::string(i == 0 ? "" : i + 1 == count ? " or " : ", ") + std::string(name);
    ++i;
  }
  return out;
}

}  // namespace rfmseg
