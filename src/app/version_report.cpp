// `rfmseg --version`: the versions of everything rfmseg was built with, for bug reports and for
// checking a cluster installation (xSDK policy M13-style).

#include "version_report.hpp"

#include <hdf5.h>
#include <mpi.h>

#include <Eigen/Core>
#include <boost/version.hpp>
#include <string>

#include "rfmseg/version.hpp"

namespace rfmseg {

namespace {

std::string first_line(const char* text) {
  std::string line(text);
  const auto end = line.find_first_of("\r\n");
  if (end != std::string::npos) line.resize(end);
  while (!line.empty() && (line.back() == ' ' || line.back() == ',')) line.pop_back();
  return line;
}

std::string mpi_library() {
  char text[MPI_MAX_LIBRARY_VERSION_STRING] = {};
  int length = 0;
  if (MPI_Get_library_version(text, &length) != MPI_SUCCESS) return "unknown";
  int major = 0, minor = 0;
  MPI_Get_version(&major, &minor);
  return first_line(text) + " (MPI standard " + std::to_string(major) + "." + std::to_string(minor) + ")";
}

std::string hdf5_library() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  std::string text = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release);
#ifdef H5_HAVE_PARALLEL
  text += " parallel";
#else
  text += " serial";
#endif
  return text + " (headers " + std::to_string(H5_VERS_MAJOR) + "." + std::to_string(H5_VERS_MINOR) + "." +
         std::to_string(H5_VERS_RELEASE) + ")";
}

std::string boost_version() {
  std::string text = BOOST_LIB_VERSION;
  for (auto& c : text)
    if (c == '_') c = '.';
  return text;
}

}  // namespace

std::string version_report() {
  std::string text = std::string("rfmseg ") + version_string + " (" + git_commit + ")\n";
  text += "  MPI:       " + mpi_library() + "\n";
  text += "  HDF5:      " + hdf5_library() + "\n";
  text += "  Boost:     " + boost_version() + "\n";
  text += "  Eigen:     " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
          std::to_string(EIGEN_MINOR_VERSION) + "\n";
  text += std::string("  Compiler:  ") + build_compiler + " (" + __VERSION__ + ")\n";
  text += std::string("  Build:     ") + build_type + "\n";
  text += std::string("  Flags:     ") + build_flags + "\n";
  return text;
}

}  // namespace rfmseg
