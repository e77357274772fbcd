#pragma once
// `rfmseg --version`: what this executable is and what it was built with (xSDK style).
#include <string>

namespace rfmseg {

// First line "rfmseg X.Y.Z (commit)", then one line each for MPI (the library's own first line),
// HDF5 (the library linked at run time, and the headers built against), Boost, Eigen, the
// compiler, the build type and the flags.
std::string version_report();

}  // namespace rfmseg
