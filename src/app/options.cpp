#include "rfmseg/app/options.hpp"

#include <sys/stat.h>

#include <boost/program_options.hpp>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include "rfmseg/core/errors.hpp"
#include "rfmseg/core/names.hpp"
#include "rfmseg/core/pseudonym.hpp"
#include "rfmseg/model/transform.hpp"

namespace po = boost::program_options;

namespace rfmseg::cli {

namespace {

constexpr const char* main_caption =
    "rfmseg — distributed RFM customer segmentation\n\n"
    "usage: mpirun -np N rfmseg --input PATH [--input PATH ...] --output RESULT.h5 "
    "[--config FILE.ini] [options]\n"
    "       mpirun -np N rfmseg score --model RESULT.h5 --input PATH ... --output SCORED.h5 (see rfmseg score --help)\n"
    "       rfmseg verify RESULT.h5 ...\n"
    "       rfmseg summary [--csv] [--no-header] RESULT.h5 ... (one row of facts per result: the nightly "
    "history)\n\noptions";

po::options_description describe(const char* caption = main_caption, const po::options_description* first = nullptr) {
  po::options_description general("General", 110, 55);
  general.add_options()("help,h", "print this help and exit")(
      "version",
      "print the version, the git commit and what rfmseg was built with (MPI, HDF5, Boost, Eigen, compiler, flags), "
      "and exit")("config", po::value<std::string>(),
                  "INI file with any of these options as keys ([section] key = value, sections free); the command line "
                  "overrides it")("input,i", po::value<std::vector<std::string>>()->composing(),
                                  "input file or glob; repeat for several (quote globs in the shell)")(
      "output,o", po::value<std::string>(),
      "HDF5 result file; written under a temporary name, read back and verified, renamed on success. An existing file "
      "there is replaced only when it is an rfmseg result (see --force)")(
      "force", po::bool_switch(),
      "replace an existing file at --output that is not an rfmseg result (never an input, never a device, FIFO or "
      "directory)")("rejects", po::value<std::string>()->default_value(""),
                    "CSV file of every unusable line (file, line, reason, raw text; reasons as the count_<fate> "
                    "counters); written like the result: under a temporary name, renamed on success")(
      "export", po::value<std::string>()->default_value(""),
      "directory for CSV copies of the result tables, for tools that do not read HDF5 (created if missing): "
      "customers.csv.gz, clusters.csv, segments.csv, selection.csv (with --k-range); written in parallel under "
      "temporary names, renamed once they and the result are complete. See README \"Feeding other tools\"")(
      "previous", po::value<std::string>()->default_value(""),
      "the previous night's result (any rank count, checked first): one extra K-means restart starts from its model "
      "and competes with the --n-init fresh ones; clusters take its ids and labels by maximum overlap; /migration "
      "(customers and revenue moving between clusters and segments, new and gone ones, ARI, cluster fates) and "
      "/drift (PSI of R, F, M, means, parameters) compare the two. Refused when its transforms, scaler, k (without "
      "--k-select) or pseudonymization differ from this run's. See README \"Nightly runs\"")(
      "export-compress", po::value<std::string>()->default_value("gzip"),
      "gzip | none: customers.csv.gz (one gzip member per rank: any gzip reader opens it) or plain customers.csv")(
      "pseudonymize-key", po::value<std::string>()->default_value(""),
      "key file (at least 32 bytes, not readable by group or others): every customer id is replaced as it is read by "
      "HMAC-SHA256(key, id) in lowercase hex, so no raw id reaches the result, exports, checkpoints, rejects file or "
      "console; /run records the key id (sha256sum KEYFILE | cut -c1-16), never the key")(
      "quiet,q", po::bool_switch(), "no console report on rank 0")(
      "progress", po::bool_switch(),
      "one line per event on stderr (rank 0; never a carriage-return bar): each phase's start and end with its wall "
      "time; ingest bytes done/total, rate and ETA; K-means k, restart i/n, iteration and best inertia every few "
      "seconds")("status-file", po::value<std::string>()->default_value(""),
                 "JSON status of the run (state, phase, phase_fraction, phase_eta_seconds, elapsed_seconds, "
                 "last_event, updated, pid, exit_status at the end), replaced atomically (temporary file + rename) on "
                 "each event, at most once a second while a phase runs");

  po::options_description reliability("Reliability and resources", 110, 55);
  reliability.add_options()(
      "checkpoint", po::value<std::string>()->default_value(""),
      "directory for checkpoints (RFM table after partitioning, K-means state); created if missing")(
      "resume", po::bool_switch(),
      "continue from the last complete checkpoint in --checkpoint (same input and options)")(
      "checkpoint-every", po::value<int>()->default_value(10), "K-means iterations between checkpoints")(
      "collective-timeout", po::value<double>()->default_value(300),
      "seconds any collective (MPI or parallel HDF5) may wait before the job is aborted with a message; 0 = wait "
      "forever")(
      "max-memory-per-rank", po::value<std::string>()->default_value("auto"),
      "memory budget per rank, e.g. 2G, 512M, or auto (60% of the node's memory / ranks on the node); 0 = no limit");

  po::options_description layout("Input layout", 110, 55);
  layout.add_options()("format", po::value<std::string>()->default_value("auto"),
                       "auto (recognise by header) | online-retail | online-retail-ii | amount")(
      "col-customer", po::value<std::string>()->default_value(""), "customer id column: header name, or 1-based index")(
      "col-invoice", po::value<std::string>()->default_value(""), "invoice column (optional)")(
      "col-date", po::value<std::string>()->default_value(""), "date column")(
      "col-quantity", po::value<std::string>()->default_value(""), "quantity column")(
      "col-price", po::value<std::string>()->default_value(""), "unit price column")(
      "col-amount", po::value<std::string>()->default_value(""),
      "amount column (one amount per purchase, instead of quantity x price)")(
      "delimiter", po::value<std::string>()->default_value("auto"),
      "auto | comma | semicolon | tab | whitespace | a single character")(
      "no-header", po::bool_switch(), "the files have no header line (map columns by 1-based index)")(
      "date-format", po::value<std::string>()->default_value("auto"), "auto | iso | mdy | dmy | yyyymmdd | dd-mon-yy")(
      "day-first", po::bool_switch(), "slash dates are D/M/Y")(
      "month-first", po::bool_switch(),
      "slash dates are M/D/Y, stated (the default order, assumed with a warning when no date shows it)")(
      "decimal-comma", po::bool_switch(), "numbers use ',' as the decimal separator (e.g. with --delimiter semicolon)")(
      "chunk-size", po::value<std::string>()->default_value("64"),
      "MiB each rank parses per shuffle round (bounds memory)")("report-lines", po::value<int>()->default_value(10),
                                                                "unusable lines reported with file:line, per kind")(
      "max-bad-fraction", po::value<double>()->default_value(0.05),
      "fail when more than this share of the data lines cannot be parsed (bad_field_count, bad_number, bad_date, "
      "bad_customer_id); 1 = never");

  po::options_description rfm("RFM", 110, 55);
  rfm.add_options()("snapshot", po::value<std::string>()->default_value(""),
                    "reference date YYYY-MM-DD for recency (default: latest kept purchase + 1 day)")(
      "window", po::value<int>()->default_value(0),
      "rolling window in days: only lines with snapshot - day <= DAYS count (so Recency <= DAYS; 365 = the last "
      "12 months); earlier lines are counted as outside_window and go to --rejects; 0 = no window. Without "
      "--snapshot the input is read twice (a first pass finds the latest kept day)")(
      "frequency", po::value<std::string>()->default_value("auto"),
      "auto | invoices | lines | days (auto: invoices when there is an invoice column, else lines)")(
      "cancellations", po::value<std::string>()->default_value("drop"),
      "drop | net (net: cancellations subtract from Monetary)")(
      "duplicates", po::value<std::string>()->default_value("auto"),
      "exact duplicate lines: auto | drop | keep (auto: drop in files with an invoice column, keep in amount-only "
      "logs, where they may be real repeat purchases)");

  po::options_description model("Segmentation", 110, 55);
  model.add_options()("transform-recency", po::value<std::string>()->default_value("boxcox"),
                      "none | log1p | cbrt | boxcox | yeojohnson (Box-Cox/Yeo-Johnson lambda by maximum likelihood "
                      "over all customers)")("transform-frequency", po::value<std::string>()->default_value("boxcox"),
                                             "transform of frequency (same choices)")(
      "transform-monetary", po::value<std::string>()->default_value("cbrt"), "transform of monetary (same choices)")(
      "scaler", po::value<std::string>()->default_value("standard"), "standard (population mean/std) | minmax")(
      "k", po::value<int>()->default_value(4), "clusters of the final model")(
      "k-range", po::value<std::string>()->default_value(""),
      "elbow sweep A..B: fit every k in one run (SSE and metrics in /selection)")(
      "sweep-metrics", po::value<std::string>()->default_value("all"),
      "all | sse: what the sweep computes per k; sse skips the silhouette, Calinski-Harabasz and Davies-Bouldin of "
      "every k but the final one (NaN in /selection), for an elbow curve at the cost of the fits alone")(
      "k-select", po::value<std::string>()->default_value("none"),
      "none (final k = --k) | elbow (Kneedle on SSE) | silhouette (best silhouette); needs --k-range")(
      "silhouette-sample", po::value<std::int64_t>()->default_value(10000),
      "customers the silhouette is computed on (seeded sample); 0 = exact, all pairs")(
      "init", po::value<std::string>()->default_value("kmeans++"), "kmeans++ | kmeans-parallel | random")(
      "kmeans-algorithm", po::value<std::string>()->default_value("auto"),
      "auto (= kdtree) | kdtree (filtering over a kd-tree of the customers: whole cells assigned at once) | "
      "hamerly (per-customer bounds skip most distance computations) | lloyd (every distance); the same result "
      "bit for bit either way")("n-init", po::value<int>()->default_value(10),
                                "K-means restarts; the lowest inertia wins")(
      "max-iter", po::value<int>()->default_value(300), "Lloyd iterations per restart at most")(
      "tol", po::value<double>()->default_value(1e-4),
      "convergence: sum of squared centroid shifts <= tol x mean feature variance (scikit-learn's meaning)")(
      "seed", po::value<std::string>()->default_value("42"),
      "seed of every random draw (keyed by customer id: same result for any rank count)")(
      "segment-reference", po::value<std::string>()->default_value("mean"),
      "mean | median: where R, F, M are split for the 8 classic RFM segments")(
      "high-value-top", po::value<double>()->default_value(20),
      "high-value flag: the top p percent of customers by monetary")(
      "high-value-threshold", po::value<double>(),
      "high-value flag: monetary at or above this amount (instead of --high-value-top)")(
      "cluster-names", po::value<std::string>()->default_value("loyal,new,at risk,churned"),
      "names for recent+frequent, recent, frequent, neither (see README: cluster labels)");

  po::options_description all(caption, 110, 55);
  if (first != nullptr) all.add(*first);
  all.add(general).add(reliability).add(layout).add(rfm).add(model);
  return all;
}

template <class T>
T get(const po::variables_map& vm, const char* name) {
  return vm[name].as<T>();
}

// Options that do not change the result: a run resumed from a checkpoint may change them.
bool result_neutral(const std::string& name) {
  static const char* const neutral[] = {
      "output", "rejects",         "checkpoint",          "resume",     "checkpoint-every", "collective-timeout",
      "quiet",  "progress",        "max-memory-per-rank", "chunk-size", "config",           "force",
      "export", "export-compress", "status-file"};
  for (const char* option : neutral)
    if (name == option) return true;
  return false;
}

Delimiter parse_delimiter(const std::string& d) {
  Delimiter delimiter;
  if (d == "auto") return delimiter;
  if (d == "whitespace" || d == "space") {
    delimiter.kind = Delimiter::Kind::whitespace;
    return delimiter;
  }
  delimiter.kind = Delimiter::Kind::character;
  if (d == "tab" || d == "\\t")
    delimiter.character = '\t';
  else if (d == "comma")
    delimiter.character = ',';
  else if (d == "semicolon")
    delimiter.character = ';';
  else if (d.size() == 1)
    delimiter.character = d[0];
  else
    throw ConfigError("--delimiter must be auto, comma, semicolon, tab, whitespace or a single character, not '" + d +
                      "'");
  return delimiter;  // one that collides with the quote is refused by resolve_dialect (io/layout.cpp)
}

// An enum option by its names (core/names.hpp): "--frequency must be auto, invoices, lines or days, not 'x'".
template <class E>
E parse_choice(const po::variables_map& vm, const char* name) {
  const auto text = get<std::string>(vm, name);
  if (const auto value = parse_name<E>(text)) return *value;
  throw ConfigError(std::string("--") + name + " must be " + name_choices<E>() + ", not '" + text + "'");
}

Format parse_format(const std::string& v) {
  if (v == "auto") return Format::automatic;
  if (v == "online-retail") return Format::online_retail;
  if (v == "online-retail-ii") return Format::online_retail_ii;
  if (v == "amount") return Format::amount;
  throw ConfigError("--format must be auto, online-retail, online-retail-ii or amount, not '" + v + "'");
}

// INI files: "[section] key = value" arrives as "section.key"; sections are free, so keep the key.
// Only a readable regular file is read: a directory reads as empty (the run would silently go
// without its configuration) and /dev/zero or a FIFO would never end.
po::parsed_options parse_ini(const std::string& path, const po::options_description& desc) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    throw ConfigError("cannot read config file '" + path + "': " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw ConfigError("config file '" + path + "' is a directory, not a file");
  if (!S_ISREG(st.st_mode))
    throw ConfigError("config file '" + path + "' is not a regular file (a device, FIFO or socket): give an INI file");
  std::ifstream in(path);
  if (!in) throw ConfigError("cannot read config file '" + path + "': " + std::strerror(errno));
  po::parsed_options parsed = po::parse_config_file(in, desc, true);
  for (auto& option : parsed.options) {
    const auto dot = option.string_key.rfind('.');
    if (dot != std::string::npos) option.string_key = option.string_key.substr(dot + 1);
    if (desc.find_nothrow(option.string_key, false) == nullptr)
      throw ConfigError("unknown option '" + option.string_key + "' in config file '" + path + "' (see --help)");
    // Command-line only: a config file naming another one would be ignored, and help or version
    // in a nightly job's file would turn every run into a no-op that exits 0.
    if (option.string_key == "config" || option.string_key == "help" || option.string_key == "version")
      throw ConfigError("config file '" + path + "' sets '" + option.string_key +
                        "', which only the command line may (" +
                        (option.string_key == "config" ? "a config file cannot include another: give one --config"
                                                       : "remove the key") +
                        ")");
    option.unregistered = false;
  }
  return parsed;
}

// Words that belong to no option: `--input a.csv b.csv` (a glob the shell expanded) or a stray
// word. Boost keeps them as positional tokens and store() ignores them, so they would be lost.
void refuse_extra_words(const po::parsed_options& command_line) {
  const auto words = po::collect_unrecognized(command_line.options, po::include_positional);
  if (words.empty()) return;
  std::string list;
  constexpr std::size_t shown = 5;
  for (std::size_t i = 0; i < words.size() && i < shown; ++i) {
    std::string word = words[i].substr(0, 80) + (words[i].size() > 80 ? "..." : "");
    for (auto& c : word)
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
    list += (list.empty() ? "'" : ", '") + word + "'";
  }
  if (words.size() > shown) list += " and " + std::to_string(words.size() - shown) + " more";
  throw ConfigError("unexpected word" + std::string(words.size() == 1 ? "" : "s") + " on the command line: " + list +
                    " (each --input takes one path: quote a glob so that rfmseg expands it, --input 'data/*.csv', "
                    "or repeat --input for each file)");
}

std::string to_text(const po::variable_value& value) {
  const auto& any = value.value();
  if (const auto* s = boost::any_cast<std::string>(&any)) return *s;
  if (const auto* b = boost::any_cast<bool>(&any)) return *b ? "true" : "false";
  if (const auto* i = boost::any_cast<int>(&any)) return std::to_string(*i);
  if (const auto* u = boost::any_cast<std::uint64_t>(&any)) return std::to_string(*u);
  if (const auto* l = boost::any_cast<std::int64_t>(&any)) return std::to_string(*l);
  if (const auto* d = boost::any_cast<double>(&any)) {
    std::ostringstream out;
    out.precision(17);
    out << *d;
    return out.str();
  }
  if (const auto* v = boost::any_cast<std::vector<std::string>>(&any)) {
    std::string text;
    for (const auto& item : *v) text += (text.empty() ? "" : " ") + item;
    return text;
  }
  return "?";
}

}  // namespace

std::uint64_t parse_unsigned(const std::string& text, const char* option) {
  // Boost (like strtoull) would wrap "-1" to 2^64 - 1: accept digits only.
  const bool digits = !text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string::npos;
  if (!digits) throw ConfigError(std::string(option) + " must be a non-negative integer, not '" + text + "'");
  try {
    return std::stoull(text);
  } catch (const std::exception&) {
    throw ConfigError(std::string(option) + " is too large: '" + text + "'");
  }
}

std::uint64_t parse_byte_size(const std::string& text, const char* option) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (unit.size() == 2 && (unit[1] == 'i' || unit[1] == 'I')) unit.pop_back();
  double scale = 0;
  if (unit.empty())
    scale = 1;
  else if (unit == "K" || unit == "k")
    scale = 1024.0;
  else if (unit == "M" || unit == "m")
    scale = 1024.0 * 1024;
  else if (unit == "G" || unit == "g")
    scale = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "t")
    scale = 1024.0 * 1024 * 1024 * 1024;
  if (used == 0 || scale == 0 || !(value >= 0) || !std::isfinite(value) || value * scale > 1.8e19)
    throw ConfigError(std::string(option) + " must be a size like 512M, 2G or 0 (no limit), not '" + text + "'");
  return static_cast<std::uint64_t>(value * scale);
}

