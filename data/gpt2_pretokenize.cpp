#include "data/gpt2_pretokenize.h"

#include <unicode/uchar.h>

#include <array>

#include "data/utf8.h"

namespace nf {

namespace {

// The three classes the pattern names, and everything else.
enum class CharClass : unsigned char { Letter, Number, Space, Other };

CharClass classify(char32_t cp) {
  const auto c = static_cast<UChar32>(cp);
  if (u_isUWhiteSpace(c)) return CharClass::Space;
  const uint32_t gc = U_GET_GC_MASK(c);
  if (gc & U_GC_L_MASK) return CharClass::Letter;
  if (gc & U_GC_N_MASK) return CharClass::Number;
  return CharClass::Other;
}

// ASCII is most of most text: its classes, asked of ICU once rather than written out here.
const std::array<CharClass, 128>& ascii_classes() {
  static const std::array<CharClass, 128> table = [] {
    std::array<CharClass, 128> t{};
    for (char32_t c = 0; c < 128; ++c) t[c] = classify(c);
    return t;
  }();
  return table;
}

// The class of the character at s[pos]; sets `len` to its length in bytes (1 for a byte that
// is not valid UTF-8, which is Other).
inline CharClass class_at(std::string_view s, size_t pos, size_t& len) {
  const auto b = static_cast<unsigned char>(s[pos]);
  if (b < 0x80) {
    len = 1;
    return ascii_classes()[b];
  }
  size_t next = pos;
  char32_t cp;
  if (!next_code_point(s, next, cp)) {
    len = 1;
    return CharClass::Other;
  }
  len = next - pos;
  return classify(cp);
}

// The length of a contraction at s[i] ('s 't 're 've 'm 'll 'd, lower case only, as GPT-2's
// pattern is case-sensitive), or 0.
size_t contraction_length(std::string_view s, size_t i) {
  if (i + 1 >= s.size() || s[i] != '\'') return 0;
  const char c = s[i + 1];
  if (c == 's' || c == 't' || c == 'm' || c == 'd') return 2;
  if (i + 2 < s.size()) {
    const char c2 = s[i + 2];
    if ((c == 'r' && c2 == 'e') || (c == 'v' && c2 == 'e') || (c == 'l' && c2 == 'l')) return 3;
  }
  return 0;
}

}  // namespace

size_t gpt2_piece_end(std::string_view s, size_t i) {
  const size_t n = s.size();
  // 's|'t|'re|'ve|'m|'ll|'d
  if (const size_t len = contraction_length(s, i)) return i + len;
  // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run of one
  // class. A space followed by whitespace (or by nothing) cannot start any of these.
  size_t len = 0;
  size_t j = i;
  if (s[i] == ' ' && i + 1 < n) {
    size_t next_len;
    if (class_at(s, i + 1, next_len) != CharClass::Space) j = i + 1;
  }
  const CharClass cls = class_at(s, j, len);
  if (cls != CharClass::Space) {
    size_t k = j + len;
    while (k < n && class_at(s, k, len) == cls) k += len;
    return k;
  }
  // `\s+(?!\S)|\s+`: a run of whitespace. When a non-space follows, the run gives back its last
  // character, which starts the next piece (a space then leads the word, " word"; any other
  // whitespace character becomes a piece of its own) — unless that character is the whole run,
  // which `\s+` then takes alone.
  size_t k = i + len, last = i;
  while (k < n && class_at(s, k, len) == CharClass::Space) {
    last = k;
    k += len;
  }
  return k < n && last > i ? last : k;
}

std::vector<std::string_view> gpt2_pretokenize(std::string_view s) {
  std::vector<std::string_view> pieces;
  for (size_t i = 0; i < s.size();) {
    const size_t end = gpt2_piece_end(s, i);
    pieces.push_back(s.substr(i, end - i));
    i = end;
  }
  return pieces;
}

}  // namespace nf
