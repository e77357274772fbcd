#include "rfmseg/io/ingest.hpp"
#include "rfmseg/core/int128.hpp"
#include "rfmseg/core/notices.hpp"
#include "rfmseg/core/packing.hpp"
#include "rfmseg/io/file_handle.hpp"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <tuple>

#include "rfmseg/core/date.hpp"
#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/excerpt.hpp"
#include "rfmseg/core/hash.hpp"
#include "rfmseg/core/number.hpp"

namespace rfmseg {

const char* fate_name(Fate fate) {
  switch (fate) {
    case Fate::bad_field_count: return "bad_field_count";
    case Fate::bad_customer_id: return "bad_customer_id";
    case Fate::bad_number: return "bad_number";
    case Fate::bad_date: return "bad_date";
    case Fate::missing_customer: return "missing_customer";
    case Fate::after_snapshot: return "after_snapshot";
    case Fate::outside_window: return "outside_window";
    case Fate::duplicate: return "duplicate";
    case Fate::cancellation: return "cancellation";
    case Fate::zero_quantity: return "zero_quantity";
    case Fate::nonpositive_price: return "nonpositive_price";
    case Fate::kept: return "kept";
  }
  return "?";
}

std::int64_t CleaningCounters::unparseable() const {
  std::int64_t sum = 0;
  for (std::size_t f = 0; f < fate_count; ++f)
    if (is_unparseable(static_cast<Fate>(f))) sum += fates[f];
  return sum;
}

void CleaningCounters::reduce(const mpi::Comm& comm) {
  std::vector<std::int64_t> all{lines, blank_lines};
  all.insert(all.end(), fates.begin(), fates.end());
  all.insert(all.end(), evidence.begin(), evidence.end());
  all = mpi::allreduce(comm, std::move(all), mpi::Op::sum);
  lines = all[0];
  blank_lines = all[1];
  std::copy(all.begin() + 2, all.begin() + 2 + fate_count, fates.begin());
  std::copy(all.begin() + 2 + fate_count, all.end(), evidence.begin());
}

std::string format_counters(const CleaningCounters& counters) {
  std::string text = "lines " + std::to_string(counters.lines) + ": kept " + std::to_string(counters[Fate::kept]);
  for (std::size_t f = 0; f < fate_count; ++f)
    if (counters.fates[f] != 0 && static_cast<Fate>(f) != Fate::kept)
      text += std::string(", ") + fate_name(static_cast<Fate>(f)) + " " + std::to_string(counters.fates[f]);
  if (counters.blank_lines != 0) text += ", blank " + std::to_string(counters.blank_lines);
  return text;
}

std::string describe_bad_line(const BadLine& bad, const InputPlan& plan) {
  return plan.files[bad.file].path + ":" + std::to_string(bad.line) + ": " + fate_name(bad.fate) + ": " + bad.excerpt;
}

std::vector<std::string> dropped_line_hints(const CleaningCounters& counters, const InputConfig& config,
                                            bool all_dropped) {
  // The kinds worth a sentence: at least a tenth of the lines in question, most frequent first.
  const std::int64_t unparseable = counters.unparseable();
  std::vector<Fate> kinds;
  for (std::size_t f = 0; f < fate_count; ++f) {
    const auto fate = static_cast<Fate>(f);
    const std::int64_t n = counters[fate];
    if (n == 0) continue;
    if (is_unparseable(fate)
            ? 10 * n >= unparseable
            : all_dropped &&
                  (fate == Fate::missing_customer || fate == Fate::after_snapshot || fate == Fate::outside_window) &&
                  10 * n >= counters.lines)
      kinds.push_back(fate);
  }
  std::stable_sort(kinds.begin(), kinds.end(), [&](Fate a, Fate b) { return counters[a] > counters[b]; });
  const auto share = [&](Evidence e, Fate fate) {  // "N of the M <fate> lines"
    return std::to_string(counters[e]) + " of the " + std::to_string(counters[fate]) + " " + fate_name(fate) + " lines";
  };
  const auto most = [&](Fate fate, std::initializer_list<Evidence> candidates) {  // best evidence for a majority
    Evidence best = *candidates.begin();
    for (const Evidence e : candidates)
      if (counters[e] > counters[best]) best = e;
    return 2 * counters[best] >= counters[fate] ? std::optional<Evidence>(best) : std::nullopt;
  };
  std::vector<std::string> hints;
  for (const Fate fate : kinds) {
    switch (fate) {
      case Fate::bad_number:
        if (!config.decimal_comma && most(fate, {Evidence::decimal_comma}))
          hints.push_back(share(Evidence::decimal_comma, fate) +
                          " hold numbers with ',' as the decimal separator: add --decimal-comma");
        else if (config.decimal_comma && most(fate, {Evidence::decimal_point}))
          hints.push_back(share(Evidence::decimal_point, fate) +
                          " hold numbers with '.' as the decimal separator: drop --decimal-comma");
        else
          hints.push_back(
              "bad_number: check the number columns (--col-quantity, --col-price or --col-amount) and "
              "--decimal-comma; numbers are [+-]digits[.digits], without exponents or thousands separators");
        break;
      case Fate::bad_field_count:
        if (const auto e = most(fate, {Evidence::semicolon, Evidence::tab, Evidence::comma, Evidence::pipe})) {
          static constexpr const char* names[] = {"';'", "tabs", "','", "'|'"};
          static constexpr const char* options[] = {"semicolon", "tab", "comma", "'|'"};
          const auto i = static_cast<std::size_t>(*e) - static_cast<std::size_t>(Evidence::semicolon);
          hints.push_back(share(*e, fate) + " contain " + names[i] +
                          ": the file may be separated by them: set --delimiter " + options[i]);
        } else {
          hints.push_back(
              "bad_field_count: lines have another number of fields than the header: check --delimiter "
              "and the quoting (an unclosed quote joins the lines after it)");
        }
        break;
      case Fate::bad_date:
        if (const auto e =
                most(fate, {Evidence::iso, Evidence::mdy, Evidence::dmy, Evidence::yyyymmdd, Evidence::dd_mon_yy})) {
          static constexpr const char* formats[] = {"iso", "mdy", "dmy", "yyyymmdd", "dd-mon-yy"};
          const auto i = static_cast<std::size_t>(*e) - static_cast<std::size_t>(Evidence::iso);
          hints.push_back(share(*e, fate) + " hold dates in the " + formats[i] + " layout: set --date-format " +
                          formats[i] + (*e == Evidence::dmy ? " (or --day-first)" : ""));
        } else {
          hints.push_back(
              "bad_date: check --date-format and --day-first, and the date column (--col-date); README "
              "Dates lists the accepted layouts");
        }
        break;
      case Fate::bad_customer_id:
        if (most(fate, {Evidence::control_id}))
          hints.push_back(share(Evidence::control_id, fate) +
                          " have control bytes (tab, NUL, ESC, ...) in the customer id: check --col-customer and "
                          "--delimiter");
        else
          hints.push_back("bad_customer_id: customer ids longer than " + std::to_string(max_customer_id_bytes) +
                          " bytes: check the customer column (--col-customer)");
        break;
      case Fate::missing_customer:
        hints.push_back("missing_customer: the customer id column is empty: check --col-customer");
        break;
      case Fate::after_snapshot:
        hints.push_back("after_snapshot: the lines are dated after --snapshot: choose a later snapshot");
        break;
      case Fate::outside_window:
        hints.push_back(
            "outside_window: the lines are dated more than --window days before the snapshot: widen --window "
            "(0 = no window) or choose another --snapshot");
        break;
      default: break;
    }
  }
  return hints;
}

bool InputPlan::all_have_invoice() const {
  return std::all_of(files.begin(), files.end(), [](const InputFile& f) { return f.layout.has_invoice(); });
}

std::string InputPlan::duplicates_policy() const {
  std::string dropped, kept;
  for (const auto& f : files) {
    std::string& list = f.drop_duplicates ? dropped : kept;
    list += (list.empty() ? "" : ", ") + f.path;
  }
  if (kept.empty()) return "drop";
  if (dropped.empty()) return "keep";
  return "drop (" + dropped + "); keep (" + kept + ")";
}

// ---------------------------------------------------------------- CombinedBatch

void CombinedBatch::clear() {
  _groups.clear();
  _lines.clear();
  _wide.clear();
  _text.clear();
  std::fill(_index.begin(), _index.end(), 0u);
  _last_group = none;
}

std::uint64_t CombinedBatch::used_bytes() const {
  return _groups.size() * sizeof(Group) + _lines.size() * sizeof(Line) + _wide.size() * sizeof(int128_t) +
         _text.size() + 2 * (_groups.size() + 1) * sizeof(std::uint32_t);
}

void CombinedBatch::release() { *this = CombinedBatch(_carry_cancellations); }

void CombinedBatch::grow_index() {
  std::vector<std::uint32_t> index(std::max<std::size_t>(1024, _index.size() * 2), 0u);
  const std::size_t mask = index.size() - 1;
  for (std::uint32_t g = 0; g < _groups.size(); ++g) {
    std::size_t slot = _groups[g].hash & mask;
    while (index[slot] != 0) slot = (slot + 1) & mask;
    index[slot] = g + 1;
  }
  _index = std::move(index);
}

std::uint32_t CombinedBatch::find_or_add_group(std::string_view customer_id, std::string_view invoice_id,
                                               std::int32_t day) {
  // An invoice's lines follow one another in shop exports: compare with the last group first.
  if (_last_group != none) {
    const Group& last = _groups[_last_group];
    if (last.day == day && same_bytes(customer(last), customer_id) && same_bytes(invoice(last), invoice_id))
      return _last_group;
  }
  const std::uint64_t customer_hash = hash_bytes(customer_id);
  const std::uint64_t hash = group_hash(customer_hash, invoice_id, day);
  if (2 * (_groups.size() + 1) > _index.size()) grow_index();
  const std::size_t mask = _index.size() - 1;
  std::size_t slot = hash & mask;
  while (_index[slot] != 0) {
    const std::uint32_t g = _index[slot] - 1;
    const Group& group = _groups[g];
    if (group.hash == hash && group.day == day && same_bytes(customer(group), customer_id) &&
        same_bytes(invoice(group), invoice_id)) {
      _last_group = g;
      return g;
    }
    slot = (slot + 1) & mask;
  }
  if (_groups.size() >= none - 1)
    throw InputError("more than 4 billion invoice groups in one ingest round: lower --chunk-size");
  const auto g = static_cast<std::uint32_t>(_groups.size());
  _index[slot] = g + 1;
  _groups.push_back({hash, customer_hash, _text.size(), static_cast<std::uint32_t>(customer_id.size()),
                     static_cast<std::uint32_t>(invoice_id.size()), day, none, none, 0});
  _text.append(customer_id);
  _text.append(invoice_id);
  _last_group = g;
  return g;
}

void CombinedBatch::add(std::string_view customer_id, std::string_view invoice_id, std::int32_t day, std::uint64_t key,
                        Fate fate, int128_t value) {
  const std::uint32_t g = find_or_add_group(customer_id, invoice_id, day);
  // The owner needs values of kept lines (and of cancellations when they are netted) only.
  if (fate != Fate::kept && !(fate == Fate::cancellation && _carry_cancellations)) value = 0;
  if (_lines.size() >= none - 1) throw InputError("more than 4 billion lines in one ingest round: lower --chunk-size");
  const auto index = static_cast<std::uint32_t>(_lines.size());
  Line line{key, 0, none, fate, false};
  if (value >= INT64_MIN && value <= INT64_MAX) {
    line.value = static_cast<std::int64_t>(value);
  } else {
    line.wide = true;
    line.value = static_cast<std::int64_t>(_wide.size());
    _wide.push_back(value);
  }
  _lines.push_back(line);
  Group& group = _groups[g];
  if (group.last_line == none)
    group.first_line = index;
  else
    _lines[group.last_line].next = index;
  group.last_line = index;
  ++group.lines;
}

std::string_view normalize_customer_id(std::string_view id) noexcept {
  id = csv::trim(id);
  // "17850.0": an integer id exported through a float column.
  const auto dot = id.find('.');
  if (dot != std::string_view::npos && dot > 0 && dot + 1 < id.size()) {
    const bool digits = std::all_of(id.begin(), id.begin() + static_cast<std::ptrdiff_t>(dot),
                                    [](char c) { return c >= '0' && c <= '9'; });
    const bool zeros =
        std::all_of(id.begin() + static_cast<std::ptrdiff_t>(dot) + 1, id.end(), [](char c) { return c == '0'; });
    if (digits && zeros) return id.substr(0, dot);
  }
  return id;
}

namespace {

// ---------------------------------------------------------------- files

// Reads exactly `length` bytes at `offset`, all of them inside the size the plan saw: a short
// read means the file shrank while it was read (a truncating writer, a rotated log).
void read_planned(int fd, char* into, std::size_t length, std::uint64_t offset, const std::string& path,
                  std::uint64_t planned_size) {
  if (read_at(fd, into, length, offset, path) == length) return;
  struct stat st {};
  const std::uint64_t size = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  throw InputError("input '" + path + "' shrank from " + std::to_string(planned_size) + " to " + std::to_string(size) +
                   " bytes while being read");
}

// The plan as one message for the broadcast: per file its sizes, compression, pieces, path and
// header record.
std::string pack_plan(const std::vector<InputFile>& files, const std::vector<std::string>& headers) {
  Packer packed;
  packed.put(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) {
    const InputFile& f = files[i];
    packed.put(f.size).put(f.data_begin).put(f.header_lines).put(static_cast<std::uint64_t>(f.compression));
    packed.put(f.pieces.size());
    for (const auto& piece : f.pieces) packed.put(piece.offset).put(piece.size);
    packed.put(f.path).put(headers[i]);
  }
  return packed.bytes();
}

struct HeaderInfo {
  std::string line;  // the header record (or first record without header)
  std::uint64_t data_begin = 0;
  std::uint64_t header_lines = 0;
  bool empty = false;  // no bytes (a compressed file of nothing)
};

// The first `want` bytes of a file (decoded if compressed) into `buffer`; true if that is all of it.
bool read_prefix(const std::string& path, Compression compression, std::uint64_t size, std::size_t want,
                 std::vector<char>& buffer) {
  if (compression == Compression::none) {
    FileHandle file(path);
    buffer.resize(std::min<std::uint64_t>(want, size));
    read_planned(file.fd(), buffer.data(), buffer.size(), 0, path, size);
    return buffer.size() == size;
  }
  Decompressor decoder(path, compression, 0, size);
  buffer.resize(want);
  buffer.resize(decoder.read(buffer.data(), want));
  return buffer.size() < want;
}

HeaderInfo read_header(const std::string& path, Compression compression, std::uint64_t size, bool has_header,
                       char quote) {
  HeaderInfo info;
  std::vector<char> buffer;
  std::size_t want = 1 << 16;
  while (true) {
    const bool whole = read_prefix(path, compression, size, want, buffer);
    const std::size_t got = buffer.size();
    const std::string_view text(buffer.data(), got);
    if (got == 0) {
      info.empty = true;
      return info;
    }
    std::size_t end = csv::find_record_end(text, 0, quote);
    if (end == std::string_view::npos && whole) end = got;  // single record without newline
    if (end != std::string_view::npos) {
      info.line.assign(text.substr(0, end));
      if (has_header) {
        info.data_begin = end;
        info.header_lines =
            static_cast<std::uint64_t>(std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(end), '\n'));
        if (end == got && (got == 0 || text[got - 1] != '\n')) info.header_lines = 1;
      }
      return info;
    }
    if (want >= (64u << 20)) throw InputError(path + ": the first record is longer than 64 MiB (unclosed quote?)");
    want *= 4;
  }
}

}  // namespace

