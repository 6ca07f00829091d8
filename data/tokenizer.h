#pragma once
// Tokenizers: text <-> token ids, and their meta.json form (docs/formats.md, "meta.json").
//
// Four kinds, chosen by `prepare --tokenizer`:
//   char  the sorted distinct Unicode code points of the corpus (nanoGPT's shakespeare_char);
//         meta {"tokenizer":"char","vocab_size":N,"chars":"…"} with chars in id order.
//   byte  the 256 byte values; meta {"tokenizer":"byte","vocab_size":256}.
//   bpe   byte-level BPE (GPT-2 style): ids 0..255 are bytes, id 256+i is merge i;
//         meta {"tokenizer":"bpe","vocab_size":N,"merges":[[a,b],...]} in merge order.
//   gpt2  GPT-2's own vocabulary and merges, read from its encoder.json and vocab.bpe
//         (data/gpt2_tokenizer.h); meta {"tokenizer":"gpt2","vocab_size":N,"tokens":[...],
//         "merges":["left right",...]} holds both files' contents.
// Every command that reads a data directory rebuilds its tokenizer with load_tokenizer().
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace nf {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // Strict: throws std::runtime_error on text the vocabulary cannot represent (char only), one
  // line naming the first such character (code point and glyph) and its byte offset.
  virtual std::vector<int> encode(const std::string& text) const = 0;
  // Never throws on text: characters outside the vocabulary become a fallback id (char only;
  // byte, bpe and gpt2 cover every byte string, so this equals encode()).
  virtual std::vector<int> encode_lossy(const std::string& text) const { return encode(text); }
  // Throws std::out_of_range on an id outside [0, vocab_size).
  virtual std::string decode(const std::vector<int>& ids) const = 0;

  virtual int vocab_size() const = 0;
  virtual std::string name() const = 0;  // "char", "byte", "bpe" or "gpt2", as in meta.json
  // The meta.json object; ordered_json keeps the documented key order in the file.
  virtual nlohmann::ordered_json to_meta_json() const = 0;
};

// ---- char ------------------------------------------------------------------------------------
class CharTokenizer : public Tokenizer {
 public:
  // `chars` in id order; must be distinct valid code points.
  explicit CharTokenizer(std::vector<char32_t> chars);
  // The vocabulary of a corpus: its distinct code points, sorted (as Python's sorted(set(text))).
  // Throws if the text is not valid UTF-8 (suggesting --tokenizer byte).
  static CharTokenizer from_text(const std::string& text);

  std::vector<int> encode(const std::string& text) const override;
  // Unseen characters map to fallback_id(): the id of ' ' if the vocabulary has one, else 0.
  // Invalid UTF-8 bytes count as unseen characters (one fallback per bad byte).
  std::vector<int> encode_lossy(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  int vocab_size() const override { return static_cast<int>(chars_.size()); }
  std::string name() const override { return "char"; }
  nlohmann::ordered_json to_meta_json() const override;

  int fallback_id() const { return fallback_id_; }
  const std::vector<char32_t>& chars() const { return chars_; }

 private:
  int id_of(char32_t c) const;  // -1 when unseen
  template <bool kLossy>
  std::vector<int> encode_impl(const std::string& text) const;

  std::vector<char32_t> chars_;
  std::vector<std::string> utf8_;            // id -> UTF-8 bytes, for decode
  int ascii_[128];                           // fast path: ASCII code point -> id or -1
  std::unordered_map<char32_t, int> other_;  // every other code point -> id
  int fallback_id_ = 0;
};

// ---- byte ------------------------------------------------------------------------------------
class ByteTokenizer : public Tokenizer {
 public:
  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  int vocab_size() const override { return 256; }
  std::string name() const override { return "byte"; }
  nlohmann::ordered_json to_meta_json() const override;
};

// ---- bpe -------------------------------------------------------------------------------------
// Bounds on what a meta.json may describe, so a small file cannot ask for unbounded work:
// token files hold uint16 ids (65,536 tokens, 256 of them bytes), and no learned token is
// longer than this many bytes.
constexpr size_t kMaxBpeMerges = 65536 - 256;
constexpr size_t kMaxBpeTokenBytes = 1024;

class BpeTokenizer : public Tokenizer {
 public:
  // merges[i] = (a, b) creates token 256+i; a and b must be < 256+i. At most kMaxBpeMerges
  // merges, no token longer than kMaxBpeTokenBytes (both checked: throws).
  explicit BpeTokenizer(std::vector<std::pair<int, int>> merges);

  // Splits into chunks (split_bpe_chunks) and applies merges inside each chunk, lowest rank
  // first, each rank left to right — reproducing exactly how training segmented the corpus.
  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  int vocab_size() const override { return 256 + static_cast<int>(merges_.size()); }
  std::string name() const override { return "bpe"; }
  nlohmann::ordered_json to_meta_json() const override;

  const std::vector<std::pair<int, int>>& merges() const { return merges_; }
  // Applies the merges to one chunk's bytes (appending to `out`).
  void encode_chunk(std::string_view chunk, std::vector<int>& out) const;

 private:
  std::vector<std::pair<int, int>> merges_;
  std::unordered_map<uint64_t, int> rank_;  // (a << 32 | b) -> merge index
  std::vector<std::string> bytes_;          // id -> the bytes it stands for
};

// GPT-2-like pre-tokenization, so no merge crosses a chunk boundary. On bytes, left to right:
//   contractions 's 't 're 've 'm 'll 'd;
//   ` ?` + a run of letters (ASCII letters and every byte >= 0x80, so UTF-8 text stays whole);
//   ` ?` + a run of digits;  ` ?` + a run of other non-space bytes (punctuation);
//   a run of whitespace — minus its last byte when that is ' ' followed by a non-space, which
//   then leads the next chunk (GPT-2's \s+(?!\S)).
// The chunks are views into `text` (keep it alive) and concatenate back to it exactly.
std::vector<std::string_view> split_bpe_chunks(std::string_view text);

// Trains byte-level BPE up to `vocab_size` ids (>= 256): starting from the 256 bytes, it
// repeatedly merges the most frequent adjacent pair within chunks; ties go to the lowest pair
// (smallest first id, then second). Pair counts are kept incrementally over the unique chunks
// weighted by frequency, so a merge costs only the chunks that contain it. Stops early (with a
// smaller vocabulary) when no pair is left.
BpeTokenizer train_bpe(const std::string& text, int vocab_size);

// ---- construction and loading ----------------------------------------------------------------
// Builds the tokenizer `prepare` asks for from the corpus. vocab_size: 0 = the kind's default
// (char: the corpus's; byte: 256; bpe: 1024; gpt2: its files'); otherwise char, byte and gpt2
// must match it exactly. vocab_dir: gpt2's directory of encoder.json and vocab.bpe (required
// for gpt2, refused for the others).
std::unique_ptr<Tokenizer> build_tokenizer(const std::string& kind, const std::string& text,
                                           int vocab_size, const std::string& vocab_dir = "");

// From a parsed meta.json (validates vocab_size against the contents).
std::unique_ptr<Tokenizer> load_tokenizer_from_json(const nlohmann::json& meta);
// From a meta.json file; errors are one line naming the file.
std::unique_ptr<Tokenizer> load_tokenizer(const std::string& meta_json_path);

}  // namespace nf
