#include "rfmseg/parallel/sort.hpp"
#include "rfmseg/core/int128.hpp"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace rfmseg {

namespace {

std::vector<std::size_t> sorted_order(const CustomerTable& table) {
  std::vector<std::size_t> order(table.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return table.id[a] < table.id[b]; });
  return order;
}

// One customer row on the wire: fixed fields, then the id bytes.
struct WireRow {
  std::int32_t last_day;
  std::int32_t recency;
  std::int64_t frequency;
  int128_t monetary_micros;
  double monetary;
  std::uint32_t id_length;
  std::uint32_t padding;
};

}  // namespace

void sort_by_customer_id(const mpi::Comm& comm, CustomerTable& table) {
  table.permute(sorted_order(table));
  const int p = comm.size();
  if (p == 1) return;

  // Regular samples (oversampled) from every rank's sorted ids choose p-1 splitters.
  const std::size_t per_rank = static_cast<std::size_t>(std::min(4 * p, 256));
  std::string samples;
  for (std::size_t s = 0; s < per_rank && !table.id.empty(); ++s) {
    const std::size_t index = (2 * s + 1) * table.size() / (2 * per_rank);
    samples += table.id[index];
    samples.push_back('\0');
  }
  // Ids cannot contain NUL (they come from text fields), so NUL separates them.
  const auto gathered = mpi::allgather_strings(comm, samples);
  std::vector<std::string> all;
  for (const auto& chunk : gathered) {
    std::size_t pos = 0;
    while (pos < chunk.size()) {
      const auto end = chunk.find('\0', pos);
      all.emplace_back(chunk.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  std::sort(all.begin(), all.end());
  std::vector<std::string> splitters;
  for (int i = 1; i < p && !all.empty(); ++i)
    splitters.push_back(all[static_cast<std::size_t>(i) * all.size() / static_cast<std::size_t>(p)]);

  // Rows < splitters[0] go to rank 0, [splitters[i-1], splitters[i]) to rank i.
  std::vector<std::size_t> bytes_for(static_cast<std::size_t>(p), 0);
  std::vector<int> dest(table.size());
  for (std::size_t i = 0; i < table.size(); ++i) {
    dest[i] = static_cast<int>(std::upper_bound(splitters.begin(), splitters.end(), table.id[i]) - splitters.begin());
    bytes_for[static_cast<std::size_t>(dest[i])] += sizeof(WireRow) + table.id[i].size();
  }
  std::vector<std::size_t> offset(static_cast<std::size_t>(p), 0);
  for (std::size_t d = 1; d < offset.size(); ++d) offset[d] = offset[d - 1] + bytes_for[d - 1];
  std::vector<char> send(offset.back() + bytes_for.back());
  for (std::size_t i = 0; i < table.size(); ++i) {
    WireRow row{table.last_day[i],
                table.recency[i],
                table.frequency[i],
                table.monetary_micros[i],
                table.monetary[i],
                static_cast<std::uint32_t>(table.id[i].size()),
                0};
    char* at = send.data() + offset[static_cast<std::size_t>(dest[i])];
    std::memcpy(at, &row, sizeof row);
    std::memcpy(at + sizeof row, table.id[i].data(), table.id[i].size());
    offset[static_cast<std::size_t>(dest[i])] += sizeof row + table.id[i].size();
  }
  const auto received = mpi::alltoallv<char>(comm, send, bytes_for);
  send = {};
  CustomerTable out;
  for (std::size_t pos = 0; pos < received.size();) {
    WireRow row;
    std::memcpy(&row, received.data() + pos, sizeof row);
    pos += sizeof row;
    out.id.emplace_back(received.data() + pos, row.id_length);
    pos += row.id_length;
    out.last_day.push_back(row.last_day);
    out.recency.push_back(row.recency);
    out.frequency.push_back(row.frequency);
    out.monetary_micros.push_back(row.monetary_micros);
    out.monetary.push_back(row.monetary);
  }
  out.permute(sorted_order(out));
  table = std::move(out);
}

}  // namespace rfmseg