std::vector<std::string> expand_inputs(const std::vector<std::string>& patterns) {
  std::vector<std::string> paths;
  for (const auto& pattern : patterns) {
    if (pattern.find_first_of("*?[") == std::string::npos) {
      paths.push_back(pattern);
      continue;
    }
    glob_t matches{};
    const int rc = ::glob(pattern.c_str(), 0, nullptr, &matches);
    if (rc == GLOB_NOMATCH) {
      globfree(&matches);
      throw InputError("input pattern '" + pattern + "' matches no file");
    }
    if (rc != 0) {
      globfree(&matches);
      throw InputError("cannot expand input pattern '" + pattern + "'");
    }
    for (std::size_t i = 0; i < matches.gl_pathc; ++i) paths.emplace_back(matches.gl_pathv[i]);
    globfree(&matches);
  }
  return paths;
}

InputPlan plan_inputs(const mpi::Comm& comm, const InputConfig& config) {
  std::string error;
  std::string serialized;
  std::vector<std::string> headers;
  if (comm.is_root()) {
    try {
      if (config.paths.empty()) throw ConfigError("no input given: use --input PATH (a file, several, or a glob)");
      std::vector<InputFile> files;
      for (const auto& path : expand_inputs(config.paths)) {
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0)
          throw InputError("input '" + path + "' does not exist or is not accessible: " + std::strerror(errno));
        if (S_ISDIR(st.st_mode)) throw InputError("input '" + path + "' is a directory, not a file");
        // Every rank reads its own byte range with pread: a device, FIFO or socket has neither a
        // size nor offsets (and /dev/zero would look empty).
        if (!S_ISREG(st.st_mode))
          throw InputError("input '" + path +
                           "' is not a regular file (a device, FIFO or socket): rfmseg reads byte "
                           "ranges of its inputs on every rank; save the stream to a file first");
        FileHandle probe(path);  // readable?
        InputFile file;
        file.path = path;
        file.size = static_cast<std::uint64_t>(st.st_size);
        file.compression = compression_of(path);
        if (file.size == 0) {
          // One empty export among many must not stop the nightly run: skip it, say so.
          notices::warning("input '" + path + "' is empty; skipped");
          continue;
        }
        const HeaderInfo header = read_header(path, file.compression, file.size, config.has_header, config.quote);
        if (header.empty) {
          notices::warning("input '" + path + "' decompresses to nothing; skipped");
          continue;
        }
        if (file.is_compressed()) file.pieces = find_pieces(path, file.compression, file.size);
        file.data_begin = header.data_begin;
        file.header_lines = header.header_lines;
        headers.push_back(header.line);
        files.push_back(file);
      }
      serialized = pack_plan(files, headers);
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  // Agree on failure before anyone proceeds.
  mpi::broadcast(comm, error);
  if (!error.empty()) throw InputError(error);
  mpi::broadcast(comm, serialized);

  InputPlan plan;
  Unpacker packed(serialized);
  const std::uint64_t file_count = packed.number();
  for (std::uint64_t f = 0; f < file_count; ++f) {
    InputFile file;
    file.size = packed.number();
    file.data_begin = packed.number();
    file.header_lines = packed.number();
    file.compression = static_cast<Compression>(packed.number());
    file.pieces.resize(packed.number());
    for (auto& piece : file.pieces) {
      piece.offset = packed.number();
      piece.size = packed.number();
    }
    file.path = packed.text();
    std::string header = packed.text();
    if (header.rfind("\xEF\xBB\xBF", 0) == 0) header.erase(0, 3);  // UTF-8 BOM, even before a quoted name
    // Every rank resolves the layout from the same header: identical results, no communication.
    const csv::Dialect dialect = resolve_dialect(config, header);
    csv::FieldSplitter splitter(dialect);
    std::vector<std::string_view> fields;
    if (!splitter.split(csv::strip_line_end(header), fields))
      throw InputError(file.path + ":1: the header has an unclosed quote");
    if (config.has_header && fields.size() <= 1 && !dialect.whitespace && config.columns.customer.empty())
      throw InputError(file.path + ": the header [" +
                       (config.pseudonym_key.empty() ? printable_excerpt(csv::strip_line_end(header), 1024)
                                                     : std::string("text withheld: --pseudonymize-key")) +
                       "] has a single column; set --delimiter or map the columns");
    file.layout = resolve_layout(config, dialect, fields, file.path);
    file.drop_duplicates = config.duplicates == DuplicatePolicy::drop ||
                           (config.duplicates == DuplicatePolicy::automatic && file.layout.has_invoice());
    // Without a header, the first record fixes the field count of the file.
    if (!config.has_header) {
      file.layout.field_count = fields.size();
      const std::pair<int, const char*> columns[] = {
          {file.layout.customer, "--col-customer"}, {file.layout.invoice, "--col-invoice"},
          {file.layout.date, "--col-date"},         {file.layout.quantity, "--col-quantity"},
          {file.layout.price, "--col-price"},       {file.layout.amount, "--col-amount"}};
      for (const auto& [column, option] : columns)
        if (column >= 0 && static_cast<std::size_t>(column) >= fields.size())
          throw InputError(file.path + ": " + option + " " + std::to_string(column + 1) + " is beyond the " +
                           std::to_string(fields.size()) +
                           " fields of the first record (--no-header: columns are 1-based indices)");
    }
    plan.data_bytes += file.weight();
    plan.files.push_back(std::move(file));
  }
  return plan;
}

void recheck_input_sizes(const mpi::Comm& comm, const InputPlan& plan) {
  std::string error, warnings;
  if (comm.is_root()) {
    for (const auto& file : plan.files) {
      struct stat st {};
      if (::stat(file.path.c_str(), &st) != 0) {
        error = "input '" + file.path + "' disappeared while being read: " + std::strerror(errno);
        break;
      }
      const auto size = static_cast<std::uint64_t>(st.st_size);
      if (size < file.size) {
        error = "input '" + file.path + "' shrank from " + std::to_string(file.size) + " to " + std::to_string(size) +
                " bytes while being read";
        break;
      }
      if (size > file.size)
        warnings += "rfmseg: warning: input '" + file.path + "' grew from " + std::to_string(file.size) + " to " +
                    std::to_string(size) + " bytes while being read; the " + std::to_string(size - file.size) +
                    " bytes appended were ignored\n";
    }
  }
  mpi::broadcast(comm, error);
  if (!error.empty()) throw InputError(error);
  if (comm.is_root()) std::fputs(warnings.c_str(), stderr);
}

// ---------------------------------------------------------------- Reader

namespace {
// The plain-record fast path stores at most this many delimiter offsets per record.
constexpr std::size_t max_fast_fields = 256;
// Bytes read (and parsed) at a time; a round of --chunk-size bytes is several such blocks.
constexpr std::uint64_t read_block_bytes = 2u << 20;
// The longest record a reader grows its buffer for.
constexpr std::uint64_t max_record_bytes = 256u << 20;

// What the ranks exchange in a round of a plan with compressed streams: a block of whole records
// from a stream's decoder, or a rejected line of such a block, sent back to its decoder.
enum class EntryKind : std::uint8_t { block, rejected };
struct EntryHeader {
  std::uint64_t line;    ///< block: physical line of its first record
  std::uint64_t length;  ///< bytes that follow
  std::uint32_t file;
  EntryKind kind;
  Fate fate;
  std::uint8_t unused[2];
};

void append_entry(std::string& out, EntryKind kind, std::uint32_t file, std::uint64_t line, Fate fate,
                  std::string_view bytes) {
  const EntryHeader header{line, bytes.size(), file, kind, fate, {}};
  out.append(reinterpret_cast<const char*>(&header), sizeof header);
  out.append(bytes);
}

// Collects the rejected lines of a received block for its decoder.
class ReturnSink final : public RejectSink {
 public:
  explicit ReturnSink(std::string& out) : _out(out) {}
  void reject(std::uint32_t file, std::uint64_t line, Fate fate, std::string_view record) override {
    append_entry(_out, EntryKind::rejected, file, line, fate, record);
  }

 private:
  std::string& _out;
};
}  // namespace

// The decoded bytes of the compressed range being read: [start, end) of `bytes`, the first of
// them at decoded offset `position` of the file.
struct Reader::Source {
  std::unique_ptr<Decompressor> decoder;
  std::vector<char> bytes;
  std::size_t start = 0, end = 0;
  std::uint64_t position = 0;
  std::uint64_t line = 0;                      ///< a stream's decoder: the physical line at `position`
  bool eof = false;                            ///< the decoder is exhausted: every byte left is in the window
  std::size_t usual_bytes = read_block_bytes;  ///< the window's size unless a long record grew it

  [[nodiscard]] std::string_view view() const { return {bytes.data() + start, end - start}; }
  /// Decodes until at least `want` bytes are held (fewer only at the end of the data).
  void fill(std::size_t want) {
    if (end - start >= want || eof) return;
    if (start > 0) {
      std::memmove(bytes.data(), bytes.data() + start, end - start);
      end -= start;
      start = 0;
    }
    if (bytes.size() < want) bytes.resize(want);
    while (end < want && !eof) {
      const std::size_t n = decoder->read(bytes.data() + end, want - end);
      if (n == 0) eof = true;
      end += n;
    }
  }
  void consume(std::size_t n) {
    start += n;
    position += n;
    if (start == end) start = end = 0;
    if (bytes.size() > usual_bytes && end - start <= usual_bytes) {  // a long record has passed
      std::vector<char> smaller(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                                bytes.begin() + static_cast<std::ptrdiff_t>(end));
      smaller.resize(usual_bytes);
      bytes = std::move(smaller);
      end -= start;
      start = 0;
    }
  }
  /// Discards `n` decoded bytes (fewer if the data ends first).
  void skip(std::uint64_t n) {
    while (n > 0) {
      fill(static_cast<std::size_t>(std::min<std::uint64_t>(n, 1 << 16)));
      const std::size_t step = static_cast<std::size_t>(std::min<std::uint64_t>(n, end - start));
      if (step == 0) return;
      consume(step);
      n -= step;
    }
  }
};

struct Reader::PieceCount {
  std::uint64_t quotes = 0, newlines = 0, bytes = 0;  ///< in the decoded bytes of the range's pieces
  std::uint32_t file = 0;
  std::int32_t rank = 0;
  std::uint32_t ends_with_newline = 0;
  std::uint32_t unused = 0;
};

Reader::~Reader() = default;
Reader::Reader(Reader&&) noexcept = default;

Reader::Reader(const mpi::Comm& comm, const InputPlan& plan, const InputConfig& config)
    : _plan(plan),
      _config(config),
      _dates(config.date_format, config.day_first),
      _last_day(config.snapshot_day.value_or(INT32_MAX)),
      _first_day(config.first_day.value_or(INT32_MIN)),
      _comm(&comm),
      _rank(comm.rank()),
      _ranks(comm.size()) {
  if (!config.pseudonym_key.empty()) _pseudonymizer.emplace(config.pseudonym_key);
  // Rank r owns what starts in [r*B/P, (r+1)*B/P) of the files' weights laid end to end: records
  // of a plain file, pieces of a compressed one, a whole compressed stream.
  const std::uint64_t total = plan.data_bytes;
  const auto p = static_cast<std::uint64_t>(comm.size());
  const auto r = static_cast<std::uint64_t>(comm.rank());
  const auto split = [&](std::uint64_t i) { return static_cast<std::uint64_t>(static_cast<uint128_t>(total) * i / p); };
  const std::uint64_t my_begin = split(r), my_end = split(r + 1);
  const auto mine = [&](std::uint64_t at) { return at >= my_begin && at < my_end; };
  std::uint64_t base = 0;
  for (std::uint32_t f = 0; f < plan.files.size(); ++f) {
    const auto& file = plan.files[f];
    const std::uint64_t length = file.weight();
    if (!file.is_compressed()) {
      const std::uint64_t lo = std::max(my_begin, base), hi = std::min(my_end, base + length);
      if (lo < hi) {
        _ranges.push_back({f, file.data_begin + lo - base, file.data_begin + hi - base, 0, 0});
        _range_bytes += hi - lo;
      }
    } else {
      _has_streams = _has_streams || file.is_stream();
      std::uint32_t first = 0, end = 0;
      std::uint64_t weight = 0;
      for (std::uint32_t k = 0; k < file.pieces.size(); ++k) {
        if (!mine(base + file.pieces[k].offset)) continue;
        if (end == 0) first = k;
        end = k + 1;
        weight += file.pieces[k].size;
      }
      if (end != 0) {
        ByteRange range{f, 0, 0, 0, 0};
        range.kind = file.is_stream() ? RangeKind::stream : RangeKind::pieces;
        range.first_piece = first;
        range.end_piece = end;
        range.weight = weight;
        _ranges.push_back(range);
        _range_bytes += weight;
      }
    }
    base += length;
  }

  // Exact quote parity and line count before each range: count over my bytes, exclusive scan.
  const std::size_t nfiles = plan.files.size();
  for (const auto& file : plan.files) {
    _splitters.emplace_back(file.layout.dialect);
    const auto& d = file.layout.dialect;
    // The SSE2 path splits exactly like FieldSplitter only for a plain one-byte delimiter.
    _fast.push_back(!d.whitespace && d.delimiter != '\n' && d.delimiter != '\r' && d.delimiter != d.quote &&
                    file.layout.min_fields <= max_fast_fields && file.layout.field_count <= max_fast_fields);
  }
  _delimiters.resize(max_fast_fields);
  auto& counts = _counts;
  counts.assign(2 * nfiles, 0);
  std::vector<char> buffer(std::clamp<std::uint64_t>(config.chunk_bytes, 1 << 16, read_block_bytes));
  for (const auto& range : _ranges) {
    const auto& file = plan.files[range.file];
    if (range.kind == RangeKind::pieces) {
      // Pieces are counted from their first decoded byte; start() places them in the file. A
      // piece range that does not end at a member/frame end is reported as truncated there.
      const auto& first = file.pieces[range.first_piece];
      const auto& last = file.pieces[range.end_piece - 1];
      Decompressor decoder(file.path, file.compression, first.offset, last.offset + last.size);
      PieceCount count;
      count.file = range.file;
      count.rank = _rank;
      count.ends_with_newline = 1;
      while (const std::size_t got = decoder.read(buffer.data(), buffer.size())) {
        std::uint64_t quotes = 0, newlines = 0;
        csv::count_two({buffer.data(), got}, config.quote, '\n', quotes, newlines);
        count.quotes += quotes;
        count.newlines += newlines;
        count.bytes += got;
        count.ends_with_newline = buffer[got - 1] == '\n';
      }
      _piece_counts.push_back(count);
      continue;
    }
    if (range.kind == RangeKind::stream) continue;  // its decoder counts as it goes
    FileHandle handle(file.path);
    for (std::uint64_t pos = range.begin; pos < range.end;) {
      const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), range.end - pos));
      read_planned(handle.fd(), buffer.data(), want, pos, file.path, file.size);
      const std::size_t got = want;
      std::uint64_t quotes = 0, newlines = 0;
      csv::count_two({buffer.data(), got}, config.quote, '\n', quotes, newlines);
      counts[range.file] += quotes;
      counts[nfiles + range.file] += newlines;
      pos += got;
    }
  }
}

