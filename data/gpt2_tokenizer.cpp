#include "data/gpt2_tokenizer.h"

#include <filesystem>
#include <queue>
#include <stdexcept>

#include "data/gpt2_pretokenize.h"
#include "data/utf8.h"
#include "io/file.h"
#include "tensor/one_line.h"

namespace nf {

namespace {

// bytes_to_unicode() of GPT-2's encoder.py: the printable Latin-1 bytes stand for themselves,
// the rest are numbered on from U+0100 in byte order. Computed, as GPT-2 computes it.
struct ByteAlphabet {
  std::array<char32_t, 256> char_of{};
  std::vector<int> byte_of;  // indexed by character; every stand-in is below U+0200
  ByteAlphabet() : byte_of(0x200, -1) {
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      char_of[b] = printable ? static_cast<char32_t>(b) : next++;
      byte_of[char_of[b]] = b;
    }
  }
};
const ByteAlphabet& alphabet() {
  static const ByteAlphabet a;
  return a;
}

// The bytes a token spelling stands for; false if it holds a character that stands for none
// (or is not UTF-8).
bool bytes_of_spelling(const std::string& s, std::string& bytes) {
  bytes.clear();
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp;
    const int b = next_code_point(s, pos, cp) ? gpt2_char_byte(cp) : -1;
    if (b < 0) return false;
    bytes += static_cast<char>(b);
  }
  return true;
}

// An integer JSON value in [0, n) as an index, or -1 (read as 64-bit: never wrapped).
int64_t as_index(const nlohmann::json& v, size_t n) {
  if (!v.is_number_integer()) return -1;
  if (v.is_number_unsigned()) return v.get<uint64_t>() < n ? static_cast<int64_t>(v.get<uint64_t>()) : -1;
  const int64_t i = v.get<int64_t>();
  return i >= 0 && static_cast<uint64_t>(i) < n ? i : -1;
}

inline uint64_t pair_key(int a, int b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

// A token's spelling quoted for an error message: short, and on one line.
std::string spelled(const std::string& s) { return "\"" + one_line(s, 60) + "\""; }

}  // namespace

char32_t gpt2_byte_char(unsigned char b) { return alphabet().char_of[b]; }

int gpt2_char_byte(char32_t c) {
  const auto& m = alphabet().byte_of;
  return c < m.size() ? m[c] : -1;
}

// ---- construction ----------------------------------------------------------------------------
Gpt2Tokenizer::Gpt2Tokenizer(const std::vector<std::string>& tokens,
                             const std::vector<std::pair<std::string, std::string>>& merges) {
  set_tokens(tokens);
  set_merges(merges, [](size_t i) { return "merge " + std::to_string(i); });
}

void Gpt2Tokenizer::set_tokens(const std::vector<std::string>& tokens) {
  if (tokens.size() > kMaxGpt2Tokens)
    throw std::runtime_error(std::to_string(tokens.size()) + " tokens, more than the " +
                             std::to_string(kMaxGpt2Tokens) + " that uint16 token ids can number");
  bytes_.clear();
  id_of_.clear();
  bytes_.reserve(tokens.size());
  id_of_.reserve(tokens.size());
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& s = tokens[id];
    auto what = [&] { return "token " + std::to_string(id) + " " + spelled(s); };  // only on error
    if (s.empty()) throw std::runtime_error("token " + std::to_string(id) + " is the empty string");
    std::string bytes;
    if (!bytes_of_spelling(s, bytes))
      throw std::runtime_error(what() + " holds a character that stands for no byte in GPT-2's byte alphabet");
    if (!id_of_.emplace(bytes, static_cast<int>(id)).second)
      throw std::runtime_error(what() + " repeats token " + std::to_string(id_of_[bytes]));
    bytes_.push_back(std::move(bytes));
  }
  for (int b = 0; b < 256; ++b) {
    auto it = id_of_.find(std::string(1, static_cast<char>(b)));
    if (it == id_of_.end())
      throw std::runtime_error("no token stands for the single byte " + std::to_string(b) + " (spelled " +
                               spelled(to_utf8(gpt2_byte_char(static_cast<unsigned char>(b)))) +
                               "), so some texts could not be encoded");
    byte_id_[b] = it->second;
  }
}

