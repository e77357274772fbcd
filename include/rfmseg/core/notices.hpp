#pragma once
// Warnings and notes for the person running the job, from any layer. Library code reports them
// here instead of printing; the application decides where they go (by default: stderr, prefixed
// "rfmseg: warning: " or "rfmseg: "). Callers decide on which rank to report (usually rank 0).

#include <functional>
#include <string_view>

namespace rfmseg::notices {

enum class Kind { warning, note };

using Sink = std::function<void(Kind, std::string_view)>;

/// Replaces where notices go (an empty sink restores the default: stderr).
void set_sink(Sink sink);

/// Something the user should know and may want to act on (a skipped input, a stale file removed).
void warning(std::string_view text);
/// Information about what the run does (resuming from a checkpoint).
void note(std::string_view text);

}  // namespace rfmseg::notices