void Reader::start(const mpi::Comm& comm) {
  const std::size_t nfiles = _plan.files.size();
  auto& counts = _counts;
  mpi::exscan_sum_inplace(comm, std::span<std::uint64_t>(counts));
  for (auto& range : _ranges) {
    if (range.kind != RangeKind::plain) continue;
    range.quoted_at_begin = (counts[range.file] & 1) != 0;
    range.line = _plan.files[range.file].header_lines + counts[nfiles + range.file] + 1;
  }
  // Pieces: the decoded bytes, quotes and newlines of the lower ranks' pieces of the file place
  // this rank's (counted from the file's first byte: the header record holds an even number of
  // quotes and header_lines newlines, so parity and physical line numbers come out exact).
  const auto all = mpi::allgatherv<PieceCount>(comm, std::span<const PieceCount>(_piece_counts));
  std::size_t own = 0;
  for (auto& range : _ranges) {
    if (range.kind != RangeKind::pieces) continue;
    const PieceCount& count = _piece_counts[own++];
    std::uint64_t quotes = 0, newlines = 0, bytes = 0;
    bool after_newline = true;
    for (const auto& c : all) {
      if (c.file != range.file || c.rank >= _rank) continue;
      quotes += c.quotes;
      newlines += c.newlines;
      bytes += c.bytes;
      if (c.bytes > 0) after_newline = c.ends_with_newline != 0;
    }
    range.quoted_at_begin = (quotes & 1) != 0;
    range.line = newlines + 1;
    range.begin = bytes;
    range.end = bytes + count.bytes;
    range.after_newline = after_newline;
  }
}