int Gpt2Tokenizer::id_of_spelling(const std::string& s, std::string& scratch) const {
  if (!bytes_of_spelling(s, scratch)) return -2;
  auto it = id_of_.find(scratch);
  return it == id_of_.end() ? -1 : it->second;
}

void Gpt2Tokenizer::set_merges(const std::vector<std::pair<std::string, std::string>>& merges,
                               const std::function<std::string(size_t)>& where) {
  merge_of_.clear();
  merges_.clear();
  merge_of_.reserve(merges.size());
  merges_.reserve(merges.size());
  // Names merge r in a message; built only on error (50,000 merges load in a blink otherwise).
  auto what = [&](size_t r) { return where(r) + " " + spelled(merges[r].first + " " + merges[r].second); };
  std::string scratch;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const int a = id_of_spelling(left, scratch), b = id_of_spelling(right, scratch);
    if (a < 0 || b < 0) {
      const bool stray = (a < 0 ? a : b) == -2;
      throw std::runtime_error(what(rank) + ": " + spelled(a < 0 ? left : right) +
                               (stray ? " holds a character that stands for no byte in GPT-2's byte alphabet"
                                      : " is not a token"));
    }
    scratch = bytes_[a];
    scratch += bytes_[b];
    auto joined = id_of_.find(scratch);
    if (joined == id_of_.end())
      throw std::runtime_error(what(rank) + ": the token it makes, " + spelled(left + right) + ", is not a token");
    auto [it, fresh] = merge_of_.emplace(pair_key(a, b), Merge{static_cast<int>(rank), joined->second});
    if (!fresh) throw std::runtime_error(what(rank) + " repeats " + where(static_cast<size_t>(it->second.rank)));
    merges_.emplace_back(a, b);
  }
}

Gpt2Tokenizer Gpt2Tokenizer::from_vocab_dir(const std::string& dir) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw std::runtime_error(dir + ": not a directory (--vocab-dir names the directory holding GPT-2's "
                             "encoder.json and vocab.bpe)");
  const std::string encoder_path = (fs::path(dir) / "encoder.json").string();
  const std::string vocab_path = (fs::path(dir) / "vocab.bpe").string();
  Gpt2Tokenizer tok;

  // encoder.json: {"token": id, …}, the ids numbering the tokens 0..N-1.
  std::vector<std::string> tokens;
  try {
    nlohmann::json enc;
    try {
      enc = nlohmann::json::parse(read_file(encoder_path));
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error(std::string("not valid JSON: ") + e.what());
    }
    if (!enc.is_object()) throw std::runtime_error("not a JSON object of token -> id");
    if (enc.size() > kMaxGpt2Tokens)
      throw std::runtime_error(std::to_string(enc.size()) + " tokens, more than the " +
                               std::to_string(kMaxGpt2Tokens) + " that uint16 token ids can number");
    tokens.resize(enc.size());
    std::vector<char> seen(enc.size(), 0);
    for (const auto& [token, id] : enc.items()) {
      const int64_t v = as_index(id, enc.size());
      if (v < 0)
        throw std::runtime_error("token " + spelled(token) + " has id " + one_line(id.dump(), 40) +
                                 ", not an integer in [0, " + std::to_string(enc.size()) +
                                 ") (the ids must number the tokens from 0)");
      if (seen[v])
        throw std::runtime_error("tokens " + spelled(tokens[v]) + " and " + spelled(token) + " share id " +
                                 std::to_string(v));
      seen[v] = 1;
      tokens[v] = token;
    }
    tok.set_tokens(tokens);
  } catch (const std::exception& e) {
    throw std::runtime_error(encoder_path + ": " + e.what());
  }

  // vocab.bpe: "#version: 0.2", then "left right" per line, by rank.
  std::vector<std::pair<std::string, std::string>> merges;
  std::vector<size_t> line_of;  // merge index -> line number, for error messages
  const std::string vocab_text = read_file(vocab_path);
  for_each_line(vocab_text, [&](std::string_view line, size_t line_no) {
    if (line.empty() || (line_no == 1 && line[0] == '#')) return;
    const size_t space = line.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == line.size() ||
        line.find(' ', space + 1) != std::string_view::npos)
      throw std::runtime_error(vocab_path + ": line " + std::to_string(line_no) + " " + spelled(std::string(line)) +
                               " is not two tokens separated by one space");
    merges.emplace_back(std::string(line.substr(0, space)), std::string(line.substr(space + 1)));
    line_of.push_back(line_no);
  });
  try {
    tok.set_merges(merges, [&](size_t i) { return "line " + std::to_string(line_of[i]); });
  } catch (const std::exception& e) {
    throw std::runtime_error(vocab_path + ": " + e.what());
  }
  return tok;
}

