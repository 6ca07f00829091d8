// WordNet 3.0's data files -> plain English text; the layout is described in data/corpus_wordnet.h.
#include "data/corpus_wordnet.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <string_view>

#include "io/file.h"
#include "tensor/one_line.h"

namespace nf {
namespace {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

size_t count_quotes(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '"')); }

bool all_of_class(std::string_view s, size_t n, int (*is_class)(int)) {
  if (s.size() != n) return false;
  for (char c : s)
    if (!is_class(static_cast<unsigned char>(c))) return false;
  return true;
}
bool digits(std::string_view s, size_t n) { return all_of_class(s, n, [](int c) { return std::isdigit(c); }); }
bool hex_digits(std::string_view s, size_t n) { return all_of_class(s, n, [](int c) { return std::isxdigit(c); }); }

// wninput(5WN)'s pointer symbols, every one WordNet 3.0's data files use.
bool is_pointer_symbol(std::string_view s) {
  static const char* const kSymbols[] = {"!",  "@",  "@i", "~",  "~i", "#m", "#s", "#p", "%m", "%s", "%p", "=", "+",
                                         ";c", "-c", ";r", "-r", ";u", "-u", "*",  ">",  "^",  "$",  "&",  "<",  "\\"};
  for (const char* k : kSymbols)
    if (s == k) return true;
  return false;
}

// The synset types a file may hold: data.adj has head adjectives (a) and satellites (s).
std::string types_of(const std::string& pos) {
  if (pos == "noun") return "n";
  if (pos == "verb") return "v";
  if (pos == "adj") return "as";
  if (pos == "adv") return "r";
  throw std::invalid_argument("WordNet: unknown part of speech '" + one_line(pos) + "' (noun, verb, adj or adv)");
}

// One synset line; every complaint is thrown as "<where>: <what>", where = "<file>:<line>".
class LineParser {
 public:
  LineParser(std::string_view line, const std::string& pos, std::string where)
      : line_(line), pos_(pos), where_(std::move(where)) {}

  WordNetSynset parse() {
    const size_t bar = line_.find(" | ");
    if (bar == std::string_view::npos) fail("no ' | ' before a gloss (a synset line ends with \" | <gloss>\")");
    split_fields(line_.substr(0, bar));

    WordNetSynset s;
    s.offset = number("", "synset_offset", 8, kDecimal);
    number("", "lex_filenum", 2, kDecimal);
    const std::string ss_type = next("ss_type");
    const std::string allowed = types_of(pos_);
    if (ss_type.size() != 1 || allowed.find(ss_type[0]) == std::string::npos)
      fail("ss_type '" + quoted(ss_type) + "' does not belong in data." + pos_ + " (expected " +
           (allowed.size() == 1 ? allowed : "a or s") + ")");
    s.ss_type = ss_type[0];

    const int words = std::stoi(number("", "w_cnt", 2, kHex), nullptr, 16);
    if (words == 0) fail("w_cnt is 00: a synset has at least one word");
    for (int i = 1; i <= words; ++i) {
      const std::string n = std::to_string(i) + " of " + std::to_string(words);
      s.words.push_back(word(next("word " + n)));
      number("word " + n, "lex_id", 1, kHex);
    }

    const int pointers = std::stoi(number("", "p_cnt", 3, kDecimal));
    for (int i = 1; i <= pointers; ++i) {
      const std::string n = "pointer " + std::to_string(i) + " of " + std::to_string(pointers);
      const std::string symbol = next(n + " (symbol)");
      if (!is_pointer_symbol(symbol)) fail(n + ": '" + quoted(symbol) + "' is not a pointer symbol");
      number(n, "synset_offset", 8, kDecimal);
      const std::string target_pos = next(n + " (pos)");
      if (target_pos.size() != 1 || std::string("nvasr").find(target_pos[0]) == std::string::npos)
        fail(n + ": pos '" + quoted(target_pos) + "' is not n, v, a, s or r");
      number(n, "source/target", 4, kHex);
    }

    if (pos_ == "verb") {  // only data.verb lists generic sentence frames
      const int frames = std::stoi(number("", "f_cnt", 2, kDecimal));
      for (int i = 1; i <= frames; ++i) {
        const std::string n = "frame " + std::to_string(i) + " of " + std::to_string(frames);
        const std::string plus = next(n + " ('+')");
        if (plus != "+") fail(n + ": expected '+', found '" + quoted(plus) + "'");
        number(n, "f_num", 2, kDecimal);
        number(n, "w_num", 2, kHex);
      }
    }
    if (at_ < fields_.size())
      fail("'" + quoted(fields_[at_]) + "' where ' | ' and the gloss should follow (the counts promise no more fields)");

    const std::string gloss = trim(line_.substr(bar + 3));
    if (gloss.empty()) fail("empty gloss after ' | '");
    s.gloss = split_wordnet_gloss(gloss);
    return s;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw std::runtime_error(where_ + ": " + what); }
  static std::string quoted(const std::string& s) { return one_line(s, 40); }

