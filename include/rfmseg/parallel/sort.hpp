#pragma once
// Range re-partition by customer id: after this, rank r holds a contiguous block of the customers
// in ascending byte order of their ids, so the result file is ordered and a customer's global row
// (exclusive scan of block sizes + local row) is the same for any rank count.

#include "rfmseg/core/customer_table.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// Collective sample sort of the table by id (ids must be unique across ranks).
void sort_by_customer_id(const mpi::Comm& comm, CustomerTable& table);

}  // namespace rfmseg
