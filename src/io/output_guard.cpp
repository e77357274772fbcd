#include "rfmseg/io/output_guard.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <hdf5.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <stdexcept>
#include <vector>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/notices.hpp"
#include "rfmseg/io/ingest.hpp"

namespace rfmseg {

namespace {

std::string directory_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

const char* kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

std::string errno_text(int error) {
  const char* name = error == ENOSPC   ? "ENOSPC"
                     : error == EDQUOT ? "EDQUOT"
                     : error == EROFS  ? "EROFS"
                     : error == EIO    ? "EIO"
                     : error == EACCES ? "EACCES"
                     : error == EPERM  ? "EPERM"
                                       : nullptr;
  return std::string(std::strerror(error)) + (name ? std::string(" (") + name + ")" : "");
}

std::string human_bytes(double bytes) {
  const char* units[] = {"bytes", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) {
    bytes /= 1000;
    ++u;
  }
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.1f %s", bytes, units[u]);
  return text;
}

// Rank 0: the checks of check_output_path; throws ConfigError.
void check_on_root(const std::string& path, const OutputRules& rules) {
  const std::string what = rules.what;
  if (path.empty()) throw ConfigError(std::string("no ") + what + " given: use " + rules.option + " FILE");
  const std::string dir = directory_of(path);
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) throw ConfigError(what + " directory '" + dir + "' does not exist");
  if (!S_ISDIR(st.st_mode)) throw ConfigError(what + " directory '" + dir + "' is not a directory");
  if (::access(dir.c_str(), W_OK) != 0) throw ConfigError(what + " directory '" + dir + "' is not writable");

  struct stat link {};
  if (::lstat(path.c_str(), &link) == 0) {
    struct stat target {};
    const bool resolves = ::stat(path.c_str(), &target) == 0;
    // Never an input: compared by device and inode, so "./a.csv", "/abs/a.csv", a symbolic or a
    // hard link and a glob match are all caught.
    if (resolves) {
      std::vector<std::string> inputs;
      try {
        inputs = expand_inputs(rules.inputs);
      } catch (const std::exception&) {
        // a glob without match is reported by the input stage
      }
      for (const auto& input : inputs) {
        struct stat in {};
        if (::stat(input.c_str(), &in) == 0 && in.st_dev == target.st_dev && in.st_ino == target.st_ino)
          throw ConfigError(what + " '" + path + "' is the input '" + input +
                            "': rfmseg never writes over its input; choose another " + rules.option);
      }
    }
    const mode_t mode = resolves ? target.st_mode : link.st_mode;
    if (!S_ISREG(mode))
      throw ConfigError(what + " '" + path + "' is " + kind_of(mode) +
                        "; rfmseg replaces only regular files (not even with --force): choose another " + rules.option);
    if (S_ISLNK(link.st_mode) && !rules.force)
      throw ConfigError(what + " '" + path +
                        "' is a symbolic link: the result would replace the link, not the file it points to; give "
                        "the file's own path, or --force to replace the link");
    if (!S_ISLNK(link.st_mode) && !rules.force && !rules.replaceable(path))
      throw ConfigError(what + " '" + path + "' exists and is not " + rules.replaceable_what +
                        ": refusing to replace it; choose another " + rules.option + " or add --force");
  }
  // access(W_OK) says yes to root everywhere (even /proc) and knows nothing of read-only or full
  // file systems: create and remove a probe file beside the result instead, before any work.
  const std::string probe = path + ".probe-" + std::to_string(::getpid());
  std::FILE* file = std::fopen(probe.c_str(), "wbx");
  if (file == nullptr || std::fputc('\n', file) == EOF || std::fclose(file) != 0) {
    const std::string reason = errno_text(errno);
    std::remove(probe.c_str());
    throw ConfigError("cannot write in " + what + " directory '" + dir + "': " + reason);
  }
  std::remove(probe.c_str());
}

}  // namespace