  void split_fields(std::string_view head) {
    size_t i = 0;
    while (i < head.size()) {
      while (i < head.size() && head[i] == ' ') ++i;
      const size_t start = i;
      while (i < head.size() && head[i] != ' ') ++i;
      if (i > start) fields_.emplace_back(head.substr(start, i - start));
    }
  }

  std::string next(const std::string& what) {
    if (at_ >= fields_.size())
      fail("' | ' comes after " + std::to_string(fields_.size()) + " fields, where " + what + " should be");
    return fields_[at_++];
  }

  // The next field, a number of exactly `width` digits. `name` is the field's name in wninput(5WN);
  // `owner` ("pointer 2 of 3", or "" for the synset itself) says whose field it is in a complaint.
  enum Base { kDecimal, kHex };
  std::string number(const std::string& owner, const std::string& name, size_t width, Base base) {
    const std::string field = next(owner.empty() ? name : owner + " (" + name + ")");
    if (!(base == kHex ? hex_digits(field, width) : digits(field, width)))
      fail((owner.empty() ? "" : owner + ": ") + name + " '" + quoted(field) + "' is not " + std::to_string(width) +
           (base == kHex ? " hex digit" : " digit") + (width == 1 ? "" : "s"));
    return field;
  }

  // "Canis_familiaris" -> "Canis familiaris"; data.adj's "alone(p)" -> "alone".
  std::string word(std::string w) const {
    if (pos_ == "adj")
      for (const char* marker : {"(a)", "(p)", "(ip)"}) {
        const std::string m = marker;
        if (w.size() > m.size() && w.compare(w.size() - m.size(), m.size(), m) == 0) {
          w.resize(w.size() - m.size());
          break;
        }
      }
    std::replace(w.begin(), w.end(), '_', ' ');
    return w;
  }

  std::string_view line_;
  const std::string& pos_;
  const std::string where_;
  std::vector<std::string> fields_;
  size_t at_ = 0;
};

}  // namespace

WordNetGloss split_wordnet_gloss(const std::string& gloss) {
  // The parts between semicolons, trimmed; empty ones (";;", a trailing ";") hold nothing.
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    const size_t semi = gloss.find(';', start);
    std::string part = trim(std::string_view(gloss).substr(start, semi == std::string::npos ? std::string::npos : semi - start));
    if (!part.empty()) parts.push_back(std::move(part));
    if (semi == std::string::npos) break;
    start = semi + 1;
  }
  // A part whose quotes do not pair up was cut at a ";" inside an example ("he's not antisocial;
  // just shy"): it takes the following parts until its quotes pair up, but never one that starts
  // a new example (that is WordNet's missing closing quote, repaired below).
  std::vector<std::string> joined;
  for (size_t i = 0; i < parts.size();) {
    std::string part = parts[i++];
    while (count_quotes(part) % 2 == 1 && i < parts.size() && parts[i][0] != '"') part += "; " + parts[i++];
    joined.push_back(std::move(part));
  }
  WordNetGloss g;
  for (size_t i = 0; i < joined.size(); ++i) {
    std::string& part = joined[i];
    if (part[0] == '"') {
      // A lone quote before the opening one ("tensed;" "the rope ...") is a stray.
      const size_t second = part.find('"', 1);
      if (second != std::string::npos && part.find_first_not_of(' ', 1) == second) part.erase(0, second);
      if (count_quotes(part) % 2 == 1) part += '"';  // the closing quote WordNet left out
      g.examples.push_back(std::move(part));
    } else if (i > 0 && count_quotes(part) % 2 == 1 && part.back() == '"') {
      g.examples.push_back('"' + part);  // an example whose opening quote WordNet left out
    } else {
      g.definitions.push_back(std::move(part));
    }
  }
  return g;
}

