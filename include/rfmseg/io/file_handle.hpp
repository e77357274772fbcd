#pragma once
// A read-only file descriptor of an input, closed on scope exit. Opening failure is an InputError
// naming the file and the operating system's reason.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
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

}  // namespace rfmseg
