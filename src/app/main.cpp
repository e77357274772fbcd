// rfmseg: the MPI job. Parses options, runs the pipeline, turns failures into the documented exit
// status: 0 success, 1 bad input or configuration, 2 internal error, 3 a rank or host stopped
// responding (the watchdog aborts the job itself), 4 stopped by a signal, resumable with --resume
// (rfmseg/parallel/stop.hpp).

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "rfmseg/app/options.hpp"
#include "rfmseg/app/pipeline.hpp"
#include "rfmseg/app/progress.hpp"
#include "rfmseg/app/saved_model.hpp"
#include "rfmseg/app/score.hpp"
#include "rfmseg/app/summary.hpp"
#include "rfmseg/app/verify_command.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/parallel/mpi.hpp"
#include "rfmseg/parallel/stop.hpp"
#include "rfmseg/parallel/watchdog.hpp"
#include "version_report.hpp"

namespace {

// A word as the shell reads it back: plain when safe, else in single quotes.
std::string shell_word(const std::string& word) {
  if (!word.empty() &&
      word.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./=:,@+%") ==
          std::string::npos)
    return word;
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

// The one message of a stop (rank 0): signal, phase and position, what was saved, how to resume.
std::string stop_message(const rfmseg::stop::Stopped& stopped, const std::vector<std::string>& args,
                         const rfmseg::RunConfig& config) {
  std::string text = "rfmseg: " + std::string(stopped.what()) + " (exit status 4)\n";
  if (config.reliability.checkpoint_dir.empty()) {
    text +=
        "rfmseg: no --checkpoint: nothing was saved; rerun the same command to start over (add --checkpoint DIR "
        "to make a stop resumable)\n";
    return text;
  }
  const bool before_table = stopped.where().find("ingest") != std::string::npos ||
                            stopped.where().find("phase rfm") != std::string::npos ||
                            stopped.where().find("phase sort") != std::string::npos;
  text += "rfmseg: checkpoint in " + config.reliability.checkpoint_dir +
          (before_table ? " (the customer table was not complete yet: --resume reads the input again)"
                        : " is up to date with this position") +
          "\n";
  std::string command;
  bool has_resume = false;
  for (const auto& arg : args) {
    has_resume = has_resume || arg == "--resume";
    command += (command.empty() ? "" : " ") + shell_word(arg);
  }
  if (!has_resume) command += " --resume";
  text += "rfmseg: resume with the same launcher and: " + command + "\n";
  return text;
}

}  // namespace

int main(int argc, char** argv) {
  rfmseg::mpi::Environment environment(argc, argv);
  rfmseg::stop::install_handlers();  // after MPI_Init, so that these are the handlers in force
  int status = 0;
  {
    auto comm = rfmseg::mpi::Comm::world();
    // `rfmseg verify FILE...`: serial checks of finished results, run by rank 0 alone.
    if (argc >= 2 && std::string(argv[1]) == "verify") {
      if (comm.is_root()) status = rfmseg::verify_command(std::vector<std::string>(argv + 2, argv + argc));
      status = rfmseg::mpi::allreduce(comm, status, rfmseg::mpi::Op::max);
      return status;
    }
    // `rfmseg summary FILE...`: one line of facts per result (the nightly history), rank 0 alone.
    if (argc >= 2 && std::string(argv[1]) == "summary") {
      if (comm.is_root()) status = rfmseg::summary_command(std::vector<std::string>(argv + 2, argv + argc));
      status = rfmseg::mpi::allreduce(comm, status, rfmseg::mpi::Op::max);
      return status;
    }
    std::optional<rfmseg::ProgressReporter> reporter;
    std::string final_message;
    const std::vector<std::string> args(argv, argv + argc);
    rfmseg::cli::Parsed parsed;
    const bool score = argc >= 2 && std::string(argv[1]) == "score";
    try {
      if (score) {
        // `rfmseg score`: the command line, then the model (collective), then the model's
        // recorded configuration under the command line.
        rfmseg::cli::ScoreParsed scored;
        rfmseg::collectively(comm, [&] { scored = rfmseg::cli::parse_score(args, nullptr); });
        if (scored.help) {
          if (comm.is_root()) std::fputs(scored.help_text.c_str(), stdout);
        } else {
          const rfmseg::SavedModel model = rfmseg::load_saved_model(comm, scored.model);
          rfmseg::collectively(comm, [&] { scored = rfmseg::cli::parse_score(args, &model.configuration); });
          parsed.config = scored.config;
          if (comm.is_root() && (parsed.config.progress || !parsed.config.status_file.empty()))
            reporter.emplace(parsed.config);
          const rfmseg::watchdog::Guard watchdog(parsed.config.reliability.collective_timeout, comm.rank());
          status = rfmseg::run_score(comm, parsed.config, model);
        }
      } else {
        rfmseg::collectively(comm, [&] { parsed = rfmseg::cli::parse(args); });
        if (parsed.help) {
          if (comm.is_root()) std::fputs(parsed.help_text.c_str(), stdout);
        } else if (parsed.version) {
          if (comm.is_root()) std::fputs(rfmseg::version_report().c_str(), stdout);
        } else {
          if (comm.is_root() && (parsed.config.progress || !parsed.config.status_file.empty()))
            reporter.emplace(parsed.config);
          rfmseg::stop::set_checkpointing(!parsed.config.reliability.checkpoint_dir.empty());
          const rfmseg::watchdog::Guard watchdog(parsed.config.reliability.collective_timeout, comm.rank());
          status = rfmseg::run_pipeline(comm, parsed.config);
        }
      }
    } catch (const rfmseg::stop::Stopped& stopped) {
      // Every rank stopped at the same safe point; rank 0 says once where and how to resume.
      if (comm.is_root()) std::fputs(stop_message(stopped, args, parsed.config).c_str(), stderr);
      final_message = stopped.what();
      status = rfmseg::stop::exit_code;
    } catch (const rfmseg::AgreedError& error) {
      // Every rank knows; rank 0 speaks, all exit cleanly with the same status.
      if (comm.is_root()) std::fprintf(stderr, "rfmseg: error: %s\n", error.what());
      final_message = error.what();
      status = error.exit_code();
    } catch (const std::exception& error) {
      // Only this rank knows: agreement is impossible, so end the whole job now.
      std::fprintf(stderr, "[rank %d] rfmseg: fatal: %s\n", comm.rank(), error.what());
      std::fflush(stderr);
      if (reporter) reporter->finish(rfmseg::exit_code_for(error), error.what());
      MPI_Abort(MPI_COMM_WORLD, rfmseg::exit_code_for(error));
    }
    if (reporter) reporter->finish(status, final_message);
  }
  return status;
}
