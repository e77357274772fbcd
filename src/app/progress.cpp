#include "rfmseg/app/progress.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace rfmseg {

namespace {

std::string json_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double value, const char* format = "%.3f") {
  if (!std::isfinite(value) || value < 0) return "null";
  char text[64];
  std::snprintf(text, sizeof text, format, value);
  return text;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

std::string megabytes(std::uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MB", static_cast<double>(bytes) / 1e6);
  return text;
}

std::string seconds_text(double seconds) {
  char text[32];
  if (!(seconds >= 0) || !std::isfinite(seconds)) return "?";
  if (seconds < 120)
    std::snprintf(text, sizeof text, "%.0f s", seconds);
  else if (seconds < 7200)
    std::snprintf(text, sizeof text, "%.1f min", seconds / 60);
  else
    std::snprintf(text, sizeof text, "%.1f h", seconds / 3600);
  return text;
}

}  // namespace

ProgressReporter::ProgressReporter(const RunConfig& config, double interval_seconds)
    : _lines(config.progress),
      _status_file(config.status_file),
      _interval(interval_seconds),
      _k_min(config.model.k_max > 0 ? config.model.k_min : config.model.k),
      _k_max(config.model.k_max > 0 ? config.model.k_max : config.model.k),
      _max_iter(config.model.max_iter),
      _start(now()),
      _phase_start(_start) {
  progress::set_sink(this);
}

ProgressReporter::~ProgressReporter() { progress::set_sink(nullptr); }

double ProgressReporter::now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void ProgressReporter::event(const std::string& text, bool print) {
  _last_event = text;
  if (print && _lines) {
    std::fprintf(stderr, "rfmseg: progress [%8.1f s] %s\n", now() - _start, text.c_str());
    std::fflush(stderr);
  }
}

void ProgressReporter::phase_started(const char* phase) {
  _phase = phase;
  _phase_start = now();
  _fraction = 0;
  _eta = -1;
  _last_line = -1e300;  // the first event of a phase is always shown
  event("phase " + _phase + " started", true);
  write_status(true);
}

void ProgressReporter::phase_done(const char* phase, double seconds) {
  _fraction = 1;
  _eta = 0;
  char text[128];
  std::snprintf(text, sizeof text, "phase %s done in %.2f s", phase, seconds);
  event(text, true);
  write_status(true);
}

void ProgressReporter::ingest(std::uint64_t round, std::uint64_t bytes_done, std::uint64_t bytes_total) {
  const double t = now();
  const double elapsed = t - _phase_start;
  const double rate = elapsed > 0 ? static_cast<double>(bytes_done) / elapsed : 0;
  _fraction = bytes_total > 0 ? static_cast<double>(bytes_done) / static_cast<double>(bytes_total) : 1;
  _eta = rate > 0 ? static_cast<double>(bytes_total - std::min(bytes_done, bytes_total)) / rate : -1;
  char text[256];
  std::snprintf(text, sizeof text, "ingest round %llu: %s of %s (%.1f %%), %.1f MB/s, ETA %s",
                static_cast<unsigned long long>(round), megabytes(bytes_done).c_str(), megabytes(bytes_total).c_str(),
                100 * _fraction, rate / 1e6, seconds_text(_eta).c_str());
  const bool show = t - _last_line >= _interval || bytes_done >= bytes_total;
  if (show) _last_line = t;
  event(text, show);
  write_status(false);
}

void ProgressReporter::kmeans(int k, int restart, int n_init, int iteration, double best_inertia) {
  const double t = now();
  // Fraction of the K-means phase: fits of the sweep in order, restarts within a fit, and the
  // iterations of a restart against --max-iter (a restart usually converges long before).
  const int fits = _k_max - _k_min + 1;
  const int fit = k >= _k_min && k <= _k_max ? k - _k_min : fits - 1;
  const double within = std::min(1.0, static_cast<double>(iteration) / std::max(1, _max_iter));
  _fraction = (fit + (restart + within) / std::max(1, n_init)) / std::max(1, fits);
  const double elapsed = t - _phase_start;
  _eta = _fraction > 0 ? elapsed * (1 - _fraction) / _fraction : -1;
  char text[256];
  std::snprintf(text, sizeof text, "kmeans k = %d, restart %d/%d, iteration %d, best inertia %s", k, restart + 1,
                n_init, iteration, std::isfinite(best_inertia) ? json_number(best_inertia, "%.6g").c_str() : "-");
  const bool show = t - _last_line >= _interval;
  if (show) _last_line = t;
  event(text, show);
  write_status(false);
}

void ProgressReporter::finish(int exit_status, const std::string& message) {
  _exit_status = exit_status;
  _state = exit_status == 0 ? "done" : exit_status == 4 ? "stopped" : "failed";
  if (exit_status == 0) {
    _fraction = 1;
    _eta = 0;
  }
  char text[64];
  std::snprintf(text, sizeof text, "finished: %s (exit status %d)", _state.c_str(), exit_status);
  event(message.empty() ? std::string(text) : std::string(text) + ": " + message, true);
  write_status(true);
}

void ProgressReporter::write_status(bool force) {
  if (_status_file.empty()) return;
  const double t = now();
  if (!force && t - _last_status < 1.0) return;
  _last_status = t;
  std::string json = "{\n";
  json += "  \"state\": " + json_string(_state) + ",\n";
  json += "  \"phase\": " + json_string(_phase) + ",\n";
  json += "  \"phase_fraction\": " + json_number(_fraction, "%.4f") + ",\n";
  json += "  \"phase_eta_seconds\": " + json_number(_eta, "%.1f") + ",\n";
  json += "  \"elapsed_seconds\": " + json_number(t - _start, "%.1f") + ",\n";
  json += "  \"last_event\": " + json_string(_last_event) + ",\n";
  json += "  \"updated\": " + json_string(utc_now()) + ",\n";
  json += "  \"pid\": " + std::to_string(::getpid()) + ",\n";
  json += "  \"exit_status\": " + (_exit_status < 0 ? std::string("null") : std::to_string(_exit_status)) + "\n}\n";
  const std::string temporary = _status_file + ".tmp-" + std::to_string(::getpid());
  bool ok = false;
  if (std::FILE* out = std::fopen(temporary.c_str(), "w")) {
    ok = std::fwrite(json.data(), 1, json.size(), out) == json.size();
    ok = std::fclose(out) == 0 && ok;
    ok = ok && std::rename(temporary.c_str(), _status_file.c_str()) == 0;
    if (!ok) std::remove(temporary.c_str());
  }
  if (!ok && !_status_warned) {  // a status file is worth a warning, never the run
    _status_warned = true;
    std::fprintf(stderr, "rfmseg: warning: cannot write the status file '%s'\n", _status_file.c_str());
  }
}

}  // namespace rfmseg