const std::vector<std::string>& wordnet_parts_of_speech() {
  static const std::vector<std::string> parts = {"noun", "verb", "adj", "adv"};
  return parts;
}

std::vector<WordNetSynset> parse_wordnet_data(const std::string& text, const std::string& pos,
                                              const std::string& name) {
  types_of(pos);  // an unknown part of speech is the caller's mistake: say so before reading
  std::vector<WordNetSynset> synsets;
  bool in_header = true;
  for_each_line(text, [&](std::string_view line, size_t line_no) {
    const std::string where = name + ":" + std::to_string(line_no);
    if (line.compare(0, 2, "  ") == 0) {
      if (!in_header)
        throw std::runtime_error(where + ": a licence header line (two leading spaces) after the first synset");
      return;
    }
    in_header = false;
    if (line.empty()) throw std::runtime_error(where + ": empty line (every line after the header is a synset)");
    synsets.push_back(LineParser(line, pos, where).parse());
  });
  if (synsets.empty()) throw std::runtime_error(name + ": no synset lines (not a WordNet data file?)");
  return synsets;
}

std::string wordnet_text(std::vector<WordNetSynset> synsets) {
  auto key = [](const WordNetSynset& s) {
    std::string k = s.words.front();
    for (char& c : k) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return k;
  };
  std::vector<std::pair<std::string, size_t>> order;
  order.reserve(synsets.size());
  for (size_t i = 0; i < synsets.size(); ++i) order.emplace_back(key(synsets[i]), i);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string out;
  for (const auto& [k, i] : order) {
    const WordNetSynset& s = synsets[i];
    for (size_t w = 0; w < s.words.size(); ++w) out += (w ? ", " : "") + s.words[w];
    if (!s.gloss.definitions.empty()) {
      out += ": ";
      for (size_t d = 0; d < s.gloss.definitions.size(); ++d) out += (d ? "; " : "") + s.gloss.definitions[d];
    }
    if (out.back() != '.' && out.back() != '!' && out.back() != '?') out += '.';
    out += '\n';
    for (const std::string& e : s.gloss.examples) out += e + '\n';
  }
  return out;
}

WordNetCorpus wordnet_corpus(const std::string& dir) {
  std::vector<WordNetSynset> all;
  for (const std::string& pos : wordnet_parts_of_speech()) {
    const std::string path = (std::filesystem::path(dir) / ("data." + pos)).string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec))
      throw std::runtime_error(path + ": no such file (WordNet 3.0's database: Debian package wordnet-base, " +
                               "installed by scripts/install-deps.sh, or give its folder with --dir)");
    std::vector<WordNetSynset> part = parse_wordnet_data(read_file(path), pos, path);
    all.insert(all.end(), std::make_move_iterator(part.begin()), std::make_move_iterator(part.end()));
  }
  WordNetCorpus c;
  c.synsets = all.size();
  for (const WordNetSynset& s : all) c.examples += s.gloss.examples.size();
  c.lines = c.synsets + c.examples;
  c.text = wordnet_text(std::move(all));
  return c;
}

}  // namespace nf