std::uint64_t Reader::bytes_left() const {
  std::uint64_t left = 0;
  for (std::size_t i = _current; i < _ranges.size(); ++i) {
    const auto& s = _ranges[i];
    if (s.kind != RangeKind::plain) {
      const std::uint64_t done = i == _current && _source ? _source->decoder->compressed_consumed() : 0;
      left += s.weight - std::min(s.weight, done);
      continue;
    }
    const std::uint64_t from = s.aligned ? std::max(s.cursor, s.begin) : s.begin;
    if (from < s.end) left += s.end - from;
  }
  return left;
}

void Reader::align(ByteRange& range, int fd) {
  range.aligned = true;
  range.cursor = range.begin;
  const auto& file = _plan.files[range.file];
  if (range.begin == file.data_begin) return;  // first record of the data region
  char previous = 0;
  read_planned(fd, &previous, 1, range.begin - 1, file.path, file.size);
  if (previous == '\n' && !range.quoted_at_begin) return;
  // Skip to just after the first newline outside quotes.
  bool in_quotes = range.quoted_at_begin;
  std::vector<char> buffer(1 << 16);
  std::uint64_t pos = range.begin;
  while (pos < file.size) {
    const auto got = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), file.size - pos));
    read_planned(fd, buffer.data(), got, pos, file.path, file.size);
    for (std::size_t i = 0; i < got; ++i) {
      const char c = buffer[i];
      if (c == _config.quote)
        in_quotes = !in_quotes;
      else if (c == '\n') {
        ++range.line;
        if (!in_quotes) {
          range.cursor = pos + i + 1;
          return;
        }
      }
    }
    pos += got;
  }
  range.cursor = file.size;
}

