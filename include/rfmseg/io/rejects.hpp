#pragma once
// --rejects FILE: every line whose fate the reader decides (it cannot be used: bad_field_count,
// bad_number, bad_date, bad_customer_id, missing_customer, and any reader fate added later) as
// one CSV row `file,line,reason,text` — input path, physical line number (the first one of a
// record spanning lines), the fate's name (as in /run count_<fate>) and the record's raw bytes
// without its line end, RFC 4180 quoted so that any bytes round-trip.
//
// Each rank collects its rows in input order (its byte range comes after the lower ranks'), in
// memory up to a limit and beyond it in a spill file; at the end the rows are written with MPI-IO
// at the exclusive scan of the ranks' byte counts, so the file is byte-identical for any rank
// count. Like the result it is written under "<FILE>.tmp-<pid>" and renamed only when the whole
// job succeeded.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/io/ingest.hpp"
#include "rfmseg/io/output_guard.hpp"
#include "rfmseg/parallel/mpi.hpp"

namespace rfmseg {

namespace rejects {

inline constexpr std::string_view header = "file,line,reason,text\n";

/// Appends `field` as an RFC 4180 quoted field: in double quotes, each quote doubled, every other
/// byte (delimiters, CR, LF, NUL, non-UTF-8) as it is.
void append_quoted(std::string& out, std::string_view field);

/// Appends one row: quoted file, line, reason, quoted text, '\n'.
void append_row(std::string& out, std::string_view file, std::uint64_t line, std::string_view reason,
                std::string_view text);

/// Bytes of rows a rank keeps in memory before it spills to disk, under a memory budget per rank
/// (0 = none): 1/32 of the budget, between 64 KiB and 4 MiB.
[[nodiscard]] std::uint64_t memory_limit_bytes(std::uint64_t budget_bytes);

}  // namespace rejects

/// One rank's rejected lines as CSV rows, in the order they arrive: in memory up to
/// `memory_limit_bytes` (plus one piece of a long line), beyond that appended to a spill file that
/// is unlinked as soon as it is created (nothing is left behind, whatever ends the process).
class RejectRows final : public RejectSink {
 public:
  /// `file_paths`: the input paths by file index; `with_header`: starts with rejects::header.
  RejectRows(std::vector<std::string> file_paths, std::string spill_path, std::uint64_t memory_limit_bytes,
             bool with_header);
  ~RejectRows() override;
  RejectRows(const RejectRows&) = delete;
  RejectRows& operator=(const RejectRows&) = delete;

  void reject(std::uint32_t file, std::uint64_t line, Fate fate, std::string_view record) override;

  /// CSV bytes so far (header included), rows so far.
  [[nodiscard]] std::uint64_t bytes() const { return _spilled + _buffer.size(); }
  [[nodiscard]] std::uint64_t rows() const { return _rows; }
  [[nodiscard]] std::uint64_t memory_limit() const { return _limit; }
  /// Memory held, for the budget.
  [[nodiscard]] std::uint64_t memory_bytes() const { return _buffer.capacity() + _scratch.capacity(); }
  /// Bytes [from, from + length) of the rows (spilled or in memory); valid until the next call.
  [[nodiscard]] std::string_view read(std::uint64_t from, std::size_t length);

 private:
  void spill();

  std::vector<std::string> _paths;
  std::string _spill_path;
  std::uint64_t _limit;
  std::string _buffer;
  std::string _scratch;
  std::uint64_t _spilled = 0;
  std::uint64_t _rows = 0;
  int _spill_fd = -1;
};

/// The --rejects file of a run.
class RejectsFile {
 public:
  /// Collective: takes the lock on `final_path` (one writer), removes temporary files of dead runs,
  /// and checks the path under the result's rules (`result_rules`: inputs, --force), as a rejects
  /// file: not the result, and an existing file is replaced only when it is a rejects file.
  RejectsFile(const mpi::Comm& comm, std::string final_path, const OutputRules& result_rules,
              const std::string& output_path);
  /// Without commit(): rank 0 removes the temporary file; no collective call is made.
  ~RejectsFile();
  RejectsFile(const RejectsFile&) = delete;
  RejectsFile& operator=(const RejectsFile&) = delete;

  /// Collective: refuses a path that is one of the inputs, then collects rows, at most
  /// `memory_limit_bytes` of them in memory per rank.
  void start(const InputPlan& plan, std::uint64_t memory_limit_bytes);
  /// The sink for Reader::set_reject_sink (after start()).
  [[nodiscard]] RejectSink& sink() { return *_rows; }
  [[nodiscard]] std::uint64_t memory_bytes() const { return _rows ? _rows->memory_bytes() : 0; }
  /// Collective: writes every rank's rows into the temporary file (MPI-IO, each rank at the
  /// exclusive scan of the byte counts) and frees them. Returns the rows written (all ranks).
  std::uint64_t write();
  /// Collective: renames the temporary file to the final path. Call after the result's commit.
  void commit();
  [[nodiscard]] const std::string& path() const { return _final; }
  [[nodiscard]] const std::string& temporary_path() const { return _temporary; }

 private:
  const mpi::Comm& _comm;
  std::string _final;
  std::string _temporary;
  std::unique_ptr<RejectRows> _rows;
  /// Local: re-reads this rank's `length` bytes at `offset` in pieces of `piece` and compares their
  /// checksum; "" when they match and the file has `total_bytes`.
  [[nodiscard]] std::string read_back(std::uint64_t offset, std::uint64_t length, std::uint64_t piece,
                                      std::uint64_t expected_sum, std::uint64_t total_bytes) const;
  /// Collective: an exit-2 error naming the file and the OS reason (full disk, ...).
  [[nodiscard]] AgreedError write_failure(const std::string& what) const;

  bool _committed = false;
  std::unique_ptr<OutputLock> _lock;
};

}  // namespace rfmseg
