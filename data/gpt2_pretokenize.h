#pragma once
// GPT-2's pre-tokenization: the text is cut into pieces before byte-pair merging, so that no
// token spans a word boundary. GPT-2 does this with one regular expression (Python `regex`):
//
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// and so does this file, by hand, with the same leftmost-first semantics. The Unicode classes
// come from ICU, chosen to agree with Python `regex` character for character:
//   \p{L}  general category L (Lu Ll Lt Lm Lo): U_GC_L_MASK;
//   \p{N}  general category N (Nd Nl No):       U_GC_N_MASK;
//   \s     the White_Space property:            u_isUWhiteSpace (U+0085 and U+00A0 are
//          whitespace; U+001C..U+001F, which Python's str.isspace() counts, are not).
// A check over every code point found no difference other than characters that ICU's Unicode
// version has not assigned yet (docs/formats.md, "gpt2").
//
// GPT-2 tokenizes Python strings; here the input is bytes. Valid UTF-8 is split exactly as GPT-2
// splits the decoded string. A byte that is not part of valid UTF-8 counts as one character of
// the class "neither letter, number nor space" (like punctuation), so any byte string is split,
// and the pieces always concatenate back to the input.
#include <cstddef>
#include <string_view>
#include <vector>

namespace nf {

// The end of the piece that starts at text[pos] (pos < text.size()): the next piece is
// text[pos, end). Walking a text this way needs no memory of its own.
size_t gpt2_piece_end(std::string_view text, size_t pos);

// All the pieces, in order: views into `text` (keep it alive), none empty.
std::vector<std::string_view> gpt2_pretokenize(std::string_view text);

}  // namespace nf
