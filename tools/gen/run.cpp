// Only the MPI C API is used; skipping the deprecated C++ bindings keeps their warnings out.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif

#include "gen/run.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "gen/chunks.hpp"
#include "gen/generator.hpp"
#include "gen/ground_truth.hpp"
#include "gen/put_text.hpp"
#include "gen/shop_model.hpp"
#include "rfmseg/core/date.hpp"

namespace rfmseg::gen {

namespace {

void write_all(int fd, const char* data, std::size_t size, std::uint64_t offset, const std::string& path) {
  while (size > 0) {
    const std::size_t n = std::min<std::size_t>(size, std::size_t{1} << 30);
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
    }
    data += w;
    size -= static_cast<std::size_t>(w);
    offset += static_cast<std::uint64_t>(w);
  }
}

/// Sums (or maximizes) a big vector over all ranks in pieces that fit MPI's int counts.
template <class T>
void allreduce_big(const rfmseg::mpi::Comm& comm, std::vector<T>& v, rfmseg::mpi::Op op) {
  constexpr std::size_t piece_size = std::size_t{1} << 24;
  for (std::size_t i = 0; i < v.size(); i += piece_size) {
    const std::size_t n = std::min(piece_size, v.size() - i);
    rfmseg::mpi::allreduce_inplace(comm, std::span<T>(v.data() + i, n), op);
  }
}

/// --truth: customer_id,group,night_1,...,night_N; night k's behaviour is the one of its first new day.
void write_behaviours(const ShopModel& model, const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "wb"), &std::fclose);
  if (!file) throw std::runtime_error("cannot create " + path + ": " + std::strerror(errno));
  const Options& opt = model.opt;
  std::string text = "customer_id,group";
  for (std::uint64_t k = 1; k <= opt.night; ++k) text += ",night_" + std::to_string(k);
  text += '\n';
  char id[64];
  for (std::uint64_t c = 0; c < model.customer_count; ++c) {
    text.append(id, static_cast<std::size_t>(model.put_customer(id, c) - id));
    const std::size_t g = model.group_of(c);
    text += ',';
    text += customer_groups[g].name;
    for (std::uint64_t k = 1; k <= opt.night; ++k) {
      const std::size_t d = k == 1 ? 0 : static_cast<std::size_t>(opt.days + (k - 2) * opt.night_days);
      text += ',';
      text += customer_groups[model.behaviour_of(c, d)].name;
    }
    text += '\n';
    if (text.size() >= (1u << 20) || c + 1 == model.customer_count) {
      if (std::fwrite(text.data(), 1, text.size(), file.get()) != text.size())
        throw std::runtime_error("cannot write " + path + ": " + std::strerror(errno));
      text.clear();
    }
  }
  if (std::fclose(file.release()) != 0) throw std::runtime_error("cannot close " + path + ": " + std::strerror(errno));
}

}  // namespace