void parse_k_range(const std::string& text, int& k_min, int& k_max) {
  const auto dots = text.find("..");
  try {
    if (dots == std::string::npos) throw std::invalid_argument("no ..");
    std::size_t used = 0;
    k_min = std::stoi(text.substr(0, dots), &used);
    if (used != dots) throw std::invalid_argument("junk");
    const std::string hi = text.substr(dots + 2);
    k_max = std::stoi(hi, &used);
    if (used != hi.size()) throw std::invalid_argument("junk");
  } catch (const std::exception&) {
    throw ConfigError("--k-range must look like A..B (e.g. 1..10), not '" + text + "'");
  }
  if (k_min < 1 || k_max < k_min) throw ConfigError("--k-range needs 1 <= A <= B, got '" + text + "'");
}

namespace {
void fill_config(const po::variables_map& vm, const po::options_description& desc, RunConfig& c);
}  // namespace

Parsed parse(const std::vector<std::string>& args) {
  const auto desc = describe();
  Parsed result;
  po::variables_map vm;
  try {
    std::vector<std::string> tail(args.begin() + (args.empty() ? 0 : 1), args.end());
    const auto command_line = po::command_line_parser(tail).options(desc).run();
    refuse_extra_words(command_line);
    po::store(command_line, vm);
    if (vm.count("config")) po::store(parse_ini(vm["config"].as<std::string>(), desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (see --help)");
  }
  if (vm.count("help")) {
    std::ostringstream text;
    text << desc
         << "\nExit status:\n"
            "  0  success: the result is complete\n"
            "  1  bad input or configuration (one message on stderr, from rank 0)\n"
            "  2  internal error\n"
            "  3  a rank or host stopped responding (--collective-timeout): safe to rerun, with --resume when\n"
            "     checkpointing\n"
            "  4  stopped by a signal (SIGTERM, SIGINT or SIGUSR1: a time limit, a preemption, an operator) at the\n"
            "     next safe point (an ingest round, a phase boundary, a K-means iteration), the K-means state\n"
            "     checkpointed with --checkpoint, no result written: rerun with --resume to continue (rank 0 prints\n"
            "     the command). A second signal during the stop ends at once (the last checkpoint still resumes).\n"
            "     Under Open MPI's mpirun send SIGUSR1 (mpirun forwards it; SIGTERM and SIGINT make mpirun kill\n"
            "     the ranks 1 s later), or signal the job script, which forwards it (jobs/launch.sh)\n";
    result.help = true;
    result.help_text = text.str();
    return result;
  }
  if (vm.count("version")) {
    result.version = true;
    return result;
  }

  fill_config(vm, desc, result.config);
  return result;
}

namespace {

// The validated RunConfig of stored options (the command line, then a config file).
void fill_config(const po::variables_map& vm, const po::options_description& desc, RunConfig& c) {
  if (vm.count("input")) c.input.paths = get<std::vector<std::string>>(vm, "input");
  if (vm.count("output")) c.output = get<std::string>(vm, "output");
  c.rejects = get<std::string>(vm, "rejects");
  c.previous = get<std::string>(vm, "previous");
  c.quiet = get<bool>(vm, "quiet");
  c.force = get<bool>(vm, "force");
  c.progress = get<bool>(vm, "progress");
  c.exports.dir = get<std::string>(vm, "export");
  const auto export_compress = get<std::string>(vm, "export-compress");
  if (export_compress == "gzip")
    c.exports.compression = ExportCompression::gzip;
  else if (export_compress == "none")
    c.exports.compression = ExportCompression::none;
  else
    throw ConfigError("--export-compress must be gzip or none, not '" + export_compress + "'");
  const auto key_path = get<std::string>(vm, "pseudonymize-key");
  if (!key_path.empty()) {
    c.input.pseudonym_key = read_pseudonym_key(key_path);  // checked before any work: exit 1 saying why
    c.input.pseudonym_key_id = pseudonym_key_id(c.input.pseudonym_key);
  }
  c.status_file = get<std::string>(vm, "status-file");

  c.input.format = parse_format(get<std::string>(vm, "format"));
  c.input.columns = {get<std::string>(vm, "col-customer"), get<std::string>(vm, "col-invoice"),
                     get<std::string>(vm, "col-date"),     get<std::string>(vm, "col-quantity"),
                     get<std::string>(vm, "col-price"),    get<std::string>(vm, "col-amount")};
  c.input.delimiter = parse_delimiter(get<std::string>(vm, "delimiter"));
  c.input.has_header = !get<bool>(vm, "no-header");
  const bool day_first = get<bool>(vm, "day-first");
  const bool month_first = get<bool>(vm, "month-first");
  if (day_first && month_first) throw ConfigError("--day-first and --month-first contradict each other: give one");
  const auto date_format = get<std::string>(vm, "date-format");
  if ((date_format == "mdy" && day_first) || (date_format == "dmy" && month_first))
    throw ConfigError("--date-format " + date_format + " contradicts " + (day_first ? "--day-first" : "--month-first") +
                      ": give one");
  c.input.day_first = day_first;
  try {
    c.input.date_format = parse_date_format(date_format, c.input.day_first);
  } catch (const std::invalid_argument& e) {
    throw ConfigError(std::string("--date-format: ") + e.what());
  }
  c.input.date_order_stated = day_first || month_first || date_format == "mdy" || date_format == "dmy";
  c.input.decimal_comma = get<bool>(vm, "decimal-comma");
  const auto chunk = parse_unsigned(get<std::string>(vm, "chunk-size"), "--chunk-size");
  if (chunk < 1 || chunk > 65536) throw ConfigError("--chunk-size must be between 1 and 65536 MiB");
  c.input.chunk_bytes = chunk << 20;
  c.input.max_reported_lines = get<int>(vm, "report-lines");
  const auto memory = get<std::string>(vm, "max-memory-per-rank");
  c.input.max_memory_per_rank_auto = memory == "auto";
  if (!c.input.max_memory_per_rank_auto) c.input.max_memory_per_rank = parse_byte_size(memory, "--max-memory-per-rank");

  auto& r = c.reliability;
  r.checkpoint_dir = get<std::string>(vm, "checkpoint");
  r.resume = get<bool>(vm, "resume");
  if (r.resume && r.checkpoint_dir.empty())
    throw ConfigError("--resume needs --checkpoint DIR (where the checkpoints are)");
  r.checkpoint_every = get<int>(vm, "checkpoint-every");
  if (r.checkpoint_every < 1) throw ConfigError("--checkpoint-every must be >= 1");
  r.collective_timeout = get<double>(vm, "collective-timeout");
  if (!(r.collective_timeout >= 0) || !std::isfinite(r.collective_timeout))
    throw ConfigError("--collective-timeout must be a number of seconds >= 0 (0 = no deadline)");
  if (c.input.max_reported_lines < 0) throw ConfigError("--report-lines must be >= 0");
  c.input.max_bad_fraction = get<double>(vm, "max-bad-fraction");
  if (!(c.input.max_bad_fraction >= 0 && c.input.max_bad_fraction <= 1))
    throw ConfigError("--max-bad-fraction must be a share between 0 and 1 (e.g. 0.05), not " +
                      to_text(vm["max-bad-fraction"]));

  const auto snapshot = get<std::string>(vm, "snapshot");
  if (!snapshot.empty()) {
    std::int32_t day = 0;
    if (DateParser(DateFormat::iso).parse(snapshot, day) != DateStatus::ok || snapshot.size() != 10)
      throw ConfigError("--snapshot must be a date YYYY-MM-DD, not '" + snapshot + "'");
    c.rfm.snapshot_day = day;
  }
  c.rfm.window_days = get<int>(vm, "window");
  if (c.rfm.window_days < 0 || c.rfm.window_days > 3650000)  // 10,000 years: every date rfmseg reads
    throw ConfigError("--window must be a number of days from 0 (no window) to 3650000, not " + to_text(vm["window"]));
  c.rfm.frequency = parse_choice<FrequencyMode>(vm, "frequency");
  c.rfm.cancellations = parse_choice<CancellationPolicy>(vm, "cancellations");
  c.input.duplicates = parse_choice<DuplicatePolicy>(vm, "duplicates");

  ModelConfig& m = c.model;
  const char* transform_keys[] = {"transform-recency", "transform-frequency", "transform-monetary"};
  for (std::size_t d = 0; d < feature_count; ++d) {
    try {
      m.transform[d] = parse_transform(get<std::string>(vm, transform_keys[d]));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(std::string("--") + transform_keys[d] + ": " + e.what());
    }
  }
  m.scaler = parse_choice<Scaler>(vm, "scaler");
  m.k = get<int>(vm, "k");
  if (m.k < 1 || m.k > 1000) throw ConfigError("--k must be between 1 and 1000");
  m.init = parse_choice<Init>(vm, "init");
  m.algorithm = parse_choice<KMeansAlgorithm>(vm, "kmeans-algorithm");
  m.n_init = get<int>(vm, "n-init");
  if (m.n_init < 0 || (m.n_init == 0 && c.previous.empty()))
    throw ConfigError("--n-init must be >= 1 (0 only with --previous: the warm start alone)");
  m.max_iter = get<int>(vm, "max-iter");
  if (m.max_iter < 1) throw ConfigError("--max-iter must be >= 1");
  m.tol = get<double>(vm, "tol");
  if (!(m.tol >= 0)) throw ConfigError("--tol must be >= 0");
  m.seed = parse_unsigned(get<std::string>(vm, "seed"), "--seed");
  const auto range = get<std::string>(vm, "k-range");
  if (!range.empty()) {
    parse_k_range(range, m.k_min, m.k_max);
    if (m.k_max > 1000) throw ConfigError("--k-range: k above 1000 is not supported");
  }
  m.k_select = parse_choice<KSelect>(vm, "k-select");
  m.sweep_metrics = parse_choice<SweepMetrics>(vm, "sweep-metrics");
  if (m.k_select == KSelect::silhouette && m.sweep_metrics == SweepMetrics::sse)
    throw ConfigError("--k-select silhouette needs the silhouette of every k: drop --sweep-metrics sse");
  const auto select = get<std::string>(vm, "k-select");
  if (m.k_select != KSelect::none && m.k_max == 0) throw ConfigError("--k-select " + select + " needs --k-range A..B");
  m.silhouette_sample = get<std::int64_t>(vm, "silhouette-sample");
  if (m.silhouette_sample < 0) throw ConfigError("--silhouette-sample must be >= 0 (0 = exact)");
  const auto reference = get<std::string>(vm, "segment-reference");
  if (reference != "mean" && reference != "median")
    throw ConfigError("--segment-reference must be mean or median, not '" + reference + "'");
  m.segment_median = reference == "median";
  m.high_value_top_percent = get<double>(vm, "high-value-top");
  if (!(m.high_value_top_percent > 0 && m.high_value_top_percent <= 100))
    throw ConfigError("--high-value-top must be a percentage in (0, 100]");
  if (vm.count("high-value-threshold") && !vm["high-value-top"].defaulted())
    throw ConfigError("--high-value-top and --high-value-threshold both define the high-value flag: give one");
  if (vm.count("high-value-threshold")) {
    m.high_value_threshold = get<double>(vm, "high-value-threshold");
    if (!std::isfinite(*m.high_value_threshold)) throw ConfigError("--high-value-threshold must be a finite amount");
  }
  const auto names = get<std::string>(vm, "cluster-names");
  std::size_t start = 0;
  for (int i = 0; i < 4; ++i) {
    const auto comma = names.find(',', start);
    if ((comma == std::string::npos) != (i == 3))
      throw ConfigError("--cluster-names needs exactly four comma-separated names, not '" + names + "'");
    m.cluster_names[static_cast<std::size_t>(i)] =
        names.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    start = comma + 1;
  }

  // Provenance: every option with its effective value, as INI.
  std::string resolved;
  for (const auto& option : desc.options()) {
    const std::string& name = option->long_name();
    if (name == "help" || name == "version" || !vm.count(name)) continue;
    const std::string line = name + " = " + to_text(vm[name]) + "\n";
    resolved += line;
    if (!result_neutral(name)) c.result_options += line;
  }
  // The key's id, not its path alone: a checkpoint made with another key in the same file is
  // then not resumed (its tokens would not match). A comment, so the text stays a valid INI file.
  if (!c.input.pseudonym_key_id.empty()) {
    const std::string line = "# pseudonymize-key-id = " + c.input.pseudonym_key_id + "\n";
    resolved += line;
    c.result_options += line;
  }
  c.resolved = resolved;
}

// What `score` fixes from the model: given on its command line, these would be ignored.
bool frozen_by_model(const std::string& name) {
  static const char* const frozen[] = {"transform-recency",
                                       "transform-frequency",
                                       "transform-monetary",
                                       "scaler",
                                       "k",
                                       "k-range",
                                       "sweep-metrics",
                                       "k-select",
                                       "silhouette-sample",
                                       "init",
                                       "kmeans-algorithm",
                                       "n-init",
                                       "max-iter",
                                       "tol",
                                       "seed",
                                       "segment-reference",
                                       "high-value-top",
                                       "high-value-threshold",
                                       "cluster-names"};
  for (const char* option : frozen)
    if (name == option) return true;
  return false;
}

// Keys of a model's recorded configuration that belong to that run alone, not to how its input
// was read: never taken over by `score`.
bool run_only(const std::string& name) {
  static const char* const own[] = {"input",
                                    "output",
                                    "snapshot",
                                    "rejects",
                                    "export",
                                    "export-compress",
                                    "checkpoint",
                                    "resume",
                                    "checkpoint-every",
                                    "status-file",
                                    "progress",
                                    "quiet",
                                    "force",
                                    "config",
                                    "collective-timeout",
                                    "max-memory-per-rank",
                                    "chunk-size",
                                    "model",
                                    "help",
                                    "version"};
  for (const char* option : own)
    if (name == option) return true;
  return false;
}

constexpr const char* score_caption =
    "rfmseg score — place customers in the clusters of a saved model, without fitting\n\n"
    "usage: mpirun -np N rfmseg score --model RESULT.h5 --input PATH [--input PATH ...] --output SCORED.h5 "
    "[options]\n\n"
    "Everything fitted is frozen from the model (a result file of rfmseg, or an earlier scored file): the\n"
    "transforms, the scaler and its grid, the centroids, cluster ids and labels, the RFM quintile cut points,\n"
    "the classic-segment split values and the high-value threshold. The input is read with the layout and\n"
    "cleaning options recorded in the model's /run configuration (format, columns, delimiter, dates,\n"
    "frequency, cancellations, duplicates, pseudonymization, ...), each overridable here; recency is as of\n"
    "--snapshot (default: from the data, as in a normal run). The segmentation options (--k, --transform-*,\n"
    "--seed, ...) come from the model and cannot be given. SCORED.h5 has the layout of a result (no\n"
    "/selection), /run mode = score and the model's file, snapshot and version; it is written safely like a\n"
    "result and never over an input or the model. Scoring a model's own input reproduces its /customers\n"
    "bit for bit, for any rank counts of either run.\n\noptions";

}  // namespace

ScoreParsed parse_score(const std::vector<std::string>& args, const std::string* model_configuration) {
  po::options_description scoring("Scoring", 110, 55);
  scoring.add_options()("model", po::value<std::string>(),
                        "the result file (or scored file) whose model places the customers; read-only");
  const auto desc = describe(score_caption, &scoring);
  ScoreParsed result;
  po::variables_map vm;
  try {
    // args: program, "score", options...
    std::vector<std::string> tail(args.begin() + std::min<std::size_t>(args.size(), 2), args.end());
    const auto command_line = po::command_line_parser(tail).options(desc).run();
    refuse_extra_words(command_line);
    for (const auto& option : command_line.options) {
      if (frozen_by_model(option.string_key))
        throw ConfigError("--" + option.string_key +
                          " cannot be given to score: the model fixes it (score places customers in its clusters "
                          "without fitting)");
      if (option.string_key == "checkpoint" || option.string_key == "resume" || option.string_key == "export" ||
          option.string_key == "k-range")
        throw ConfigError("--" + option.string_key + " is not available with score");
    }
    po::store(command_line, vm);
    if (vm.count("help")) {
      std::ostringstream text;
      text << desc
           << "\nExit status: as rfmseg (0 success, 1 bad input, configuration or model file, 2 internal\n"
              "error, 3 a rank stopped responding, 4 stopped by a signal: rerun)\n";
      result.help = true;
      result.help_text = text.str();
      return result;
    }
    if (vm.count("version")) throw ConfigError("--version: use rfmseg --version");
    if (!vm.count("model"))
      throw ConfigError("score needs --model RESULT.h5 (the result whose model places the customers)");
    if (!vm.count("input")) throw ConfigError("score needs --input PATH (the customers' transactions)");
    if (!vm.count("output")) throw ConfigError("score needs --output SCORED.h5");
    result.model = vm["model"].as<std::string>();
    if (vm.count("config")) {
      auto from_file = parse_ini(vm["config"].as<std::string>(), desc);
      for (const auto& option : from_file.options)
        if (frozen_by_model(option.string_key))
          throw ConfigError("config file sets '" + option.string_key +
                            "', which the model fixes for score: remove the key");
      po::store(from_file, vm);
    }
    if (model_configuration == nullptr) return result;  // the model is loaded next
    // The model's recorded options: the layout and cleaning of its input, its segmentation
    // options (for the record; what they produced is frozen). The command line wins.
    std::istringstream recorded(*model_configuration);
    po::parsed_options from_model = po::parse_config_file(recorded, desc, true);
    std::vector<po::option> kept;
    for (auto& option : from_model.options) {
      if (option.unregistered || run_only(option.string_key)) continue;  // e.g. a newer rfmseg's option
      kept.push_back(option);
    }
    from_model.options = kept;
    po::store(from_model, vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw ConfigError(std::string(e.what()) + " (see rfmseg score --help)");
  }
  fill_config(vm, desc, result.config);
  return result;
}

}  // namespace rfmseg::cli
