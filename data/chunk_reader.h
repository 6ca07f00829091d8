#pragma once
// Cuts a TextSource into chunks that can be tokenized one by one, in any order, on any thread,
// and still give exactly the ids of tokenizing the whole text at once: each cut is made only
// where the tokenizer provably treats the text on either side independently (docs/formats.md
// §1, "Streaming").
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "data/text_source.h"

namespace nf {

// Where a tokenizer's text may be cut (before text[p], 0 < p < text.size()).
enum class CutRule {
  // byte: anywhere; every byte is its own token.
  AnyByte,
  // char: before any byte that is not a UTF-8 continuation byte (10xxxxxx). No encoded
  // character spans such a byte, and a malformed sequence is malformed on both sides alike.
  CodePoint,
  // bpe and gpt2, whose pre-tokenizers split text into words (split_bpe_chunks,
  // gpt2_pretokenize) before merging inside each. Only two ASCII patterns, where both
  // pre-tokenizers end one piece and start the next, whatever comes before or after:
  //   "G\nG"  a newline between two graphic ASCII characters ('!'..'~'): the word ends at the
  //           newline, the newline is a piece alone (a single whitespace character before a
  //           non-space), and the next piece starts at the second G. Not after "\r\n" or a
  //           blank line: there GPT-2's `\s+(?!\S)` splits the run of whitespace differently
  //           when it ends the text.
  //   "L L"   a space between two ASCII letters: the word ends, " L…" starts the next piece.
  Words,
};

// The rule for "char", "byte", "bpe" or "gpt2".
CutRule cut_rule_for(const std::string& tokenizer);

// Whether `rule` allows cutting `text` before text[p]. It reads text[p-2 .. p+1] only, so
// `text` may be any stretch of the input around p that holds those bytes (or ends where the
// input ends); p < 2 is never a cut.
bool can_cut(CutRule rule, std::string_view text, size_t p);

// A piece of the input: its bytes and where they start in the whole text.
struct TextChunk {
  uint64_t offset = 0;
  std::string text;
};

// Reads a TextSource front to back and hands out chunks: each the longest stretch of at most
// `chunk_bytes` that ends at a cut, or the rest of the input. Where no cut falls within
// `chunk_bytes` (a long line with no space between letters, for bpe and gpt2), the chunk grows
// by `chunk_bytes` at a time until one does: memory stays bounded by the longest such stretch,
// never by the input.
class ChunkReader {
 public:
  ChunkReader(const TextSource& source, CutRule rule, size_t chunk_bytes);
  // The next chunk (never empty); false once the input is used up.
  bool next(TextChunk& chunk);
  uint64_t bytes_read() const { return offset_; }  // bytes handed out in chunks so far

 private:
  // Reads until the buffer holds at least n bytes or the input ends.
  void fill(size_t n);

  TextSource::Reader reader_;
  CutRule rule_;
  size_t chunk_bytes_;
  std::string buffer_;  // read but not yet handed out
  bool at_end_ = false;
  uint64_t offset_ = 0;
};

}  // namespace nf
