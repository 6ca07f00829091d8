#pragma once
// GPT-2's own tokenizer: byte-level BPE over GPT-2's vocabulary files, giving exactly GPT-2's
// token ids (docs/formats.md, "gpt2").
//
//   encoder.json  a JSON object: token string -> id, the ids numbering the tokens 0..N-1
//                 (GPT-2: 50,257 tokens);
//   vocab.bpe     a "#version" line, then one merge per line, "left right", by rank
//                 (GPT-2: 50,000 merges).
//
// Both files spell a token in GPT-2's printable stand-ins for bytes (bytes_to_unicode in GPT-2's
// encoder.py): a printable Latin-1 byte ('!'..'~', '¡'..'¬', '®'..'ÿ') stands for itself, and
// the k-th of the other 68 bytes, in byte order, is written U+0100 + k (so ' ' is 'Ġ' and '\n'
// is 'Ċ'). Every token string thus names a byte string.
//
// Encoding: the text is cut into pieces (gpt2_pretokenize.h); each piece starts as its single
// bytes, and the lowest-ranked adjacent pair present is merged at every place it occurs (left to
// right, without overlap), again and again until no ranked pair is left — GPT-2's bpe(). Text
// repeats its words, so each distinct piece is merged once per encode() call (GPT-2 caches the
// same way). Every byte string encodes, and decode() gives it back exactly.
#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/tokenizer.h"

namespace nf {

// The most tokens a vocabulary may have: token files store uint16 ids.
constexpr size_t kMaxGpt2Tokens = 65536;

// GPT-2's stand-in character for byte b, and the byte a character stands for (-1 if none).
char32_t gpt2_byte_char(unsigned char b);
int gpt2_char_byte(char32_t c);

class Gpt2Tokenizer : public Tokenizer {
 public:
  // tokens[i]: token i as encoder.json spells it; merges by rank, each a pair of token strings
  // as vocab.bpe spells them. Throws a one-line std::runtime_error unless: there are at most
  // kMaxGpt2Tokens tokens, distinct, each a non-empty string of stand-in characters; every byte
  // has its one-byte token; and each merge joins two tokens into a third, no pair twice.
  Gpt2Tokenizer(const std::vector<std::string>& tokens,
                const std::vector<std::pair<std::string, std::string>>& merges);

  // Reads DIR/encoder.json and DIR/vocab.bpe. Errors are one line naming the file (and for
  // vocab.bpe the line). vocab.bpe's first line is skipped when it starts with '#', as GPT-2
  // skips its "#version: 0.2"; blank lines and a final '\r' on a line are ignored.
  static Gpt2Tokenizer from_vocab_dir(const std::string& dir);
  // From a meta.json object with "tokens" (strings, in id order) and "merges" ("left right"
  // strings, by rank), as to_meta_json() writes them.
  static Gpt2Tokenizer from_meta_json(const nlohmann::json& meta);

  std::vector<int> encode(const std::string& text) const override;
  std::string decode(const std::vector<int>& ids) const override;
  int vocab_size() const override { return static_cast<int>(bytes_.size()); }
  std::string name() const override { return "gpt2"; }
  // {"tokenizer":"gpt2","vocab_size":N,"tokens":[…],"merges":["left right",…]}: the contents
  // of both files, so the data directory needs nothing outside itself.
  nlohmann::ordered_json to_meta_json() const override;

  // Appends the ids of one pre-tokenized piece (any bytes) to `out`.
  void encode_piece(std::string_view piece, std::vector<int>& out) const;
  // Token `id` as encoder.json spells it.
  std::string token_string(int id) const;

 private:
  Gpt2Tokenizer() = default;
  // The two halves of construction, so that from_vocab_dir can blame the right file.
  void set_tokens(const std::vector<std::string>& tokens);
  // `where(i)` names merge i in error messages ("merge 7", "line 9").
  void set_merges(const std::vector<std::pair<std::string, std::string>>& merges,
                  const std::function<std::string(size_t)>& where);
  // The id of the token spelled `s`: -1 if there is none, -2 if `s` holds a character that
  // stands for no byte. `scratch` is working space (left holding the bytes spelled).
  int id_of_spelling(const std::string& s, std::string& scratch) const;

  struct Merge {
    int rank;
    int result;
  };
  std::vector<std::string> bytes_;               // id -> the bytes it stands for
  std::unordered_map<std::string, int> id_of_;   // bytes -> id
  std::array<int, 256> byte_id_{};               // byte -> id of its one-byte token
  std::unordered_map<uint64_t, Merge> merge_of_;  // (left << 32 | right) -> rank and result
  std::vector<std::pair<int, int>> merges_;      // rank -> (left, right)
};

}  // namespace nf
