#include "data/tokenizer.h"

#include "data/gpt2_tokenizer.h"
#include "data/utf8.h"
#include "tensor/one_line.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <queue>
#include <set>
#include <sstream>
#include <stdexcept>

namespace nf {

namespace {

// "U+0041 'A'", "U+20AC '€'" for error messages: the glyph too unless it is a control
// character (C0, DEL, C1), which would garble the one-line message, or not a valid code point.
std::string describe_code_point(char32_t cp) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(cp));
  std::string s = buf;
  const bool control = cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
  const bool valid = cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
  if (!control && valid) s += " '" + to_utf8(cp) + "'";
  return s;
}

std::vector<char32_t> decode_utf8_strict(std::string_view s, const char* what) {
  std::vector<char32_t> out;
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t at = pos;
    char32_t cp;
    if (!next_code_point(s, pos, cp))
      throw std::runtime_error(std::string(what) + " is not valid UTF-8 (byte offset " +
                               std::to_string(at) + ")");
    out.push_back(cp);
  }
  return out;
}

void check_id(int id, int vocab) {
  if (id < 0 || id >= vocab)
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                            std::to_string(vocab) + ")");
}

inline uint64_t pair_key(int a, int b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

}  // namespace

// ---- char ------------------------------------------------------------------------------------
CharTokenizer::CharTokenizer(std::vector<char32_t> chars) : chars_(std::move(chars)) {
  // Unknown characters map to the fallback id, which must exist.
  if (chars_.empty()) throw std::runtime_error("char vocabulary is empty: it needs at least one character");
  std::fill(std::begin(ascii_), std::end(ascii_), -1);
  utf8_.reserve(chars_.size());
  for (size_t id = 0; id < chars_.size(); ++id) {
    const char32_t c = chars_[id];
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      throw std::runtime_error("char vocabulary holds an invalid code point " +
                               describe_code_point(c));
    if (id_of(c) >= 0)
      throw std::runtime_error("char vocabulary repeats " + describe_code_point(c));
    if (c < 128) ascii_[c] = static_cast<int>(id);
    else other_[c] = static_cast<int>(id);
    utf8_.push_back(to_utf8(c));
  }
  const int space = id_of(U' ');
  fallback_id_ = space >= 0 ? space : 0;
}

CharTokenizer CharTokenizer::from_text(const std::string& text) {
  // ASCII is the common case (4 MB of it for the default corpus): a flag table, not a set.
  bool seen_ascii[128] = {};
  std::set<char32_t> others;
  size_t pos = 0;
  while (pos < text.size()) {
    const auto b = static_cast<unsigned char>(text[pos]);
    if (b < 0x80) {
      seen_ascii[b] = true;
      ++pos;
      continue;
    }
    const size_t at = pos;
    char32_t cp;
    if (!next_code_point(text, pos, cp))
      throw std::runtime_error("the corpus is not valid UTF-8 (byte offset " + std::to_string(at) +
                               "); use --tokenizer byte or bpe");
    others.insert(cp);
  }
  std::vector<char32_t> chars;
  for (char32_t c = 0; c < 128; ++c)
    if (seen_ascii[c]) chars.push_back(c);
  chars.insert(chars.end(), others.begin(), others.end());  // all >= 128, already sorted
  return CharTokenizer(std::move(chars));
}

int CharTokenizer::id_of(char32_t c) const {
  if (c < 128) return ascii_[c];
  auto it = other_.find(c);
  return it == other_.end() ? -1 : it->second;
}

template <bool kLossy>
std::vector<int> CharTokenizer::encode_impl(const std::string& text) const {
  std::vector<int> ids;
  ids.reserve(text.size());
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t at = pos;
    char32_t cp;
    int id = -1;
    if (next_code_point(text, pos, cp)) {
      id = id_of(cp);
      if (id < 0 && !kLossy)
        throw std::runtime_error("character " + describe_code_point(cp) + " at byte offset " +
                                 std::to_string(at) + " is not in the char vocabulary (" +
                                 std::to_string(chars_.size()) + " characters)");
    } else if (!kLossy) {
      throw std::runtime_error("text is not valid UTF-8 (byte offset " + std::to_string(at) + ")");
    }
    ids.push_back(id >= 0 ? id : fallback_id_);
  }
  return ids;
}

std::vector<int> CharTokenizer::encode(const std::string& text) const {
  return encode_impl<false>(text);
}
std::vector<int> CharTokenizer::encode_lossy(const std::string& text) const {
  return encode_impl<true>(text);
}