bool is_rfmseg_result(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (H5Fis_hdf5(path.c_str()) <= 0) return false;
  const hid_t file = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file < 0) return false;
  bool result = false;
  if (H5Lexists(file, "run", H5P_DEFAULT) > 0) {
    const hid_t run = H5Gopen2(file, "run", H5P_DEFAULT);
    if (run >= 0) {
      result = H5Aexists(run, "version") > 0;
      H5Gclose(run);
    }
  }
  H5Fclose(file);
  H5Eclear2(H5E_DEFAULT);
  return result;
}

bool is_rfmseg_rejects(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return false;
  static constexpr char header[] = "file,line,reason,text\n";
  char start[sizeof header] = {};
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) return false;
  const std::size_t got = std::fread(start, 1, sizeof header - 1, file);
  std::fclose(file);
  return got == sizeof header - 1 && std::memcmp(start, header, sizeof header - 1) == 0;
}

void check_output_path(const mpi::Comm& comm, const std::string& path, const OutputRules& rules) {
  collectively(comm, [&] {
    if (comm.is_root()) check_on_root(path, rules);
  });
}

// ---------------------------------------------------------------- the lock

OutputLock::OutputLock(const mpi::Comm& comm, const std::string& path, const char* option)
    : _lock_path(path + ".lock") {
  collectively(comm, [&] {
    if (!comm.is_root()) return;
    // Open, lock, and make sure the name still refers to the locked file: a run finishing at the
    // same moment removes its lock file, and a lock on a removed file protects nothing.
    for (int attempt = 0; attempt < 20; ++attempt) {
      const int fd = ::open(_lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return;  // no directory, or not writable: check_output_path says so clearly
      if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        if (error == EWOULDBLOCK) {
          char holder[512] = {};
          const ssize_t got = ::pread(fd, holder, sizeof holder - 1, 0);
          ::close(fd);
          std::string text(holder, got > 0 ? static_cast<std::size_t>(got) : 0);
          while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
          throw ConfigError("another rfmseg run is writing '" + path + "' (" +
                            (text.empty() ? std::string("holder unknown") : text) + "; lock '" + _lock_path +
                            "'): wait for it to finish, or choose another " + option);
        }
        ::close(fd);
        notices::warning("cannot lock '" + _lock_path + "' (" + std::strerror(error) + "): concurrent runs writing '" +
                         path + "' are not detected");
        return;
      }
      struct stat held {
      }, named{};
      if (::fstat(fd, &held) == 0 && ::stat(_lock_path.c_str(), &named) == 0 && held.st_dev == named.st_dev &&
          held.st_ino == named.st_ino) {
        char host[256] = {};
        ::gethostname(host, sizeof host - 1);
        char when[32] = {};
        const std::time_t now = std::time(nullptr);
        std::tm tm{};
        ::localtime_r(&now, &tm);
        std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        const std::string text = "pid " + std::to_string(::getpid()) + " on " + host + ", started " + when + "\n";
        if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size()))
          notices::warning("cannot record the lock holder in '" + _lock_path + "'");
        _fd = fd;
        return;
      }
      ::close(fd);  // lost a race with a finishing run: try again
    }
    throw ConfigError("cannot take the lock '" + _lock_path + "': it keeps being replaced");
  });
}

OutputLock::~OutputLock() {
  if (_fd < 0) return;
  // Remove the name while still holding the lock: a waiting run then finds the name gone (or a
  // new file) and retries, instead of locking the removed file.
  ::unlink(_lock_path.c_str());
  ::close(_fd);
}

