#pragma once
// Input bytes shown to people (error messages, the console, /run bad_line_examples): cut short and
// made harmless for a terminal. Input lines may be megabytes long and hold any byte, ESC included.

#include <cstddef>
#include <string>
#include <string_view>

namespace rfmseg {

/// Input bytes an excerpt shows at most.
inline constexpr std::size_t excerpt_bytes = 200;

/// `bytes` for a message: at most `max_bytes` of them (cut before a UTF-8 character, never inside
/// one), followed by "... (+N bytes)" when N bytes were cut. Printable ASCII and valid UTF-8 stay
/// as they are; every other byte — control bytes (tab and line ends included), DEL, bytes of
/// invalid UTF-8, C1 controls (U+0080..U+009F) — is written \xNN, and the backslash as \\.
[[nodiscard]] std::string printable_excerpt(std::string_view bytes, std::size_t max_bytes = excerpt_bytes);

}  // namespace rfmseg