void Reader::align_compressed(ByteRange& range) {
  const auto& file = _plan.files[range.file];
  const auto& first = file.pieces[range.first_piece];
  // Decodes from the first piece to the end of the file: the last record may run past the
  // range's pieces.
  _source = std::make_unique<Source>();
  _source->decoder = std::make_unique<Decompressor>(file.path, file.compression, first.offset, file.size);
  _source->position = range.begin;
  range.aligned = true;
  range.cursor = range.begin;
  if (range.begin < file.data_begin) {  // the header is not data
    _source->skip(file.data_begin - range.begin);
    range.cursor = _source->position;
    range.line = file.header_lines + 1;
    return;
  }
  if (range.begin == file.data_begin || (range.after_newline && !range.quoted_at_begin)) return;
  // Skip to just after the first newline outside quotes.
  bool in_quotes = range.quoted_at_begin;
  while (true) {
    _source->fill(1 << 16);
    const std::string_view text = _source->view();
    if (text.empty()) break;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == _config.quote) {
        in_quotes = !in_quotes;
      } else if (c == '\n') {
        ++range.line;
        if (!in_quotes) {
          _source->consume(i + 1);
          range.cursor = _source->position;
          return;
        }
      }
    }
    _source->consume(text.size());
  }
  range.cursor = _source->position;
}

bool Reader::next(CombinedBatch& out, std::uint64_t chunk_bytes) {
  return _has_streams ? next_round(out, chunk_bytes) : read_own(out, chunk_bytes);
}

bool Reader::read_own(CombinedBatch& out, std::uint64_t chunk_bytes) {
  std::uint64_t budget = std::max<std::uint64_t>(chunk_bytes, 1);
  while (budget > 0 && _current < _ranges.size()) {
    ByteRange& range = _ranges[_current];
    if (range.kind == RangeKind::stream) break;  // decoded in next_round()
    const bool done =
        range.kind == RangeKind::plain ? read_plain(range, out, budget) : read_compressed(range, out, budget);
    if (done) ++_current;
  }
  // A long record may have grown the buffer far beyond a block: do not keep that memory.
  if (_buffer.size() > read_block_bytes) {
    _buffer.clear();
    _buffer.shrink_to_fit();
  }
  return _current < _ranges.size();
}