int remove_stale_temporaries(const std::string& path, bool any_name) {
  const std::string dir = directory_of(path);
  const std::string base = base_name(path);
  DIR* listing = ::opendir(dir.c_str());
  if (listing == nullptr) return 0;
  int removed = 0;
  while (const dirent* entry = ::readdir(listing)) {
    const std::string name = entry->d_name;
    for (const std::string suffix : {".tmp-", ".probe-"}) {
      std::size_t digits = std::string::npos;
      if (any_name) {
        const auto at = name.rfind(suffix);
        if (at != std::string::npos && at > 0) digits = at + suffix.size();
      } else if (name.compare(0, base.size() + suffix.size(), base + suffix) == 0) {
        digits = base.size() + suffix.size();
      }
      if (digits == std::string::npos || digits >= name.size()) continue;
      if (name.find_first_not_of("0123456789", digits) != std::string::npos) continue;
      const std::string stale = dir + "/" + name;
      struct stat st {};
      if (::lstat(stale.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (::unlink(stale.c_str()) == 0) {
        notices::warning("removed '" + stale + "', left by an earlier run that did not finish");
        ++removed;
      }
    }
  }
  ::closedir(listing);
  return removed;
}

void sync_to_storage(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("cannot open '" + path + "' to sync it: " + errno_text(errno));
  const int synced = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (synced != 0) throw std::runtime_error("syncing '" + path + "' to storage failed: " + errno_text(error));
}

std::string check_free_space(const std::string& path, std::uint64_t bytes_needed) {
  const std::string dir = directory_of(path);
  struct statvfs fs {};
  if (::statvfs(dir.c_str(), &fs) != 0) return {};  // unknown: the writes will tell
  const double free_bytes = static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize);
  if (free_bytes >= static_cast<double>(bytes_needed)) return {};
  return errno_text(ENOSPC) + ": needs at least " + human_bytes(static_cast<double>(bytes_needed)) + ", " +
         human_bytes(free_bytes) + " free on the file system of '" + dir + "'";
}

void require_free_space(const mpi::Comm& comm, const std::string& path, std::uint64_t bytes_needed,
                        const std::string& label) {
  std::string reason;
  if (comm.is_root()) reason = check_free_space(path, bytes_needed);
  mpi::broadcast(comm, reason);
  if (!reason.empty()) throw AgreedError("cannot write " + label + ": " + reason + "; '" + path + "' is untouched", 2);
}

AgreedError write_failure(const mpi::Comm& comm, const std::string& path, const std::string& temporary,
                          const std::string& label, const std::string& detail) {
  std::string reason;
  if (comm.is_root()) reason = diagnose_write_failure(path);
  mpi::broadcast(comm, reason);
  return AgreedError("cannot write " + label + (reason.empty() ? "" : ": " + reason) + " (" + detail +
                         "); the temporary file '" + temporary + "' is removed and '" + path + "' is untouched",
                     2);
}

std::string diagnose_write_failure(const std::string& path) {
  const std::string dir = directory_of(path);
  struct statvfs fs {};
  std::string free_text;
  if (::statvfs(dir.c_str(), &fs) == 0)
    free_text = human_bytes(static_cast<double>(fs.f_bavail) * static_cast<double>(fs.f_frsize)) +
                " free on the file system of '" + dir + "'";
  const std::string probe = path + ".probe-" + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  int error = 0;
  if (fd < 0) {
    error = errno;
  } else {
    const std::vector<char> block(1 << 20, '\0');
    if (::write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size()))
      error = errno != 0 ? errno : ENOSPC;
    else if (::fsync(fd) != 0)
      error = errno;
    ::close(fd);
    ::unlink(probe.c_str());
  }
  if (error == 0) return {};
  return errno_text(error) + (free_text.empty() ? "" : ": " + free_text);
}

bool same_file(const std::string& a, const std::string& b) {
  if (a.empty() || b.empty()) return false;
  struct stat sa {
  }, sb{};
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  std::error_code ea, eb;
  const std::filesystem::path pa = std::filesystem::weakly_canonical(std::filesystem::absolute(a), ea),
                              pb = std::filesystem::weakly_canonical(std::filesystem::absolute(b), eb);
  return !ea && !eb && pa == pb;
}

}  // namespace rfmseg
