// rfmseg: the MPI job. Parses options, runs the pipeline, turns failures into the documented exit
// status: 0 success, 1 bad input or configuration, 2 internal error, 3 a rank or host stopped
// responding (the watchdog aborts the job itself), 4 reserved: stopped by a signal.

#include <cstdio>
#include <string>
#include <vector>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/parallel/mpi.hpp"
#include "rfmseg/app/options.hpp"
#include "rfmseg/app/pipeline.hpp"
#include "rfmseg/app/verify_command.hpp"
#include "rfmseg/parallel/watchdog.hpp"
#include "version_report.hpp"

int main(int argc, char** argv) {
  rfmseg::mpi::Environment environment(argc, argv);
  int status = 0;
  {
    auto comm = rfmseg::mpi::Comm::world();
    // `rfmseg verify FILE...`: serial checks of finished results, run by rank 0 alone.
    if (argc >= 2 && std::string(argv[1]) == "verify") {
      if (comm.is_root()) status = rfmseg::verify_command(std::vector<std::string>(argv + 2, argv + argc));
      status = rfmseg::mpi::allreduce(comm, status, rfmseg::mpi::Op::max);
      return status;
    }
    try {
      rfmseg::cli::Parsed parsed;
      const std::vector<std::string> args(argv, argv + argc);
      rfmseg::collectively(comm, [&] { parsed = rfmseg::cli::parse(args); });
      if (parsed.help) {
        if (comm.is_root()) std::fputs(parsed.help_text.c_str(), stdout);
      } else if (parsed.version) {
        if (comm.is_root()) std::fputs(rfmseg::version_report().c_str(), stdout);
      } else {
        const rfmseg::watchdog::Guard watchdog(parsed.config.reliability.collective_timeout, comm.rank());
        status = rfmseg::run_pipeline(comm, parsed.config);
      }
    } catch (const rfmseg::AgreedError& error) {
      // Every rank knows; rank 0 speaks, all exit cleanly with the same status.
      if (comm.is_root()) std::fprintf(stderr, "rfmseg: error: %s\n", error.what());
      status = error.exit_code();
    } catch (const std::exception& error) {
      // Only this rank knows: agreement is impossible, so end the whole job now.
      std::fprintf(stderr, "[rank %d] rfmseg: fatal: %s\n", comm.rank(), error.what());
      std::fflush(stderr);
      MPI_Abort(MPI_COMM_WORLD, rfmseg::exit_code_for(error));
    }
  }
  return status;
}