Gpt2Tokenizer Gpt2Tokenizer::from_meta_json(const nlohmann::json& meta) {
  if (!meta.contains("tokens") || !meta["tokens"].is_array())
    throw std::runtime_error("gpt2 meta.json has no \"tokens\" array");
  if (!meta.contains("merges") || !meta["merges"].is_array())
    throw std::runtime_error("gpt2 meta.json has no \"merges\" array");
  const auto& jt = meta["tokens"];
  if (jt.size() > kMaxGpt2Tokens)
    throw std::runtime_error("gpt2 meta.json has " + std::to_string(jt.size()) + " tokens, more than the " +
                             std::to_string(kMaxGpt2Tokens) + " that uint16 token ids can number");
  std::vector<std::string> tokens;
  tokens.reserve(jt.size());
  for (const auto& t : jt) {
    if (!t.is_string())
      throw std::runtime_error("gpt2 token " + std::to_string(tokens.size()) + " is not a string: " +
                               one_line(t.dump(), 60));
    tokens.push_back(t.get<std::string>());
  }
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(meta["merges"].size());
  for (const auto& m : meta["merges"]) {
    const std::string where = "gpt2 merge " + std::to_string(merges.size());
    if (!m.is_string()) throw std::runtime_error(where + " is not a string: " + one_line(m.dump(), 60));
    const std::string s = m.get<std::string>();
    const size_t space = s.find(' ');
    if (space == 0 || space == std::string_view::npos || space + 1 == s.size() ||
        s.find(' ', space + 1) != std::string::npos)
      throw std::runtime_error(where + " " + spelled(s) + " is not two tokens separated by one space");
    merges.emplace_back(s.substr(0, space), s.substr(space + 1));
  }
  Gpt2Tokenizer tok;
  try {
    tok.set_tokens(tokens);
  } catch (const std::exception& e) {
    throw std::runtime_error(std::string("gpt2 vocabulary: ") + e.what());
  }
  tok.set_merges(merges, [](size_t i) { return "gpt2 merge " + std::to_string(i); });
  return tok;
}

