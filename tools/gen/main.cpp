// rfmseg-gen: deterministic synthetic transaction logs for rfmseg, written by all ranks at once.
//
// Every output byte is a pure function of the arguments, never of the rank count:
//
//  * Line j (0-based data line) draws one counter-based word W(j) = random_word(seed, LINE, j).
//    Its top 24 bits decide whether j starts a new invoice (probability 1/5, so baskets are
//    geometric with mean 5; line 0 always starts one); the low 40 bits pick the line-level dirt.
//  * An invoice is identified by its start line s. Everything about it (kind, customer, time,
//    products, quantities) is drawn from (seed, s) and (seed, s, line-in-invoice). Its number is
//    536365 + (number of invoice starts before s), which needs a prefix count over earlier lines:
//    each rank counts the starts of its chunk and an allgather gives the prefix.
//  * Lines are spread over the days of the period by a fixed table day_begin[d] (first line of day d,
//    snapped forward to an invoice start), derived from the group activity windows and a weekly
//    pattern (no trade on Saturdays, like the UCI data). Within a day the clock runs from 07:00 to
//    20:00 in line order, so the file is sorted by time.
//  * The work is cut into chunks of whole days (days with more than --chunk-lines lines are split);
//    chunk c goes to rank c mod P. Per round every rank formats one chunk into a private buffer
//    (at most --chunk-lines * max_line_bytes bytes), an allgather of the chunk sizes gives each rank its
//    byte offset, and everyone pwrite()s into the one output file that rank 0 created.
//    A chunk that starts inside an invoice re-generates that invoice from its start (and walks
//    back over duplicated lines) without emitting, so the bytes do not depend on where chunks
//    start.
//
// Customers belong to latent groups (pure function of (seed, customer index)) with their own
// purchase rate, activity window (recency), product price tier and quantity profile. The
// customer of an invoice is drawn by rejection sampling: a uniform candidate is accepted with
// probability proportional to its group's rate on that day times a per-customer multiplier.
//
// With --groups the ranks also compute the exact RFM table rfmseg must produce under its default
// cleaning rules (README "Data semantics") and rank 0 writes it next to each customer's group.
//
// Where each part lives (tools/gen/):
//   options       the command line (Boost.Program_options) and --help
//   shop_model    catalog, customer groups, countries, the day table, every random draw
//   random_stream counter-based random words, one stream per purpose
//   generator     invoices and the loop over a chunk of lines; rows.cpp: the row of each layout
//   ground_truth  what rfmseg must compute (--groups), written by rank 0
//   chunks        the work units (whole days, big days split)
//   run           file creation, the rounds of generate / allgather offsets / pwrite, reductions
//   put_text      number and text writers into the line buffer

// Only the MPI C API is used; skipping the deprecated C++ bindings keeps their warnings out.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif

#include <cstdio>
#include <exception>

#include "gen/options.hpp"
#include "gen/run.hpp"
#include "rfmseg/parallel/mpi.hpp"

int main(int argc, char** argv) {
  rfmseg::mpi::Environment env(argc, argv);
  try {
    const auto comm = rfmseg::mpi::Comm::world();
    rfmseg::gen::Options opt;
    try {
      opt = rfmseg::gen::parse_options(argc, argv);
    } catch (const rfmseg::gen::UsageError& e) {
      if (comm.is_root()) std::fprintf(stderr, "rfmseg-gen: %s (see --help)\n", e.what());
      return 1;
    }
    if (opt.is_help) {
      if (comm.is_root()) std::fputs(rfmseg::gen::help_text().c_str(), stdout);
      return 0;
    }
    return rfmseg::gen::run(comm, opt);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rfmseg-gen: internal error: %s\n", e.what());
    MPI_Abort(MPI_COMM_WORLD, 2);
    return 2;
  }
}