std::string CharTokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int id : ids) {
    check_id(id, vocab_size());
    out += utf8_[id];
  }
  return out;
}

nlohmann::ordered_json CharTokenizer::to_meta_json() const {
  std::string all;
  for (const auto& s : utf8_) all += s;
  nlohmann::ordered_json j;
  j["tokenizer"] = "char";
  j["vocab_size"] = vocab_size();
  j["chars"] = all;
  return j;
}

// ---- byte ------------------------------------------------------------------------------------
std::vector<int> ByteTokenizer::encode(const std::string& text) const {
  std::vector<int> ids(text.size());
  for (size_t i = 0; i < text.size(); ++i) ids[i] = static_cast<unsigned char>(text[i]);
  return ids;
}

std::string ByteTokenizer::decode(const std::vector<int>& ids) const {
  std::string out(ids.size(), '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    check_id(ids[i], 256);
    out[i] = static_cast<char>(static_cast<unsigned char>(ids[i]));
  }
  return out;
}

nlohmann::ordered_json ByteTokenizer::to_meta_json() const {
  nlohmann::ordered_json j;
  j["tokenizer"] = "byte";
  j["vocab_size"] = 256;
  return j;
}

// ---- bpe: pre-tokenization -------------------------------------------------------------------
namespace {
enum class ByteClass { Space, Letter, Digit, Other };
inline ByteClass classify(unsigned char c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f')
    return ByteClass::Space;
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80) return ByteClass::Letter;
  if (c >= '0' && c <= '9') return ByteClass::Digit;
  return ByteClass::Other;
}
inline ByteClass class_at(std::string_view s, size_t i) {
  return classify(static_cast<unsigned char>(s[i]));
}

// Length of a GPT-2 contraction ('s 't 'm 'd 're 've 'll) starting at s[i] == '\'', else 0.
size_t contraction_length(std::string_view s, size_t i) {
  if (i + 1 >= s.size()) return 0;
  const char c1 = s[i + 1];
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  if (i + 2 < s.size()) {
    const char c2 = s[i + 2];
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  }
  return 0;
}
}  // namespace

std::vector<std::string_view> split_bpe_chunks(std::string_view s) {
  std::vector<std::string_view> chunks;
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (s[i] == '\'') {
      if (size_t len = contraction_length(s, i)) {
        chunks.push_back(s.substr(i, len));
        i += len;
        continue;
      }
    }
    size_t j = i;  // first byte of the run proper, after an optional leading space
    if (s[i] == ' ' && i + 1 < n && class_at(s, i + 1) != ByteClass::Space) j = i + 1;
    const ByteClass cls = class_at(s, j);
    size_t k = j + 1;
    while (k < n && class_at(s, k) == cls) ++k;
    if (cls == ByteClass::Space && k < n && k - i > 1 && s[k - 1] == ' ')
      --k;  // leave the last space to lead the next word, as GPT-2's \s+(?!\S) does
    chunks.push_back(s.substr(i, k - i));
    i = k;
  }
  return chunks;
}

// ---- bpe: tokenizer --------------------------------------------------------------------------
BpeTokenizer::BpeTokenizer(std::vector<std::pair<int, int>> merges) : merges_(std::move(merges)) {
  bytes_.reserve(256 + merges_.size());
  for (int b = 0; b < 256; ++b) bytes_.emplace_back(1, static_cast<char>(b));
  if (merges_.size() > kMaxBpeMerges)
    throw std::runtime_error("bpe has " + std::to_string(merges_.size()) + " merges, more than the " +
                             std::to_string(kMaxBpeMerges) + " that uint16 token ids can number");
  for (size_t i = 0; i < merges_.size(); ++i) {
    const auto [a, b] = merges_[i];
    const int limit = 256 + static_cast<int>(i);
    if (a < 0 || b < 0 || a >= limit || b >= limit)
      throw std::runtime_error("bpe merge " + std::to_string(i) + " [" + std::to_string(a) + "," +
                               std::to_string(b) + "] refers to a token not yet defined (< " +
                               std::to_string(limit) + " required)");
    // A repeated pair could never fire (its first occurrence always wins): reject it.
    if (!rank_.emplace(pair_key(a, b), static_cast<int>(i)).second)
      throw std::runtime_error("bpe merge " + std::to_string(i) + " repeats an earlier merge");
    // Each merge can double a token's length: forty merges of a token with itself would make
    // one token of a terabyte. Real vocabularies stay far below this bound.
    if (bytes_[a].size() + bytes_[b].size() > kMaxBpeTokenBytes)
      throw std::runtime_error("bpe merge " + std::to_string(i) + " makes a token of " +
                               std::to_string(bytes_[a].size() + bytes_[b].size()) + " bytes, more than " +
                               std::to_string(kMaxBpeTokenBytes));
    bytes_.push_back(bytes_[a] + bytes_[b]);
  }
}