bool Reader::read_plain(ByteRange& range, CombinedBatch& out, std::uint64_t& budget) {
  const auto& file = _plan.files[range.file];
  FileHandle handle(file.path);
  if (!range.aligned) align(range, handle.fd());
  if (range.cursor >= range.end || range.cursor >= file.size) return true;
  // Read a block; records that start before `end` are ours even when they run past it. A round
  // is read in blocks of at most read_block_bytes into one reused buffer: it stays in cache,
  // and its pages are faulted in once, not per round.
  std::size_t want =
      static_cast<std::size_t>(std::min<std::uint64_t>({budget, file.size - range.cursor, read_block_bytes}));
  std::size_t consumed = 0;
  while (true) {
    if (_buffer.size() < want) {
      _buffer.clear();
      _buffer.shrink_to_fit();
      _buffer.resize(want);
    }
    read_planned(handle.fd(), _buffer.data(), want, range.cursor, file.path, file.size);
    const std::size_t got = want;
    const bool at_eof = range.cursor + got >= file.size;
    consumed = parse_block(range, {_buffer.data(), got}, at_eof, out);
    if (consumed > 0 || at_eof) break;
    // Not one whole record in the block: grow it (a very long line or a quoted newline run).
    if (want >= max_record_bytes)
      throw InputError(file.path + ":" + std::to_string(range.line) +
                       ": a record longer than 256 MiB (a quote that is never closed?)");
    want = static_cast<std::size_t>(
        std::min<std::uint64_t>(std::max<std::uint64_t>(want, 4096) * 4, file.size - range.cursor));
  }
  _bytes_read += consumed;
  range.cursor += consumed;
  budget = budget > consumed ? budget - consumed : 0;
  return range.cursor >= range.end || range.cursor >= file.size;
}

bool Reader::read_compressed(ByteRange& range, CombinedBatch& out, std::uint64_t& budget) {
  const auto& file = _plan.files[range.file];
  if (!range.aligned) align_compressed(range);
  Source& source = *_source;
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(budget, read_block_bytes));
  while (budget > 0 && range.cursor < range.end) {
    source.fill(want);
    const std::string_view text = source.view();
    if (text.empty()) break;  // the data ended
    const std::size_t consumed = parse_block(range, text, source.eof, out);
    if (consumed == 0 && !source.eof) {
      if (want >= max_record_bytes)
        throw InputError(file.path + ":" + std::to_string(range.line) +
                         ": a record longer than 256 MiB (a quote that is never closed?)");
      want = std::max<std::size_t>(want, 4096) * 4;
      continue;
    }
    source.consume(consumed);
    range.cursor += consumed;
    _bytes_read += consumed;
    budget = budget > consumed ? budget - consumed : 0;
    want = static_cast<std::size_t>(std::min<std::uint64_t>(std::max<std::uint64_t>(budget, 1), read_block_bytes));
    if (source.eof && source.view().empty()) break;
  }
  const bool done = range.cursor >= range.end || (source.eof && source.view().empty());
  if (done) _source.reset();
  return done;
}

void Reader::cut_stream(ByteRange& range, std::uint64_t chunk_bytes, std::vector<std::size_t>& ends,
                        std::vector<std::uint64_t>& lines) {
  const auto& file = _plan.files[range.file];
  if (!range.aligned) {
    _source = std::make_unique<Source>();
    _source->decoder = std::make_unique<Decompressor>(file.path, file.compression, 0, file.size);
    _source->skip(file.data_begin);
    _source->line = file.header_lines + 1;
    range.aligned = true;
  }
  Source& source = *_source;
  const std::size_t p = ends.size();
  const char quote = _config.quote;
  // Half a round decoded per round: the decoded window and the send buffer together hold a round.
  std::size_t want = static_cast<std::size_t>(std::max<std::uint64_t>(chunk_bytes / 2, 1 << 16));
  source.usual_bytes = want;
  while (true) {
    source.fill(want);
    const std::string_view text = source.view();
    const std::size_t n = text.size();
    // Block k ends at the first record end at or after (k+1)/p of the window; newlines (quoted
    // ones too) counted up to each end give the physical line where the next block starts.
    std::size_t k = 0, pos = 0, last_end = 0;
    std::uint64_t newlines = 0, newlines_at_last_end = 0;
    bool in_quotes = false;
    while (k < p && pos < n) {
      const void* hit = std::memchr(text.data() + pos, '\n', n - pos);
      const std::size_t newline =
          hit != nullptr ? static_cast<std::size_t>(static_cast<const char*>(hit) - text.data()) : n;
      if ((std::count(text.begin() + static_cast<std::ptrdiff_t>(pos),
                      text.begin() + static_cast<std::ptrdiff_t>(newline), quote) &
           1) != 0)
        in_quotes = !in_quotes;
      if (hit == nullptr) break;
      ++newlines;
      pos = newline + 1;
      if (in_quotes) continue;
      last_end = pos;
      newlines_at_last_end = newlines;
      while (k < p && static_cast<uint128_t>(last_end) * p >= static_cast<uint128_t>(k + 1) * n) {
        ends[k] = last_end;
        lines[k + 1] = source.line + newlines;
        ++k;
      }
    }
    if (source.eof) {
      // The rest is whole records (the last one may lack its newline): the last block takes it.
      for (; k < p; ++k) ends[k] = n;
      lines[p] = source.line + static_cast<std::uint64_t>(std::count(text.begin(), text.end(), '\n'));
    } else if (last_end == 0) {
      if (want >= max_record_bytes)
        throw InputError(file.path + ":" + std::to_string(source.line) +
                         ": a record longer than 256 MiB (a quote that is never closed?)");
      want *= 4;
      continue;
    } else {
      for (; k < p; ++k) {
        ends[k] = last_end;
        lines[k + 1] = source.line + newlines_at_last_end;
      }
    }
    lines[0] = source.line;
    return;
  }
}