int run(const rfmseg::mpi::Comm& comm, const Options& opt) {
  namespace mpi = rfmseg::mpi;
  const double t0 = MPI_Wtime();
  const ShopModel model(opt);
  const std::vector<Chunk> chunks = make_chunks(model);
  const auto ranks = static_cast<std::size_t>(comm.size());
  const auto rank = static_cast<std::size_t>(comm.rank());

  // Rank 0 creates (truncates) the file and writes the header; then everyone opens it. The
  // ground-truth file is opened up front too, so a bad path fails before the long part.
  int fd = -1;
  std::FILE* groups_file = nullptr;
  std::string error;
  if (comm.is_root()) {
    if (!opt.groups.empty()) {
      groups_file = std::fopen(opt.groups.c_str(), "wb");
      if (groups_file == nullptr) error = "cannot create " + opt.groups + ": " + std::strerror(errno);
    }
    if (!error.empty()) {
    } else if (fd = ::open(opt.output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644); fd < 0) {
      error = "cannot create " + opt.output + ": " + std::strerror(errno);
    } else {
      try {
        write_all(fd, model.header.data(), model.header.size(), 0, opt.output);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
  }
  if (mpi::any_of(comm, !error.empty())) {
    if (!error.empty()) std::fprintf(stderr, "rfmseg-gen: %s\n", error.c_str());
    if (fd >= 0) ::close(fd);
    if (groups_file != nullptr) std::fclose(groups_file);
    return 1;
  }
  // Closes the ground-truth file on every early return below.
  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::unique_ptr<std::FILE, FileCloser> groups_guard(groups_file);
  if (!comm.is_root()) {
    fd = ::open(opt.output.c_str(), O_WRONLY);
    if (fd < 0) error = "cannot open " + opt.output + ": " + std::strerror(errno);
  }
  if (mpi::any_of(comm, !error.empty())) {
    if (!error.empty()) std::fprintf(stderr, "rfmseg-gen (rank %zu): %s\n", rank, error.c_str());
    if (fd >= 0) ::close(fd);
    return 1;
  }

  std::unique_ptr<GroundTruth> truth;
  if (!opt.groups.empty()) truth = std::make_unique<GroundTruth>(model.customer_count);

  std::size_t max_chunk = 0;
  for (const Chunk& c : chunks) max_chunk = std::max<std::size_t>(max_chunk, static_cast<std::size_t>(c.end - c.begin));
  const std::unique_ptr<char[]> buffer(new char[std::max<std::size_t>(1, max_chunk) * max_line_bytes]);
  Generator gen(model);

  std::uint64_t starts_total = 0;                   // invoice starts before this round
  std::uint64_t bytes_total = model.header.size();  // file offset of this round
  const std::size_t rounds = (chunks.size() + ranks - 1) / ranks;
  for (std::size_t round = 0; round < rounds; ++round) {
    const std::size_t ci = round * ranks + rank;
    const bool have = ci < chunks.size();
    const Chunk c = have ? chunks[ci] : Chunk{0, 0};
    const std::uint64_t my_starts = have ? gen.count_starts(c.begin, c.end) : 0;
    const auto starts = mpi::allgather<std::uint64_t>(comm, my_starts);
    std::uint64_t starts_before = starts_total;
    for (std::size_t r = 0; r < rank; ++r) starts_before += starts[r];
    for (std::uint64_t s : starts) starts_total += s;

    std::size_t size = 0;
    if (have) size = gen.chunk(c.begin, c.end, starts_before, buffer.get(), truth.get());
    const auto sizes = mpi::allgather<std::uint64_t>(comm, static_cast<std::uint64_t>(size));
    std::uint64_t offset = bytes_total;
    for (std::size_t r = 0; r < rank; ++r) offset += sizes[r];
    for (std::uint64_t s : sizes) bytes_total += s;
    try {
      write_all(fd, buffer.get(), size, offset, opt.output);
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (mpi::any_of(comm, !error.empty())) {
      if (!error.empty()) std::fprintf(stderr, "rfmseg-gen (rank %zu): %s\n", rank, error.c_str());
      ::close(fd);
      return 1;
    }
  }
  if (::close(fd) != 0) error = "cannot close " + opt.output + ": " + std::strerror(errno);
  if (mpi::any_of(comm, !error.empty())) {
    if (!error.empty()) std::fprintf(stderr, "rfmseg-gen (rank %zu): %s\n", rank, error.c_str());
    return 1;
  }

  std::string truth_line;
  if (truth) {
    allreduce_big(comm, truth->sums, mpi::Op::sum);
    allreduce_big(comm, truth->last_day, mpi::Op::max);
    const auto fates =
        mpi::allreduce(comm, std::vector<std::int64_t>(truth->fates.begin(), truth->fates.end()), mpi::Op::sum);
    std::int32_t max_day = -1;
    std::uint64_t in_table = 0, listed = 0;
    for (std::uint64_t cu = 0; cu < model.customer_count; ++cu) {
      max_day = std::max(max_day, truth->last_day[static_cast<std::size_t>(cu)]);
      in_table += truth->at(cu, GroundTruth::kept_lines) > 0 ? 1 : 0;
      listed += truth->at(cu, GroundTruth::id_lines) > 0 ? 1 : 0;
    }
    const std::size_t snapshot_day = static_cast<std::size_t>(max_day + 1);
    if (comm.is_root()) {
      try {
        write_groups(model, *truth, groups_guard.release(), opt.groups, snapshot_day);
      } catch (const std::exception& e) {
        error = e.what();
      }
      truth_line = "rfmseg-gen: truth:";
      for (std::size_t f = 0; f < fate_count; ++f) {
        truth_line += std::string(" ") + fate_names[f] + "=" + std::to_string(fates[f]);
      }
      truth_line += " customers_listed=" + std::to_string(listed) + " customers_in_table=" + std::to_string(in_table);
      const auto snapshot = static_cast<std::int32_t>(opt.start_day + static_cast<std::int64_t>(snapshot_day));
      truth_line += " snapshot=" + (max_day < 0 ? std::string("none") : format_day(snapshot)) + " -> " + opt.groups;
    }
    if (mpi::any_of(comm, !error.empty())) {
      if (!error.empty()) std::fprintf(stderr, "rfmseg-gen: %s\n", error.c_str());
      return 1;
    }
  }

  if (!opt.truth.empty()) {
    if (comm.is_root()) {
      try {
        write_behaviours(model, opt.truth);
      } catch (const std::exception& e) {
        error = e.what();
      }
    }
    if (mpi::any_of(comm, !error.empty())) {
      if (!error.empty()) std::fprintf(stderr, "rfmseg-gen: %s\n", error.c_str());
      return 1;
    }
  }

  comm.barrier();
  const double seconds = MPI_Wtime() - t0;
  if (comm.is_root()) {
    static constexpr std::array<const char*, 3> format_names = {"online-retail", "online-retail-ii", "amount"};
    std::printf(
        "rfmseg-gen: %llu lines, %llu bytes, %llu customers, %.3f s, %.1f MB/s "
        "(%zu ranks, %s, seed %llu, dirt %g) -> %s\n",
        static_cast<unsigned long long>(model.line_count), static_cast<unsigned long long>(bytes_total),
        static_cast<unsigned long long>(model.customer_count), seconds,
        seconds > 0 ? static_cast<double>(bytes_total) / seconds / 1e6 : 0.0, ranks,
        format_names[static_cast<std::size_t>(opt.format)], static_cast<unsigned long long>(opt.seed), opt.dirt,
        opt.output.c_str());
    if (!truth_line.empty()) std::printf("%s\n", truth_line.c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace rfmseg::gen