void BpeTokenizer::encode_chunk(std::string_view chunk, std::vector<int>& out) const {
  const int n = static_cast<int>(chunk.size());
  if (n == 0) return;
  // Symbols as a doubly linked list over the chunk's bytes; a min-heap of candidate merges
  // keyed (rank, position). Every pair a rank-r merge creates contains token 256+r, so it has
  // a higher rank: popping (rank, position) therefore applies merges in rank order and each
  // rank left to right — the same segmentation training produced.
  std::vector<int> tok(n), prev(n), next(n);
  std::vector<char> alive(n, 1);
  for (int i = 0; i < n; ++i) {
    tok[i] = static_cast<unsigned char>(chunk[i]);
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  using Cand = std::pair<int, int>;  // (rank, left position)
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto rank_of = [&](int left) {
    const int right = next[left];
    if (right < 0) return -1;
    auto it = rank_.find(pair_key(tok[left], tok[right]));
    return it == rank_.end() ? -1 : it->second;
  };
  auto push = [&](int left) {
    if (left < 0) return;
    if (int r = rank_of(left); r >= 0) heap.push({r, left});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);
  while (!heap.empty()) {
    const auto [r, left] = heap.top();
    heap.pop();
    if (!alive[left] || rank_of(left) != r) continue;  // stale: a neighbour merged first
    const int right = next[left];
    tok[left] = 256 + r;
    alive[right] = 0;
    next[left] = next[right];
    if (next[right] >= 0) prev[next[right]] = left;
    push(prev[left]);
    push(left);
  }
  for (int i = 0; i >= 0; i = next[i]) out.push_back(tok[i]);
}

std::vector<int> BpeTokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  ids.reserve(text.size() / 2);
  // Natural text repeats its words constantly; memoising chunks makes encoding ~linear.
  std::unordered_map<std::string_view, std::vector<int>> cache;
  std::vector<int> tmp;
  for (std::string_view chunk : split_bpe_chunks(text)) {
    auto it = cache.find(chunk);
    if (it == cache.end()) {
      tmp.clear();
      encode_chunk(chunk, tmp);
      it = cache.emplace(chunk, tmp).first;
    }
    ids.insert(ids.end(), it->second.begin(), it->second.end());
  }
  return ids;
}

std::string BpeTokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  out.reserve(ids.size() * 3);
  for (int id : ids) {
    check_id(id, vocab_size());
    out += bytes_[id];
  }
  return out;
}

nlohmann::ordered_json BpeTokenizer::to_meta_json() const {
  nlohmann::ordered_json merges = nlohmann::ordered_json::array();
  for (const auto& [a, b] : merges_) merges.push_back({a, b});
  nlohmann::ordered_json j;
  j["tokenizer"] = "bpe";
  j["vocab_size"] = vocab_size();
  j["merges"] = std::move(merges);
  return j;
}