// ---- encoding --------------------------------------------------------------------------------
void Gpt2Tokenizer::encode_piece(std::string_view piece, std::vector<int>& out) const {
  const int n = static_cast<int>(piece.size());
  if (n == 0) return;
  // The symbols as a doubly linked list over the piece's bytes, and a min-heap of candidate
  // merges keyed (rank, left position), some of them stale (checked when popped).
  std::vector<int> tok(n), prev(n), next(n);
  std::vector<char> alive(n, 1);
  for (int i = 0; i < n; ++i) {
    tok[i] = byte_id_[static_cast<unsigned char>(piece[i])];
    prev[i] = i - 1;
    next[i] = i + 1 < n ? i + 1 : -1;
  }
  if (n == 1) {
    out.push_back(tok[0]);
    return;
  }
  auto merge_at = [&](int left) -> const Merge* {
    if (!alive[left] || next[left] < 0) return nullptr;
    auto it = merge_of_.find(pair_key(tok[left], tok[next[left]]));
    return it == merge_of_.end() ? nullptr : &it->second;
  };
  using Cand = std::pair<int, int>;  // (rank, left position)
  std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
  auto push = [&](int left) {
    if (left < 0) return;
    if (const Merge* m = merge_at(left)) heap.push({m->rank, left});
  };
  for (int i = 0; i + 1 < n; ++i) push(i);

  std::vector<int> batch;
  while (!heap.empty()) {
    const auto [rank, first] = heap.top();
    const Merge* m = merge_at(first);
    if (!m || m->rank != rank) {
      heap.pop();  // stale: a neighbour changed since it was pushed
      continue;
    }
    // GPT-2 merges the lowest-ranked pair at all its places before it looks for the next pair.
    // A pair this creates may rank lower still (a vocabulary can make one token by two
    // merges), so take every place of this rank out of the heap first — they come left to
    // right — and only then let the new pairs compete. No new pair has this rank: it holds the
    // new token, which is longer than either half.
    batch.clear();
    while (!heap.empty() && heap.top().first == rank) {
      batch.push_back(heap.top().second);
      heap.pop();
    }
    for (int left : batch) {
      const Merge* here = merge_at(left);
      if (!here || here->rank != rank) continue;  // stale, or overlapped by the merge just left of it
      const int right = next[left];
      tok[left] = here->result;
      alive[right] = 0;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      push(prev[left]);
      push(left);
    }
  }
  for (int i = 0; i >= 0; i = next[i]) out.push_back(tok[i]);
}

std::vector<int> Gpt2Tokenizer::encode(const std::string& text) const {
  std::vector<int> ids;
  ids.reserve(text.size() / 3);
  std::unordered_map<std::string_view, std::vector<int>> cache;
  std::vector<int> tmp;
  for (size_t pos = 0; pos < text.size();) {
    const size_t end = gpt2_piece_end(text, pos);
    const std::string_view piece(text.data() + pos, end - pos);
    pos = end;
    auto it = cache.find(piece);
    if (it == cache.end()) {
      tmp.clear();
      encode_piece(piece, tmp);
      it = cache.emplace(piece, tmp).first;
    }
    ids.insert(ids.end(), it->second.begin(), it->second.end());
  }
  return ids;
}

std::string Gpt2Tokenizer::decode(const std::vector<int>& ids) const {
  std::string out;
  out.reserve(ids.size() * 4);
  for (int id : ids) {
    if (id < 0 || id >= vocab_size())
      throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                              std::to_string(vocab_size()) + ")");
    out += bytes_[id];
  }
  return out;
}

// ---- meta.json -------------------------------------------------------------------------------
std::string Gpt2Tokenizer::token_string(int id) const {
  std::string s;
  for (char c : bytes_.at(static_cast<size_t>(id))) s += to_utf8(gpt2_byte_char(static_cast<unsigned char>(c)));
  return s;
}

nlohmann::ordered_json Gpt2Tokenizer::to_meta_json() const {
  nlohmann::ordered_json tokens = nlohmann::ordered_json::array();
  for (int id = 0; id < vocab_size(); ++id) tokens.push_back(token_string(id));
  nlohmann::ordered_json merges = nlohmann::ordered_json::array();
  for (const auto& [a, b] : merges_) merges.push_back(token_string(a) + " " + token_string(b));
  nlohmann::ordered_json j;
  j["tokenizer"] = "gpt2";
  j["vocab_size"] = vocab_size();
  j["tokens"] = std::move(tokens);
  j["merges"] = std::move(merges);
  return j;
}

}  // namespace nf
