#include "rfmseg/app/summary.hpp"

#include <charconv>
#include <cstdio>
#include <exception>
#include <stdexcept>

#include "rfmseg/io/h5.hpp"
#include "rfmseg/io/result_format.hpp"

namespace rfmseg {

namespace {

namespace format = result_format;

constexpr const char* feature_names[] = {"recency", "frequency", "monetary"};

// The shortest text that reads back as the same double ("nan", "inf" as pandas reads them).
std::string number(double value) {
  char buffer[64];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, value).ptr;
  return std::string(buffer, end);
}

// A name or label inside a ';'-joined 'id:value' field: no ';', ':' or line break (the CSV
// quoting takes care of commas and quotes).
std::string plain(std::string text) {
  for (char& c : text)
    if (c == ';' || c == ':' || c == '\n' || c == '\r') c = '_';
  return text;
}

template <class T>
std::vector<T> need(const h5::File& file, const format::Dataset& d) {
  if (!file.has(std::string(d.path)))
    throw std::runtime_error("is not a complete rfmseg result (no /" + std::string(d.path) + ")");
  return h5::read<T>(file, std::string(d.path));
}

template <class T>
T scalar(const h5::File& file, const format::Dataset& d) {
  const auto values = need<T>(file, d);
  if (values.size() != 1) throw std::runtime_error("/" + std::string(d.path) + " is not a scalar");
  return values[0];
}

}  // namespace

std::string csv_field(const std::string& text) {
  if (text.find_first_of(",\"\n\r") == std::string::npos) return text;
  std::string quoted(1, '"');
  for (const char c : text) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  quoted += '"';
  return quoted;
}

SummaryFields summarize_result(const std::string& path, const std::string& name) {
  const h5::File file = h5::File::open_read(path);
  for (const char* group : {"run", "model", "segments"})
    if (!file.has(group)) throw std::runtime_error(std::string("is not an rfmseg result (no /") + group + ")");
  const h5::Group run = h5::open_object(file, "run");
  SummaryFields f;
  f.emplace_back("date", h5::read_string_attribute(run, "snapshot_date"));
  f.emplace_back("result", name);
  f.emplace_back("customers", std::to_string(h5::read_int_attribute(run, "customers")));
  f.emplace_back("k", std::to_string(scalar<std::int64_t>(file, format::model_k)));
  f.emplace_back("inertia", number(scalar<double>(file, format::inertia)));
  f.emplace_back("silhouette", number(scalar<double>(file, format::silhouette)));

  // The migration from the previous result: empty without --previous.
  const bool migration = file.has("migration");
  std::string previous_snapshot, stayed, fresh, gone, changed_cluster, changed_segment, ari;
  if (migration) {
    const h5::Group m = h5::open_object(file, "migration");
    previous_snapshot = h5::read_string_attribute(m, "previous_snapshot");
    const std::int64_t both = h5::read_int_attribute(m, "stayed");
    stayed = std::to_string(both);
    fresh = std::to_string(h5::read_int_attribute(m, "new"));
    gone = std::to_string(h5::read_int_attribute(m, "gone"));
    const auto share = [&](const char* attribute) {
      const std::int64_t changed = h5::read_int_attribute(m, attribute);
      return both > 0 ? number(static_cast<double>(changed) / static_cast<double>(both)) : std::string();
    };
    changed_cluster = share("changed_cluster");
    changed_segment = share("changed_segment");
    ari = number(h5::read_double_attribute(m, "ari"));
  }
  f.emplace_back("previous_snapshot", previous_snapshot);
  f.emplace_back("stayed", stayed);
  f.emplace_back("new", fresh);
  f.emplace_back("gone", gone);
  f.emplace_back("changed_cluster_share", changed_cluster);
  f.emplace_back("changed_segment_share", changed_segment);
  f.emplace_back("ari", ari);
  std::vector<double> psi;
  if (file.has(std::string(format::drift_psi.path))) psi = need<double>(file, format::drift_psi);
  for (std::size_t d = 0; d < 3; ++d)
    f.emplace_back(std::string("psi_") + feature_names[d], d < psi.size() ? number(psi[d]) : std::string());

  // Cluster sizes and labels by stable cluster id: "id:value;id:value" in ascending id order.
  const auto ids = need<std::int64_t>(file, format::cluster_id);
  const auto sizes = need<std::int64_t>(file, format::cluster_size);
  const auto labels = h5::read_strings(file, std::string(format::cluster_label.path));
  if (sizes.size() != ids.size() || labels.size() != ids.size())
    throw std::runtime_error("has /model/cluster_id, cluster_size and cluster_label of different lengths");
  std::string size_field, label_field;
  for (std::size_t j = 0; j < ids.size(); ++j) {
    if (j) {
      size_field += ';';
      label_field += ';';
    }
    const std::string id = std::to_string(ids[j]);
    size_field.append(id).append(":").append(std::to_string(sizes[j]));
    label_field.append(id).append(":").append(plain(labels[j]));
  }
  f.emplace_back("cluster_sizes", size_field);
  f.emplace_back("cluster_labels", label_field);

  // The 8 classic segments, one column each: segment_<name, blanks as _>.
  const auto names = h5::read_strings(file, std::string(format::segment_name.path));
  const auto counts = need<std::int64_t>(file, format::segment_customers);
  if (names.size() != format::segment_count || counts.size() != format::segment_count)
    throw std::runtime_error("does not have the 8 classic segments in /segments");
  for (std::size_t s = 0; s < names.size(); ++s) {
    std::string column = "segment_" + plain(names[s]);
    for (char& c : column)
      if (c == ' ') c = '_';
    f.emplace_back(column, std::to_string(counts[s]));
  }
  return f;
}

