#include "rfmseg/core/notices.hpp"

#include <cstdio>
#include <utility>

namespace rfmseg::notices {

namespace {
Sink& sink() {
  static Sink installed;
  return installed;
}
void report(Kind kind, std::string_view text) {
  if (sink()) {
    sink()(kind, text);
    return;
  }
  std::fprintf(stderr, "rfmseg: %s%.*s\n", kind == Kind::warning ? "warning: " : "", static_cast<int>(text.size()),
               text.data());
}
}  // namespace

void set_sink(Sink s) { sink() = std::move(s); }
void warning(std::string_view text) { report(Kind::warning, text); }
void note(std::string_view text) { report(Kind::note, text); }

}  // namespace rfmseg::notices
