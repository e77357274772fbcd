#include "rfmseg/core/errors.hpp"

namespace rfmseg {

int exit_code_for(const std::exception& error) {
  if (const auto* agreed = dynamic_cast<const AgreedError*>(&error)) return agreed->exit_code();
  if (dynamic_cast<const InputError*>(&error) != nullptr || dynamic_cast<const ConfigError*>(&error) != nullptr)
    return 1;
  return 2;
}

void agree(const mpi::Comm& comm, std::exception_ptr local_error) {
  std::string message;
  int code = 0;
  if (local_error) {
    try {
      std::rethrow_exception(local_error);
    } catch (const std::exception& e) {
      message = e.what();
      code = exit_code_for(e);
    } catch (...) {
      message = "unknown error";
      code = 2;
    }
  }
  // Cheap in the common case: one allreduce; messages travel only when something failed.
  const int worst = mpi::allreduce(comm, code, mpi::Op::max);
  if (worst == 0) return;
  const auto messages = mpi::allgather_strings(comm, message);
  for (std::size_t r = 0; r < messages.size(); ++r) {
    if (messages[r].empty()) continue;
    const std::string where = comm.size() > 1 ? "[rank " + std::to_string(r) + "] " : "";
    throw AgreedError(where + messages[r], worst);
  }
  throw AgreedError("an error occurred", worst);
}

}  // namespace rfmseg
