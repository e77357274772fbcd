#include "rfmseg/partition.hpp"

#include <cstring>

#include "rfmseg/hash.hpp"

namespace rfmseg {

namespace {
// On the wire: a fixed header, then the customer id and invoice bytes.
struct WireHeader {
  std::uint64_t customer_hash;
  std::uint64_t line_hash;
  std::int64_t quantity;
  std::int64_t price_micros;
  std::int32_t day;
  std::uint16_t customer_length;
  std::uint16_t invoice_length;
};
static_assert(sizeof(WireHeader) == 40);
}  // namespace

void exchange_to_owners(const mpi::Comm& comm, const Transactions& batch, Transactions& owned, ShuffleStats& stats) {
  const auto p = static_cast<std::size_t>(comm.size());
  std::vector<std::size_t> bytes_for(p, 0);
  std::vector<int> owner(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& r = batch.records[i];
    owner[i] = owner_rank(r.customer_hash, comm.size());
    bytes_for[static_cast<std::size_t>(owner[i])] += sizeof(WireHeader) + r.customer_length + r.invoice_length;
  }
  std::vector<std::size_t> offset(p, 0);
  for (std::size_t d = 1; d < p; ++d) offset[d] = offset[d - 1] + bytes_for[d - 1];
  std::vector<char> send(offset[p - 1] + bytes_for[p - 1]);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& r = batch.records[i];
    const WireHeader h{r.customer_hash, r.line_hash, r.quantity, r.price_micros, r.day, r.customer_length, r.invoice_length};
    char* at = send.data() + offset[static_cast<std::size_t>(owner[i])];
    std::memcpy(at, &h, sizeof h);
    std::memcpy(at + sizeof h, batch.text.data() + r.text_offset, r.customer_length + r.invoice_length);
    offset[static_cast<std::size_t>(owner[i])] += sizeof h + r.customer_length + r.invoice_length;
  }
  stats.bytes_sent += send.size() - bytes_for[static_cast<std::size_t>(comm.rank())];
  stats.records_sent += batch.size();
  ++stats.rounds;
  const auto received = mpi::alltoallv<char>(comm, send, bytes_for);
  send = {};
  for (std::size_t pos = 0; pos < received.size();) {
    WireHeader h;
    std::memcpy(&h, received.data() + pos, sizeof h);
    pos += sizeof h;
    const std::string_view customer(received.data() + pos, h.customer_length);
    const std::string_view invoice(received.data() + pos + h.customer_length, h.invoice_length);
    pos += h.customer_length + h.invoice_length;
    owned.add({h.customer_hash, h.line_hash, h.quantity, h.price_micros, h.day, 0, 0, 0}, customer, invoice);
  }
}

}  // namespace rfmseg
