#pragma once
// Exceptions that map to the documented exit codes: InputError and ConfigError exit 1, anything
// else exits 2 (internal error).

#include <stdexcept>
#include <string>

namespace rfmseg {

/// Bad input data (missing column, unreadable file, contradictory dates, ...). Exit status 1.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Bad or conflicting configuration. Exit status 1.
class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace rfmseg

#include <exception>
#include <utility>

#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

/// An error every rank knows about (agreed collectively): main prints it once on rank 0 and every
/// rank exits with exit_code() after a clean MPI_Finalize.
class AgreedError : public std::runtime_error {
 public:
  AgreedError(const std::string& message, int exit_code) : std::runtime_error(message), _exit_code(exit_code) {}
  [[nodiscard]] int exit_code() const { return _exit_code; }

 private:
  int _exit_code;
};

/// Exit status for an exception: 1 for bad input or configuration, 2 for anything else.
[[nodiscard]] int exit_code_for(const std::exception& error);

/// Agreement point: every rank calls it with the error it met since the last one (or nullptr).
/// If any rank failed, every rank throws AgreedError carrying the lowest failing rank's message.
void agree(const mpi::Comm& comm, std::exception_ptr local_error);

/// Runs `local_work` and then agrees: a throw on some ranks becomes AgreedError on all ranks.
/// `local_work` may contain collectives only if a failure cannot skip them on some ranks.
template <class Work>
void collectively(const mpi::Comm& comm, Work&& local_work) {
  std::exception_ptr error;
  try {
    std::forward<Work>(local_work)();
  } catch (const AgreedError&) {
    throw;
  } catch (...) {
    error = std::current_exception();
  }
  agree(comm, error);
}

}  // namespace rfmseg
