#include "data/chunk_reader.h"

#include <algorithm>
#include <stdexcept>

namespace nf {

namespace {
inline bool is_graphic_ascii(char c) { return c >= '!' && c <= '~'; }
inline bool is_ascii_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
}  // namespace

CutRule cut_rule_for(const std::string& tokenizer) {
  if (tokenizer == "byte") return CutRule::AnyByte;
  if (tokenizer == "char") return CutRule::CodePoint;
  if (tokenizer == "bpe" || tokenizer == "gpt2") return CutRule::Words;
  throw std::runtime_error("unknown tokenizer '" + tokenizer + "' (expected char, byte, bpe or gpt2)");
}

bool can_cut(CutRule rule, std::string_view s, size_t p) {
  if (p < 2 || p >= s.size()) return false;
  switch (rule) {
    case CutRule::AnyByte:
      return true;
    case CutRule::CodePoint:
      return !is_continuation(s[p]);
    case CutRule::Words:
      if (s[p - 1] == '\n') return is_graphic_ascii(s[p - 2]) && is_graphic_ascii(s[p]);
      return s[p] == ' ' && is_ascii_letter(s[p - 1]) && p + 1 < s.size() && is_ascii_letter(s[p + 1]);
  }
  return false;
}

ChunkReader::ChunkReader(const TextSource& source, CutRule rule, size_t chunk_bytes)
    : reader_(source.open()), rule_(rule), chunk_bytes_(std::max<size_t>(chunk_bytes, 1)) {}

void ChunkReader::fill(size_t n) {
  while (buffer_.size() < n && !at_end_) {
    const size_t old = buffer_.size();
    buffer_.resize(n);
    const size_t got = reader_.read(&buffer_[old], n - old);
    buffer_.resize(old + got);
    if (got == 0) at_end_ = true;
  }
}

bool ChunkReader::next(TextChunk& chunk) {
  size_t want = chunk_bytes_;
  size_t p = 0;      // where this chunk ends
  size_t lowest = 2;  // cuts below this were already looked for, and none was there
  for (;;) {
    // One byte past a cut must be read for can_cut to see it (or the input must end there).
    fill(want + 2);
    if (at_end_ && buffer_.size() <= want) {
      p = buffer_.size();
      break;
    }
    for (size_t q = want; q >= lowest && p == 0; --q)
      if (can_cut(rule_, buffer_, q)) p = q;
    if (p > 0) break;
    if (at_end_) {
      p = buffer_.size();
      break;
    }
    lowest = want + 1;
    want += chunk_bytes_;
  }
  if (p == 0) return false;  // the input is used up
  chunk.offset = offset_;
  chunk.text.assign(buffer_, 0, p);
  buffer_.erase(0, p);
  offset_ += p;
  return true;
}

}  // namespace nf