int summary_command(const std::vector<std::string>& args) {
  bool csv = false, header = true, help = args.empty();
  std::vector<std::string> files;
  for (const auto& arg : args) {
    if (arg == "--csv")
      csv = true;
    else if (arg == "--no-header")
      header = false;
    else if (arg == "--help" || arg == "-h")
      help = true;
    else if (arg.starts_with("-") && arg != "-") {
      std::fprintf(stderr, "rfmseg summary: unknown option '%s' (see rfmseg summary --help)\n", arg.c_str());
      return 1;
    } else
      files.push_back(arg);
  }
  if (help || files.empty()) {  // --help: exit 0; nothing to summarize: the usage and exit 1
    std::puts(
        "usage: rfmseg summary [--csv] [--no-header] RESULT.h5 [RESULT.h5 ...]\n\n"
        "Prints the facts of each finished result that a history of nights keeps (the row\n"
        "jobs/segment.sbatch appends to OUTDIR/history.csv). Reads the files serially; run it\n"
        "with one rank.\n\n"
        "  --csv        a CSV header line, then one row per file (the columns below)\n"
        "  --no-header  with --csv: the rows only\n"
        "  (default)    per file its name, then one 'column = value' line per column\n\n"
        "Columns: date (/run snapshot_date), result (the file as given), customers, k, inertia,\n"
        "silhouette (/model), previous_snapshot, stayed, new, gone, changed_cluster_share,\n"
        "changed_segment_share (changed_cluster and changed_segment / stayed), ari (/migration; empty\n"
        "without --previous), psi_recency, psi_frequency, psi_monetary (/drift/psi; empty without),\n"
        "cluster_sizes and cluster_labels ('id:value' per cluster, ';'-joined, ascending stable\n"
        "/model/cluster_id), then one column per classic segment with its customers:\n"
        "segment_important_value, ... (/segments/name, blanks as _). Numbers are exact: integers, and\n"
        "doubles in the shortest form that reads back as the same value.\n\n"
        "Exit status 0, or 1 when a file is missing or not a complete rfmseg result.");
    return help && !args.empty() ? 0 : 1;
  }
  std::string out;
  for (std::size_t i = 0; i < files.size(); ++i) {
    SummaryFields fields;
    try {
      fields = summarize_result(files[i], files[i]);
    } catch (const std::exception& error) {
      std::fflush(stdout);
      std::fprintf(stderr, "rfmseg summary: %s: %s\n", files[i].c_str(), error.what());
      return 1;
    }
    if (csv) {
      if (header && i == 0) {
        for (std::size_t c = 0; c < fields.size(); ++c) {
          if (c) out += ',';
          out += csv_field(fields[c].first);
        }
        out += '\n';
      }
      for (std::size_t c = 0; c < fields.size(); ++c) {
        if (c) out += ',';
        out += csv_field(fields[c].second);
      }
      out += '\n';
    } else {
      out.append(files[i]).append("\n");
      for (const auto& [column, value] : fields)
        out.append("  ").append(column).append(" = ").append(value).append("\n");
    }
  }
  std::fputs(out.c_str(), stdout);
  std::fflush(stdout);
  return 0;
}

}  // namespace rfmseg
