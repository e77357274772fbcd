#pragma once
// Stage 2 — partition. Every transaction goes to the rank that owns its customer
// (owner_rank(hash(customer id))), in one MPI_Alltoallv per ingest round, so all rows of a customer
// end on one rank and duplicate removal and RFM are local.

#include <cstdint>

#include "rfmseg/ingest.hpp"
#include "rfmseg/mpi.hpp"

namespace rfmseg {

struct ShuffleStats {
  std::uint64_t bytes_sent = 0;
  std::uint64_t records_sent = 0;
  std::uint64_t rounds = 0;
};

/// Collective: sends each record of `batch` to its owner and appends what this rank receives to
/// `owned`.
void exchange_to_owners(const mpi::Comm& comm, const Transactions& batch, Transactions& owned, ShuffleStats& stats);

}  // namespace rfmseg