bool Reader::next_round(CombinedBatch& out, std::uint64_t chunk_bytes) {
  const auto p = static_cast<std::size_t>(_ranks);
  const auto me = static_cast<std::size_t>(_rank);
  _returns.resize(p);
  // 1. Local: the rejected lines of last round's blocks go back to their decoders, then (as a
  //    decoder) this round's blocks of the stream, one per rank (this rank's own block is parsed
  //    in place, below). A failure is thrown only after the exchange, so no rank waits in it.
  std::string send;
  std::vector<std::size_t> send_counts(p, 0);
  std::vector<std::size_t> ends;
  std::vector<std::uint64_t> lines;
  ByteRange* stream = nullptr;
  std::exception_ptr error;
  try {
    if (_current < _ranges.size() && _ranges[_current].kind == RangeKind::stream) {
      stream = &_ranges[_current];
      ends.assign(p, 0);
      lines.assign(p + 1, 0);
      cut_stream(*stream, chunk_bytes, ends, lines);
    }
    std::size_t total = 0;
    for (std::size_t q = 0; q < p; ++q)
      total += _returns[q].size() +
               (stream != nullptr && q != me ? sizeof(EntryHeader) + ends[q] - (q == 0 ? 0 : ends[q - 1]) : 0);
    send.reserve(total);
    for (std::size_t q = 0; q < p; ++q) {
      const std::size_t before = send.size();
      send += _returns[q];
      _returns[q] = {};
      const std::size_t from = q == 0 ? 0 : (stream != nullptr ? ends[q - 1] : 0);
      if (stream != nullptr && q != me && ends[q] > from)
        append_entry(send, EntryKind::block, stream->file, lines[q], Fate::kept,
                     _source->view().substr(from, ends[q] - from));
      send_counts[q] = send.size() - before;
    }
  } catch (...) {
    error = std::current_exception();
    stream = nullptr;
    send.clear();
    std::fill(send_counts.begin(), send_counts.end(), 0);
  }
  std::vector<std::size_t> received_counts;
  const std::vector<char> received =
      mpi::alltoallv<char>(*_comm, std::span<const char>(send.data(), send.size()), send_counts, &received_counts);
  send = {};
  if (error) std::rethrow_exception(error);

  // 2. Rejected lines sent back (this rank decoded their blocks) go to the sink in block order;
  //    blocks are parsed, their rejected lines kept to be sent back to the decoder next round.
  std::uint64_t block_bytes = 0;
  const auto parse_received = [&](std::size_t decoder, std::uint32_t file, std::uint64_t line, std::string_view bytes) {
    ByteRange block{file, 0, bytes.size(), line, 0};
    block.aligned = true;
    RejectSink* const sink = _rejects;
    ReturnSink back(_returns[decoder]);
    if (sink != nullptr) _rejects = &back;
    try {
      parse_block(block, bytes, true, out);
    } catch (...) {
      _rejects = sink;
      throw;
    }
    _rejects = sink;
    block_bytes += bytes.size();
    _bytes_read += bytes.size();
  };
  std::size_t at = 0;
  for (std::size_t q = 0; q < p; ++q) {
    const std::size_t end = at + received_counts[q];
    while (at < end) {
      EntryHeader header;
      std::memcpy(&header, received.data() + at, sizeof header);
      at += sizeof header;
      const std::string_view bytes(received.data() + at, header.length);
      at += header.length;
      if (header.kind == EntryKind::rejected) {
        if (_rejects != nullptr) _rejects->reject(header.file, header.line, header.fate, bytes);
      } else {
        parse_received(q, header.file, header.line, bytes);
      }
    }
    if (q == me && stream != nullptr && ends[me] > (me == 0 ? 0 : ends[me - 1])) {
      const std::size_t from = me == 0 ? 0 : ends[me - 1];
      parse_received(me, stream->file, lines[me], _source->view().substr(from, ends[me] - from));
    }
  }
  const bool sent_blocks = stream != nullptr;
  if (stream != nullptr) {
    _source->consume(ends[p - 1]);
    _source->line = lines[p];
    if (_source->eof && _source->view().empty()) {
      _source.reset();
      ++_current;
    }
  }
  // 3. This rank's own ranges, in what is left of the round; not in a round that sent blocks:
  //    their rejected lines, back next round, come before those of the ranges after the stream.
  if (!sent_blocks) read_own(out, chunk_bytes - std::min(block_bytes, chunk_bytes / 2));
  bool more = _current < _ranges.size() || sent_blocks;
  for (const auto& r : _returns) more = more || !r.empty();
  return more;
}

std::size_t Reader::parse_block(ByteRange& range, std::string_view text, bool at_eof, CombinedBatch& out) {
  const Layout& layout = _plan.files[range.file].layout;
  const char quote = _config.quote;
  const char delimiter = layout.dialect.delimiter;
  const bool fast = _fast[range.file];
  const std::size_t wanted_fields = layout.min_fields;
  std::array<std::string_view, max_fast_fields> views;
  const std::size_t got = text.size();
  std::size_t pos = 0;
  while (pos < got && range.cursor + pos < range.end) {
    if (fast) {
      std::size_t count = 0, end = 0;
      const csv::PlainScan scan =
          csv::scan_plain_record(text, pos, delimiter, quote, _delimiters.data(), _delimiters.size(), count, end);
      if (scan == csv::PlainScan::plain) {
        // One physical line without quotes: fields lie between the delimiters.
        std::size_t length = end - 1 - pos;
        if (length > 0 && text[pos + length - 1] == '\r') --length;
        const std::string_view record = text.substr(pos, length);
        const std::size_t field_total = count + 1;
        if (field_total <= max_fast_fields) {
          const std::size_t n = std::min(field_total, wanted_fields);
          for (std::size_t i = 0; i < n; ++i) {
            const std::size_t from = i == 0 ? 0 : _delimiters[i - 1] + 1;
            const std::size_t to = i < count ? _delimiters[i] : length;
            views[i] = record.substr(from, to - from);
          }
          interpret(range, record, views.data(), field_total, range.line, out);
        } else {
          // More fields than the fast path stores: a wrong field count whatever the layout.
          interpret(range, record, nullptr, field_total, range.line, out);
        }
        ++range.line;
        pos = end;
        continue;
      }
      if (scan == csv::PlainScan::incomplete && !at_eof) break;
    }
    // Exact path: quotes decide where the record ends, FieldSplitter splits it (RFC 4180).
    std::size_t end = csv::find_record_end(text, pos, quote);
    if (end == std::string_view::npos) {
      if (!at_eof) break;
      end = got;  // the last record has no newline
    }
    const std::string_view raw = text.substr(pos, end - pos);
    const std::string_view record = csv::strip_line_end(raw);
    const std::uint64_t line = range.line;
    range.line += static_cast<std::uint64_t>(std::count(raw.begin(), raw.end(), '\n'));
    pos = end;
    if (csv::trim(record).empty()) {
      ++_counters.blank_lines;
      continue;
    }
    if (!_splitters[range.file].split(record, _fields)) {
      ++_counters.lines;
      gather_evidence(Fate::bad_field_count, range, record, nullptr);
      report(Fate::bad_field_count, range, line, record);
      continue;
    }
    interpret(range, record, _fields.data(), _fields.size(), line, out);
  }
  return pos;
}

void Reader::reject(Fate fate, const ByteRange& range, std::uint64_t line, std::string_view record) {
  ++_counters[fate];
  // Pseudonymised: a rejected line's text may hold a raw id where no parser can find it (a line
  // with the wrong field count): the rejects file gets file, line and reason, no text.
  if (_rejects != nullptr) _rejects->reject(range.file, line, fate, _pseudonymizer ? std::string_view{} : record);
}

void Reader::report(Fate fate, const ByteRange& range, std::uint64_t line, std::string_view record) {
  reject(fate, range, line, record);
  auto& reported = _reported[static_cast<std::size_t>(fate)];
  const auto shown = [&] { return _pseudonymizer ? std::string(withheld_line_text) : printable_excerpt(record); };
  if (reported < _config.max_reported_lines) {
    ++reported;
    _bad_lines.push_back({fate, range.file, line, shown()});
    return;
  }
  // Full: keep the earliest lines (blocks of a compressed stream may come before this rank's own
  // earlier lines), so that the lowest of all ranks' are the job's first ones.
  BadLine* latest = nullptr;
  for (auto& bad : _bad_lines)
    if (bad.fate == fate && (latest == nullptr || std::tie(bad.file, bad.line) > std::tie(latest->file, latest->line)))
      latest = &bad;
  if (latest != nullptr && std::tie(range.file, line) < std::tie(latest->file, latest->line))
    *latest = {fate, range.file, line, shown()};
}

