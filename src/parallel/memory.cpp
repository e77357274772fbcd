#include "rfmseg/parallel/memory.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace rfmseg {

std::optional<std::uint64_t> parse_memory_limit(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.empty() || text == "max") return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  // cgroup v1 writes "no limit" as a huge page-rounded number (about 2^63): treat it as none.
  if (value >= (std::uint64_t{1} << 62)) return std::nullopt;
  return value;
}

namespace {
std::optional<std::uint64_t> read_limit_file(const char* path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return parse_memory_limit(text.str());
}
}  // namespace

std::uint64_t node_memory_bytes() {
  const long pages = ::sysconf(_SC_PHYS_PAGES);
  const long page_size = ::sysconf(_SC_PAGESIZE);
  std::uint64_t bytes =
      pages > 0 && page_size > 0 ? static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size) : 0;
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    if (const auto limit = read_limit_file(path)) {
      bytes = bytes == 0 ? *limit : std::min(bytes, *limit);
      break;
    }
  }
  return bytes;
}

std::uint64_t auto_memory_budget(std::uint64_t node_bytes, int ranks_on_node) {
  const double share = static_cast<double>(node_bytes) * auto_memory_fraction / std::max(ranks_on_node, 1);
  return static_cast<std::uint64_t>(share);
}

std::uint64_t resolve_memory_budget(const mpi::Comm& comm, const InputConfig& config) {
  if (!config.max_memory_per_rank_auto) return config.max_memory_per_rank;
  // The ranks that share this node's memory.
  MPI_Comm node = MPI_COMM_NULL;
  mpi::check(MPI_Comm_split_type(comm.native(), MPI_COMM_TYPE_SHARED, comm.rank(), MPI_INFO_NULL, &node),
             "MPI_Comm_split_type");
  int ranks_on_node = 1;
  const int rc = MPI_Comm_size(node, &ranks_on_node);
  MPI_Comm_free(&node);
  mpi::check(rc, "MPI_Comm_size");
  const std::uint64_t node_bytes = node_memory_bytes();
  // Unknown node memory: no limit rather than a made-up one.
  return node_bytes == 0 ? 0 : std::max<std::uint64_t>(auto_memory_budget(node_bytes, ranks_on_node), 1);
}

std::string format_bytes(std::uint64_t bytes) {
  static constexpr const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  double value = static_cast<double>(bytes);
  std::size_t unit = 0;
  while (value >= 1024 && unit + 1 < std::size(units)) {
    value /= 1024;
    ++unit;
  }
  char text[32];
  if (unit == 0)
    std::snprintf(text, sizeof text, "%llu B", static_cast<unsigned long long>(bytes));
  else
    std::snprintf(text, sizeof text, "%.1f %s", value, units[unit]);
  return text;
}

std::uint64_t IngestBudget::next_chunk(std::uint64_t held_bytes) const {
  if (!limited()) return _upper;
  const std::uint64_t free = _budget > held_bytes ? _budget - held_bytes : 0;
  const auto chunk = static_cast<std::uint64_t>(static_cast<double>(free) / working_factor());
  return std::clamp<std::uint64_t>(chunk, std::min(min_chunk_bytes, _upper), _upper);
}

void IngestBudget::observe(std::uint64_t chunk_bytes, std::uint64_t working_bytes) {
  if (chunk_bytes == 0) return;
  _measured = std::max(_measured, static_cast<double>(working_bytes) / static_cast<double>(chunk_bytes));
}

std::uint64_t IngestBudget::minimum_working_bytes() const {
  return static_cast<std::uint64_t>(
      std::ceil(working_factor() * static_cast<double>(std::min(min_chunk_bytes, _upper))));
}

}  // namespace rfmseg