// ---- bpe: training ---------------------------------------------------------------------------
BpeTokenizer train_bpe(const std::string& text, int vocab_size) {
  if (vocab_size < 256)
    throw std::runtime_error("bpe vocab_size must be at least 256 (the byte tokens), got " +
                             std::to_string(vocab_size));
  const int n_merges = vocab_size - 256;

  // Unique chunks weighted by frequency: the 4 MB default corpus has ~1M chunks but only
  // ~30k distinct ones, and a merge applies identically to every copy.
  std::unordered_map<std::string_view, int64_t> chunk_count;
  for (std::string_view c : split_bpe_chunks(text)) ++chunk_count[c];
  struct Word {
    std::vector<int> syms;
    int64_t count;
  };
  std::vector<Word> words;
  words.reserve(chunk_count.size());
  for (const auto& [chunk, count] : chunk_count) {
    if (chunk.size() < 2) continue;  // no pairs: nothing to count or merge
    Word w{{}, count};
    for (char c : chunk) w.syms.push_back(static_cast<unsigned char>(c));
    words.push_back(std::move(w));
  }

  // pair -> weighted count; pair -> words that (may) contain it; a max-heap of (count, pair)
  // with lazy deletion: an entry is live only while its count equals pair_count's.
  std::unordered_map<uint64_t, int64_t> pair_count;
  std::unordered_map<uint64_t, std::vector<int>> where;
  auto note_word = [&](uint64_t key, int w) {
    auto& v = where[key];
    if (v.empty() || v.back() != w) v.push_back(w);
  };
  for (int w = 0; w < static_cast<int>(words.size()); ++w) {
    const auto& s = words[w].syms;
    for (size_t i = 0; i + 1 < s.size(); ++i) {
      const uint64_t key = pair_key(s[i], s[i + 1]);
      pair_count[key] += words[w].count;
      note_word(key, w);
    }
  }
  struct Entry {
    int64_t count;
    uint64_t key;
    // priority_queue pops the "largest": highest count, then the lowest (a, b).
    bool operator<(const Entry& o) const {
      return count != o.count ? count < o.count : key > o.key;
    }
  };
  std::priority_queue<Entry> heap;
  for (const auto& [key, count] : pair_count) heap.push({count, key});

  std::vector<std::pair<int, int>> merges;
  merges.reserve(n_merges);
  std::vector<size_t> token_len(256, 1);  // bytes per token id
  std::vector<int> visited(words.size(), -1);  // merge index that last rewrote each word
  std::unordered_map<uint64_t, int64_t> delta;
  std::vector<int> merged;
  while (static_cast<int>(merges.size()) < n_merges && !heap.empty()) {
    const Entry top = heap.top();
    heap.pop();
    auto pc = pair_count.find(top.key);
    if (pc == pair_count.end() || pc->second != top.count) continue;  // stale entry

    const int a = static_cast<int>(top.key >> 32), b = static_cast<int>(top.key & 0xFFFFFFFFu);
    // Never learn a token the loader would refuse (a corpus of very long repeated runs).
    if (token_len[a] + token_len[b] > kMaxBpeTokenBytes) continue;
    const int new_id = 256 + static_cast<int>(merges.size());
    merges.emplace_back(a, b);
    token_len.push_back(token_len[a] + token_len[b]);

    // Rewrite each word holding (a, b): subtract all its old pairs, merge left to right, add
    // the new pairs. Chunks are short, so re-counting a whole word is cheap and obviously right.
    delta.clear();
    std::vector<int> holders = std::move(where[top.key]);
    where.erase(top.key);
    for (int w : holders) {
      if (visited[w] == new_id) continue;
      visited[w] = new_id;
      auto& s = words[w].syms;
      const int64_t cnt = words[w].count;
      merged.clear();
      bool changed = false;
      for (size_t i = 0; i < s.size();) {
        if (i + 1 < s.size() && s[i] == a && s[i + 1] == b) {
          merged.push_back(new_id);
          i += 2;
          changed = true;
        } else {
          merged.push_back(s[i++]);
        }
      }
      if (!changed) continue;  // a stale index entry
      for (size_t i = 0; i + 1 < s.size(); ++i) delta[pair_key(s[i], s[i + 1])] -= cnt;
      for (size_t i = 0; i + 1 < merged.size(); ++i) {
        const uint64_t key = pair_key(merged[i], merged[i + 1]);
        delta[key] += cnt;
        // Pairs without new_id were adjacent before too, so the word is already listed.
        if (merged[i] == new_id || merged[i + 1] == new_id) note_word(key, w);
      }
      s.swap(merged);
    }
    for (const auto& [key, d] : delta) {
      if (d == 0) continue;
      int64_t& c = pair_count[key];
      c += d;
      if (c <= 0) {
        pair_count.erase(key);
        where.erase(key);
      } else {
        heap.push({c, key});
      }
    }
  }
  return BpeTokenizer(std::move(merges));
}

// ---- construction and loading ----------------------------------------------------------------
std::unique_ptr<Tokenizer> build_tokenizer(const std::string& kind, const std::string& text,
                                           int vocab_size, const std::string& vocab_dir) {
  if (vocab_size < 0) throw std::runtime_error("vocab size must not be negative");
  if (kind != "gpt2" && !vocab_dir.empty())
    throw std::runtime_error("--vocab-dir is for --tokenizer gpt2 only (the " + one_line(kind) +
                             " tokenizer is built from the corpus)");
  std::unique_ptr<Tokenizer> tok;
  if (kind == "char") {
    tok = std::make_unique<CharTokenizer>(CharTokenizer::from_text(text));
  } else if (kind == "byte") {
    tok = std::make_unique<ByteTokenizer>();
  } else if (kind == "bpe") {
    return std::make_unique<BpeTokenizer>(train_bpe(text, vocab_size == 0 ? 1024 : vocab_size));
  } else if (kind == "gpt2") {
    if (vocab_dir.empty())
      throw std::runtime_error("--tokenizer gpt2 needs --vocab-dir DIR, the directory holding GPT-2's "
                               "encoder.json and vocab.bpe");
    tok = std::make_unique<Gpt2Tokenizer>(Gpt2Tokenizer::from_vocab_dir(vocab_dir));
  } else {
    throw std::runtime_error("unknown tokenizer '" + one_line(kind) + "' (expected char, byte, bpe or gpt2)");
  }
  if (vocab_size != 0 && vocab_size != tok->vocab_size())
    throw std::runtime_error("--vocab-size " + std::to_string(vocab_size) + " does not fit the " +
                             kind + " tokenizer, whose vocabulary has " +
                             std::to_string(tok->vocab_size()) + " ids (omit --vocab-size)");
  return tok;
}