void Reader::gather_evidence(Fate fate, const ByteRange& range, std::string_view record, const std::string_view* fields,
                             std::string_view customer) {
  const Layout& layout = _plan.files[range.file].layout;
  const auto field = [&](int column) { return fields[static_cast<std::size_t>(column)]; };
  switch (fate) {
    case Fate::bad_number: {
      // Would the other decimal separator have read every number of the line?
      const bool comma = !_config.decimal_comma;
      std::int64_t quantity = 0, micros = 0;
      const bool read = layout.has_amount() ? parse_micros(field(layout.amount), micros, comma)
                                            : parse_quantity(field(layout.quantity), quantity) &&
                                                  parse_micros(field(layout.price), micros, comma);
      if (read) ++_counters[comma ? Evidence::decimal_comma : Evidence::decimal_point];
      break;
    }
    case Fate::bad_field_count: {
      const char delimiter = layout.dialect.whitespace ? '\t' : layout.dialect.delimiter;
      const std::pair<char, Evidence> candidates[] = {
          {';', Evidence::semicolon}, {'\t', Evidence::tab}, {',', Evidence::comma}, {'|', Evidence::pipe}};
      for (const auto& [c, evidence] : candidates)
        if (c != delimiter && record.find(c) != std::string_view::npos) ++_counters[evidence];
      break;
    }
    case Fate::bad_date: {
      const std::string_view text = field(layout.date);
      const std::pair<DateParser, Evidence> layouts[] = {{DateParser(DateFormat::iso), Evidence::iso},
                                                         {DateParser(DateFormat::slash, false), Evidence::mdy},
                                                         {DateParser(DateFormat::slash, true), Evidence::dmy},
                                                         {DateParser(DateFormat::yyyymmdd), Evidence::yyyymmdd},
                                                         {DateParser(DateFormat::dd_mon_yy), Evidence::dd_mon_yy}};
      for (const auto& [parser, evidence] : layouts) {
        std::int32_t day = 0;
        if (parser.parse(text, day) == DateStatus::ok) {
          ++_counters[evidence];
          break;
        }
      }
      break;
    }
    case Fate::bad_customer_id:
      if (has_control_byte(customer)) ++_counters[Evidence::control_id];
      break;
    default: break;
  }
}

void Reader::interpret(const ByteRange& range, std::string_view record, const std::string_view* fields,
                       std::size_t field_total, std::uint64_t line, CombinedBatch& out) {
  const Layout& layout = _plan.files[range.file].layout;
  // Blank (only the plain path can still see one): cheap unless the record starts with a blank.
  if ((record.empty() || csv::trim(record.substr(0, 1)).empty()) && csv::trim(record).empty()) {
    ++_counters.blank_lines;
    return;
  }
  ++_counters.lines;
  if (fields == nullptr ||
      (layout.field_count != 0 ? field_total != layout.field_count : field_total < layout.min_fields)) {
    gather_evidence(Fate::bad_field_count, range, record, fields);
    report(Fate::bad_field_count, range, line, record);
    return;
  }
  const auto field = [&](int column) { return fields[static_cast<std::size_t>(column)]; };
  std::int64_t quantity = 1, price_micros = 0;
  if (layout.has_amount()) {
    if (!parse_micros(field(layout.amount), price_micros, _config.decimal_comma)) {
      gather_evidence(Fate::bad_number, range, record, fields);
      report(Fate::bad_number, range, line, record);
      return;
    }
  } else if (!parse_quantity(field(layout.quantity), quantity) ||
             !parse_micros(field(layout.price), price_micros, _config.decimal_comma)) {
    gather_evidence(Fate::bad_number, range, record, fields);
    report(Fate::bad_number, range, line, record);
    return;
  }
  const std::string_view date_text = field(layout.date);
  std::int32_t day = 0;
  DateOrderEvidence evidence{};
  switch (_dates.parse(date_text, day, evidence)) {
    case DateStatus::ok:
      // The earliest confirming line (blocks of a compressed stream may come before this
      // rank's own earlier lines).
      if (evidence == DateOrderEvidence::ambiguous) {
        _date_order.ambiguous = true;
      } else if (evidence == DateOrderEvidence::confirmed &&
                 (!_date_order.confirmed ||
                  std::tie(range.file, line) < std::tie(_date_order.file, _date_order.line))) {
        _date_order = {_date_order.ambiguous, true, range.file, line};
      }
      break;
    case DateStatus::bad:
      gather_evidence(Fate::bad_date, range, record, fields);
      report(Fate::bad_date, range, line, record);
      return;
    case DateStatus::order_conflict:
      throw InputError(_plan.files[range.file].path + ":" + std::to_string(line) + ": date '" +
                       printable_excerpt(date_text) + "' has a month above 12 in the " +
                       (_config.day_first ? "day-first" : "month-first") +
                       " order; the file's dates are in the other order: " +
                       (_config.day_first ? "drop --day-first" : "set --day-first") + " (or --date-format " +
                       (_config.day_first ? "mdy" : "dmy") + ")");
  }
  const std::string_view customer = normalize_customer_id(field(layout.customer));
  if (customer.size() > max_customer_id_bytes || has_control_byte(customer)) {
    gather_evidence(Fate::bad_customer_id, range, record, fields, customer);
    report(Fate::bad_customer_id, range, line, record);
    return;
  }
  if (customer.empty()) {
    reject(Fate::missing_customer, range, line, record);
    return;
  }
  if (day > _last_day) {
    reject(Fate::after_snapshot, range, line, record);  // counted, and in --rejects
    return;
  }
  if (day < _first_day) {
    reject(Fate::outside_window, range, line, record);  // counted, and in --rejects
    return;
  }
  std::string_view invoice = layout.has_invoice() ? csv::trim(field(layout.invoice)) : std::string_view{};
  invoice = invoice.substr(0, 0xffff);
  // The owner-side fate follows from the line alone (README "Cleaning", steps 4-6); only whether
  // the line is a duplicate needs the owner. Byte-identical lines get identical keys.
  Fate fate = Fate::kept;
  if ((!invoice.empty() && invoice.front() == 'C') || quantity < 0)
    fate = Fate::cancellation;
  else if (quantity == 0)
    fate = Fate::zero_quantity;
  else if (price_micros <= 0)
    fate = Fate::nonpositive_price;
  if (fate == Fate::kept) _last_kept_day = std::max(_last_kept_day, day);
  std::uint64_t key = line_key(hash_bytes(record, 0x5eed), quantity, price_micros);
  // --duplicates keep: the line's position (file, physical line: the same for any rank count) makes
  // its key its own, so no line is ever taken for a copy of another.
  if (!_plan.files[range.file].drop_duplicates) key = mix64(key ^ mix64(line ^ mix64(range.file + 0x6b656570ULL)));
  out.add(_pseudonymizer ? _pseudonymizer->token(customer) : customer, invoice, day, key, fate,
          static_cast<int128_t>(quantity) * price_micros);
}

}  // namespace rfmseg
