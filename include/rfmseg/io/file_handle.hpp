#pragma once
// A read-only file descriptor of an input, closed on scope exit, and positioned reads from it.
// Failures are InputErrors naming the file and the operating system's reason.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <utility>

#include "rfmseg/core/errors.hpp"

namespace rfmseg {

class FileHandle {
 public:
  explicit FileHandle(const std::string& path) : _fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (_fd < 0) throw InputError("cannot open input '" + path + "': " + std::strerror(errno));
  }
  ~FileHandle() {
    if (_fd >= 0) ::close(_fd);
  }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;
  [[nodiscard]] int fd() const { return _fd; }
  /// Gives up ownership: the caller closes the descriptor.
  int release() { return std::exchange(_fd, -1); }

 private:
  int _fd;
};

/// Reads up to `length` bytes at `offset` of `fd` (retrying interrupted and partial reads);
/// returns the count, short only at the end of the file. A read error is an InputError naming
/// `path` and the operating system's reason.
inline std::size_t read_at(int fd, void* into, std::size_t length, std::uint64_t offset, const std::string& path) {
  std::size_t done = 0;
  while (done < length) {
    const ssize_t n = ::pread(fd, static_cast<char*>(into) + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      throw InputError("cannot read input '" + path + "': " + std::strerror(errno));
    }
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return done;
}

}  // namespace rfmseg