std::unique_ptr<Tokenizer> load_tokenizer_from_json(const nlohmann::json& meta) {
  if (!meta.is_object()) throw std::runtime_error("meta.json is not a JSON object");
  if (!meta.contains("tokenizer") || !meta["tokenizer"].is_string())
    throw std::runtime_error("meta.json has no \"tokenizer\" string");
  if (!meta.contains("vocab_size") || !meta["vocab_size"].is_number_integer())
    throw std::runtime_error("meta.json has no integer \"vocab_size\"");
  const std::string kind = meta["tokenizer"].get<std::string>();
  const int64_t declared = meta["vocab_size"].get<int64_t>();

  std::unique_ptr<Tokenizer> tok;
  if (kind == "char") {
    if (!meta.contains("chars") || !meta["chars"].is_string())
      throw std::runtime_error("char meta.json has no \"chars\" string");
    tok = std::make_unique<CharTokenizer>(
        decode_utf8_strict(meta["chars"].get<std::string>(), "\"chars\""));
  } else if (kind == "byte") {
    tok = std::make_unique<ByteTokenizer>();
  } else if (kind == "bpe") {
    if (!meta.contains("merges") || !meta["merges"].is_array())
      throw std::runtime_error("bpe meta.json has no \"merges\" array");
    std::vector<std::pair<int, int>> merges;
    if (meta["merges"].size() > kMaxBpeMerges)
      throw std::runtime_error("bpe meta.json has " + std::to_string(meta["merges"].size()) +
                               " merges, more than the " + std::to_string(kMaxBpeMerges) +
                               " that uint16 token ids can number");
    // Ids are read as 64-bit and range-checked: get<int>() would wrap 2^40 to a valid-looking id.
    auto id = [&](const nlohmann::json& v) {
      if (!v.is_number_integer()) return int64_t(-1);
      if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)) return int64_t(-1);
      return v.get<int64_t>();
    };
    for (const auto& m : meta["merges"]) {
      const int64_t limit = 256 + static_cast<int64_t>(merges.size());
      if (!m.is_array() || m.size() != 2 || id(m[0]) < 0 || id(m[1]) < 0)
        throw std::runtime_error("bpe merge " + std::to_string(merges.size()) +
                                 " is not a pair of non-negative integers: " + m.dump());
      if (id(m[0]) >= limit || id(m[1]) >= limit)
        throw std::runtime_error("bpe merge " + std::to_string(merges.size()) + " " + m.dump() +
                                 " refers to a token not yet defined (< " + std::to_string(limit) + " required)");
      merges.emplace_back(static_cast<int>(id(m[0])), static_cast<int>(id(m[1])));
    }
    tok = std::make_unique<BpeTokenizer>(std::move(merges));
  } else if (kind == "gpt2") {
    tok = std::make_unique<Gpt2Tokenizer>(Gpt2Tokenizer::from_meta_json(meta));
  } else {
    throw std::runtime_error("unknown tokenizer \"" + one_line(kind) + "\" (expected char, byte, bpe or gpt2)");
  }
  if (declared != tok->vocab_size())
    throw std::runtime_error("vocab_size " + std::to_string(declared) + " does not match the " +
                             kind + " vocabulary it describes (" +
                             std::to_string(tok->vocab_size()) + ")");
  return tok;
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& meta_json_path) {
  std::ifstream in(meta_json_path, std::ios::binary);
  if (!in) throw std::runtime_error(meta_json_path + ": cannot open tokenizer meta.json (missing?)");
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(meta_json_path + ": not valid JSON: " + e.what());
  }
  try {
    return load_tokenizer_from_json(meta);
  } catch (const std::exception& e) {
    throw std::runtime_error(meta_json_path + ": " + e.what());
  }
}

}  // namespace nf
