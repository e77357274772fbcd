#pragma once
// `rfmseg verify FILE...`: the command-line face of io/verify.hpp.

#include <string>
#include <vector>

namespace rfmseg {

/// The subcommand: args are what follows "verify". Prints one verdict per file; returns the exit
/// status (0 all intact, 1 some file failed or bad usage).
int verify_command(const std::vector<std::string>& args);

}  // namespace rfmseg
