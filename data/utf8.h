#pragma once
// UTF-8, as the tokenizers read and write it: one code point at a time, strictly (so a
// vocabulary only ever holds real characters, and the pre-tokenizers can tell a character from
// a stray byte).
#include <cstddef>
#include <string>
#include <string_view>

namespace nf {

// Decodes the code point at s[pos], advancing pos past it. Returns false (advancing one byte)
// on malformed input: a stray continuation byte, a truncated sequence, an overlong form, a
// surrogate, or a value above U+10FFFF.
bool next_code_point(std::string_view s, size_t& pos, char32_t& cp);

// The UTF-8 bytes of a code point (which the caller knows to be valid).
std::string to_utf8(char32_t cp);

}  // namespace nf
