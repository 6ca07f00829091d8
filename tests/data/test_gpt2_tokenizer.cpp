// GPT-2's tokenizer (data/gpt2_tokenizer.h, data/gpt2_pretokenize.h): the byte alphabet of its
// files, the pre-tokenization pattern piece by piece, merge order, lossless round trips of any
// bytes, meta.json, and the one-line errors for bad vocabulary files — on small vocabularies in
// GPT-2's format written here. The suite "gpt2" then checks exact ids against GPT-2's own
// vocabulary (fetched by `scripts/install-deps.sh --gpt2-vocab`; skipped, visibly, without it).
#include <doctest/doctest.h>

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "data/gpt2_pretokenize.h"
#include "data/gpt2_tokenizer.h"
#include "data/tokenizer.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using namespace nf::test;

namespace {

using Merges = std::vector<std::pair<std::string, std::string>>;

std::vector<std::string> pieces(const std::string& text) {
  std::vector<std::string> out;
  for (std::string_view p : nf::gpt2_pretokenize(text)) out.emplace_back(p);
  return out;
}

// The bytes of each token a piece encodes to.
std::vector<std::string> symbols(const nf::Gpt2Tokenizer& tok, const std::string& piece) {
  std::vector<int> ids;
  tok.encode_piece(piece, ids);
  std::vector<std::string> out;
  for (int id : ids) out.push_back(tok.decode({id}));
  return out;
}

// GPT-2's bpe() as its encoder.py has it, on byte strings, kept plain: find the lowest-ranked
// pair present, merge it at every place from left to right, and start again, until no pair
// present has a rank.
std::vector<std::string> reference_bpe(const std::string& piece, const Merges& merges) {
  std::map<std::pair<std::string, std::string>, int> rank;
  for (size_t i = 0; i < merges.size(); ++i) rank.emplace(merges[i], static_cast<int>(i));
  std::vector<std::string> word;
  for (char c : piece) word.emplace_back(1, c);
  while (word.size() > 1) {
    int best = INT_MAX;
    std::pair<std::string, std::string> bigram;
    for (size_t i = 0; i + 1 < word.size(); ++i) {
      auto it = rank.find({word[i], word[i + 1]});
      if (it != rank.end() && it->second < best) {
        best = it->second;
        bigram = it->first;
      }
    }
    if (best == INT_MAX) break;
    std::vector<std::string> merged;
    for (size_t i = 0; i < word.size();) {
      if (i + 1 < word.size() && word[i] == bigram.first && word[i + 1] == bigram.second) {
        merged.push_back(word[i] + word[i + 1]);
        i += 2;
      } else {
        merged.push_back(word[i++]);
      }
    }
    word.swap(merged);
  }
  return word;
}

// A vocabulary where one token ("abc") is made by two merges, and a merge of it ("abc a") ranks
// below the later of the two: the order in which merges fire then decides the result.
const Merges kTwoPaths = {{"b", "c"}, {"abc", "a"}, {"a", "bc"}, {"a", "a"}, {"aa", "a"},
                          {"aa", "aa"}, {"ab", "c"}, {"a", "b"}, {"c", "a"}, {"ca", "b"},
                          {"b", "b"}, {"bb", "b"}, {"c", "ab"}};

nf::Gpt2Tokenizer small_tokenizer(const TempDir& tmp, const Merges& merges) {
  write_gpt2_vocab(tmp.path / "vocab", merges);
  return nf::Gpt2Tokenizer::from_vocab_dir(tmp.file("vocab"));
}

}  // namespace

TEST_SUITE("data") {
  TEST_CASE("gpt2 byte alphabet: printable Latin-1 bytes stand for themselves, the other 68 for U+0100 on") {
    CHECK(nf::gpt2_byte_char('A') == U'A');
    CHECK(nf::gpt2_byte_char(0xE9) == U'é');
    CHECK(nf::gpt2_byte_char(0) == U'\u0100');
    CHECK(nf::gpt2_byte_char(' ') == U'Ġ');   // the 33rd byte that is not printable
    CHECK(nf::gpt2_byte_char('\n') == U'Ċ');
    CHECK(nf::gpt2_byte_char(0xAD) == U'\u0143');  // the soft hyphen, the last of the 68
    for (int b = 0; b < 256; ++b) CHECK(nf::gpt2_char_byte(nf::gpt2_byte_char(static_cast<unsigned char>(b))) == b);
    CHECK(nf::gpt2_char_byte(U' ') == -1);  // a space is never a character of a token's spelling
    CHECK(nf::gpt2_char_byte(U'€') == -1);
  }

  TEST_CASE("gpt2 pre-tokenization: GPT-2's pattern, piece by piece") {
    // Each expectation is what Python `regex` findall gives with GPT-2's pattern.
    using P = std::vector<std::string>;
    CHECK(pieces("Hello world") == P{"Hello", " world"});
    // Contractions are lower case only; elsewhere an apostrophe is punctuation.
    CHECK(pieces("it's they'll we've I'm you'd she'd've don't") ==
          P{"it", "'s", " they", "'ll", " we", "'ve", " I", "'m", " you", "'d", " she", "'d", "'ve", " don", "'t"});
    CHECK(pieces("It'S") == P{"It", "'", "S"});
    CHECK(pieces(" 's ?'s") == P{" '", "s", " ?'", "s"});
    // A run of whitespace gives its last character to what follows: a space leads the next
    // word, any other whitespace character stands alone; at the end the run stays whole.
    CHECK(pieces("a  b") == P{"a", " ", " b"});
    CHECK(pieces("a\n\nb") == P{"a", "\n", "\n", "b"});
    CHECK(pieces("a \n b") == P{"a", " \n", " b"});
    CHECK(pieces("\t\tx") == P{"\t", "\t", "x"});
    CHECK(pieces("x   ") == P{"x", "   "});
    CHECK(pieces("a\u3000\u3000b") == P{"a", "\u3000", "\u3000", "b"});
    // Letters, numbers and the rest are Unicode's categories L and N.
    CHECK(pieces("3.14 1234567") == P{"3", ".", "14", " 1234567"});
    CHECK(pieces("café ßtraße") == P{"café", " ßtraße"});
    CHECK(pieces("中文 字") == P{"中文", " 字"});
    CHECK(pieces("😀😀 !") == P{"😀😀", " !"});
    CHECK(pieces("x\u0301") == P{"x", "\u0301"});  // a combining mark (Mn) is not a letter
    CHECK(pieces("x² Ⅻ") == P{"x", "²", " Ⅻ"});     // No and Nl are numbers
    // \s is Unicode's White_Space: U+00A0 and U+0085 are, the ASCII separators U+001C..U+001F are not.
    CHECK(pieces("a\u00a0b") == P{"a", "\u00a0", "b"});
    CHECK(pieces("a\u0085b") == P{"a", "\u0085", "b"});
    CHECK(pieces("a\x1c" "b") == P{"a", "\x1c", "b"});
    CHECK(pieces("a \x1c") == P{"a", " \x1c"});
  }

  TEST_CASE("gpt2 pre-tokenization: bytes that are not UTF-8 count as punctuation; the pieces rejoin the text") {
    using P = std::vector<std::string>;
    CHECK(pieces("ab\xff\xfe" "cd") == P{"ab", "\xff\xfe", "cd"});
    CHECK(pieces("x \xc3(") == P{"x", " \xc3(", });  // a truncated sequence, then '('
    CHECK(pieces("\xed\xa0\x80!") == P{"\xed\xa0\x80!"});  // an encoded surrogate: three stray bytes
    nf::Generator g(7);
    for (int round = 0; round < 200; ++round) {
      std::string text;
      const size_t n = g.next_u64() % 64;
      for (size_t i = 0; i < n; ++i) text += static_cast<char>(g.next_u64() % 256);
      std::string joined;
      for (std::string_view p : nf::gpt2_pretokenize(text)) {
        CHECK_FALSE(p.empty());
        joined += p;
      }
      CHECK(joined == text);
    }
  }

  TEST_CASE("gpt2 merges: the lowest-ranked pair present merges at all its places before any other") {
    TempDir tmp;
    const nf::Gpt2Tokenizer tok = small_tokenizer(tmp, kTwoPaths);
    using S = std::vector<std::string>;
    // "b c" (rank 0) everywhere, then "a bc" (rank 2) everywhere: "abc abc". Merging by place
    // instead would let "abc a" (rank 1) take the second a first and give "abca bc".
    CHECK(symbols(tok, "abcabc") == S{"abc", "abc"});
    CHECK(symbols(tok, "abcab") == S{"abca", "b"});
    // Without overlap, left to right: "a a" in "aaaaa" is "aa aa a", then "aa a" gives "aa aaa".
    CHECK(symbols(tok, "aaaaa") == S{"aa", "aaa"});
    CHECK(symbols(tok, "xyz") == S{"x", "y", "z"});
    CHECK(symbols(tok, "") == S{});
  }

  TEST_CASE("gpt2 merges agree with GPT-2's bpe() on random pieces") {
    TempDir tmp;
    const nf::Gpt2Tokenizer tok = small_tokenizer(tmp, kTwoPaths);
    nf::Generator g(11);
    for (int round = 0; round < 2000; ++round) {
      std::string piece;
      const size_t n = 1 + g.next_u64() % 24;
      for (size_t i = 0; i < n; ++i) piece += "abcx"[g.next_u64() % 4];
      CAPTURE(piece);
      CHECK(symbols(tok, piece) == reference_bpe(piece, kTwoPaths));
    }
  }

  TEST_CASE("gpt2 round trip: every byte string decodes back exactly, invalid UTF-8 included") {
    TempDir tmp;
    const nf::Gpt2Tokenizer tok = small_tokenizer(tmp, {{" ", "t"}, {"h", "e"}, {" t", "he"}, {"\xc3", "\xa9"}});
    CHECK(tok.vocab_size() == 260);
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    CHECK(tok.decode(tok.encode(all)) == all);
    CHECK(tok.encode(" the café") == std::vector<int>{258, 32, 99, 97, 102, 259});
    nf::Generator g(3);
    for (int round = 0; round < 300; ++round) {
      std::string text;
      const size_t n = g.next_u64() % 200;
      for (size_t i = 0; i < n; ++i) text += round % 2 ? static_cast<char>(g.next_u64() % 256) : " th\xc3\xa9\n"[g.next_u64() % 6];
      const std::vector<int> ids = tok.encode(text);
      for (int id : ids) CHECK((id >= 0 && id < tok.vocab_size()));
      CHECK(tok.decode(ids) == text);
    }
    CHECK_THROWS_AS(tok.decode({260}), std::out_of_range);
    CHECK_THROWS_AS(tok.decode({-1}), std::out_of_range);
  }

  TEST_CASE("gpt2 meta.json: both files' contents, spelled as GPT-2 spells them; loads back to the same tokenizer") {
    TempDir tmp;
    const nf::Gpt2Tokenizer tok = small_tokenizer(tmp, {{" ", "t"}, {"h", "e"}, {" t", "he"}});
    const nlohmann::ordered_json meta = tok.to_meta_json();
    std::vector<std::string> keys;
    for (const auto& item : meta.items()) keys.push_back(item.key());
    CHECK(keys == std::vector<std::string>{"tokenizer", "vocab_size", "tokens", "merges"});
    CHECK(meta["tokenizer"] == "gpt2");
    CHECK(meta["vocab_size"] == 259);
    CHECK(meta["tokens"].size() == 259);
    CHECK(meta["tokens"][32] == "Ġ");
    CHECK(meta["tokens"][258] == "Ġthe");
    CHECK(meta["merges"] == nlohmann::ordered_json{"Ġ t", "h e", "Ġt he"});

    write_bytes(tmp.file("meta.json"), meta.dump());
    const auto back = nf::load_tokenizer(tmp.file("meta.json"));
    CHECK(back->name() == "gpt2");
    CHECK(back->to_meta_json() == meta);
    const std::string text = "the theme: the  thethe\n\xff";
    CHECK(back->encode(text) == tok.encode(text));
    // The same lists handed to the constructor build the same tokenizer.
    const nf::Gpt2Tokenizer direct(meta["tokens"].get<std::vector<std::string>>(), {{"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"}});
    CHECK(direct.to_meta_json() == meta);
  }

  TEST_CASE("gpt2 vocabulary files: each malformation is a one-line error naming the file") {
    TempDir tmp;
    const fs::path dir = tmp.path / "vocab";
    const std::string enc = (dir / "encoder.json").string(), bpe = (dir / "vocab.bpe").string();
    auto error = [&] { return error_of([&] { nf::Gpt2Tokenizer::from_vocab_dir(dir.string()); }); };
    auto check_error = [&](const std::string& file, const std::string& part) {
      const std::string msg = error();
      CAPTURE(msg);
      CHECK(contains(msg, file));
      CHECK(contains(msg, part));
      CHECK(msg.find('\n') == std::string::npos);
    };
    check_error(dir.string(), "not a directory");
    write_gpt2_vocab(dir, {{"a", "b"}});
    CHECK(error().empty());
    const std::string good_enc = read_bytes(enc);

    fs::remove(enc);
    check_error(enc, "cannot open");
    write_bytes(enc, "{\"a\": 0,");
    check_error(enc, "not valid JSON");
    write_bytes(enc, "[1, 2]");
    check_error(enc, "not a JSON object");
    nlohmann::json j = nlohmann::json::parse(good_enc);
    j["ab"] = 300;
    write_bytes(enc, j.dump());
    check_error(enc, "not an integer in [0, 257)");
    j["ab"] = 5;
    write_bytes(enc, j.dump());
    check_error(enc, "share id 5");
    j["ab"] = "256";
    write_bytes(enc, j.dump());
    check_error(enc, "not an integer");
    j = nlohmann::json::parse(good_enc);
    j.erase("ab");
    j["a b"] = 256;  // a real space is no character of GPT-2's alphabet (it is spelled Ġ)
    write_bytes(enc, j.dump());
    check_error(enc, "stands for no byte");
    j = nlohmann::json::parse(good_enc);
    j.erase("Ċ");  // the newline's token
    j["ab"] = 10;
    write_bytes(enc, j.dump());
    check_error(enc, "no token stands for the single byte 10");
    write_bytes(enc, good_enc);

    write_bytes(bpe, "#version: 0.2\na b\nab\n");
    check_error(bpe + ": line 3", "not two tokens separated by one space");
    write_bytes(bpe, "#version: 0.2\na  b\n");
    check_error(bpe + ": line 2", "not two tokens");
    write_bytes(bpe, "#version: 0.2\nb c\n");
    check_error(bpe + ": line 2", "\"bc\", is not a token");
    write_bytes(bpe, "#version: 0.2\nxy c\n");
    check_error(bpe + ": line 2", "\"xy\" is not a token");
    write_bytes(bpe, "#version: 0.2\na b\n\na b\n");
    check_error(bpe + ": line 4", "repeats line 2");
    write_bytes(bpe, "#version: 0.2\r\na b\r\n");  // CRLF lines are read as lines
    CHECK(error().empty());
  }

  TEST_CASE("gpt2 meta.json: missing or malformed parts are one-line errors") {
    auto error = [](const std::string& json) { return error_of([&] { nf::load_tokenizer_from_json(nlohmann::json::parse(json)); }); };
    CHECK(contains(error(R"({"tokenizer":"gpt2","vocab_size":256,"merges":[]})"), "no \"tokens\" array"));
    CHECK(contains(error(R"({"tokenizer":"gpt2","vocab_size":256,"tokens":[]})"), "no \"merges\" array"));
    CHECK(contains(error(R"({"tokenizer":"gpt2","vocab_size":1,"tokens":[7],"merges":[]})"), "gpt2 token 0 is not a string"));
    CHECK(contains(error(R"({"tokenizer":"gpt2","vocab_size":1,"tokens":["a"],"merges":[]})"),
                   "no token stands for the single byte 0"));
    TempDir tmp;
    const nf::Gpt2Tokenizer tok = small_tokenizer(tmp, {{"a", "b"}});
    nlohmann::json meta = tok.to_meta_json();
    meta["vocab_size"] = 300;
    CHECK(contains(error(meta.dump()), "does not match"));
    meta = tok.to_meta_json();
    meta["merges"] = nlohmann::json::array({"ab"});
    CHECK(contains(error(meta.dump()), "gpt2 merge 0 \"ab\" is not two tokens separated by one space"));
    meta["merges"] = nlohmann::json::array({"a b", "a b"});
    CHECK(contains(error(meta.dump()), "gpt2 merge 1 \"a b\" repeats gpt2 merge 0"));
    meta["merges"] = nlohmann::json::array({1});
    CHECK(contains(error(meta.dump()), "gpt2 merge 0 is not a string"));
  }

  TEST_CASE("build_tokenizer: gpt2 needs --vocab-dir, the others refuse it; --vocab-size must match") {
    TempDir tmp;
    write_gpt2_vocab(tmp.path / "vocab", {{"a", "b"}});
    CHECK(nf::build_tokenizer("gpt2", "", 0, tmp.file("vocab"))->vocab_size() == 257);
    CHECK(nf::build_tokenizer("gpt2", "", 257, tmp.file("vocab"))->vocab_size() == 257);
    CHECK_THROWS_WITH(nf::build_tokenizer("gpt2", "", 300, tmp.file("vocab")), doctest::Contains("omit --vocab-size"));
    CHECK_THROWS_WITH(nf::build_tokenizer("gpt2", "abc", 0), doctest::Contains("needs --vocab-dir"));
    CHECK_THROWS_WITH(nf::build_tokenizer("char", "abc", 0, tmp.file("vocab")),
                      doctest::Contains("--vocab-dir is for --tokenizer gpt2 only"));
    CHECK_THROWS_WITH(nf::build_tokenizer("gpt2", "", 0, tmp.file("nowhere")), doctest::Contains("not a directory"));
  }

  TEST_CASE("prepare with gpt2: uint16 token files, and a meta.json that needs no vocabulary directory") {
    TempDir tmp;
    write_gpt2_vocab(tmp.path / "vocab", {{" ", "t"}, {"h", "e"}, {" t", "he"}});
    const std::string text = kSample + kUtf8;
    const nf::PrepareSummary s = nf::prepare_dataset(text, tmp.file("data"), "gpt2", 0, 0.25, tmp.file("vocab"));
    CHECK(s.tokenizer == "gpt2");
    CHECK(s.vocab_size == 259);
    // The data directory is complete without the vocabulary files: moved, with those deleted,
    // it still decodes.
    fs::remove_all(tmp.path / "vocab");
    fs::rename(tmp.path / "data", tmp.path / "moved");
    const auto tok = nf::load_tokenizer(tmp.file("moved/meta.json"));
    const auto train = nf::TokenData::load(tmp.file("moved/train.bin"), tok->vocab_size());
    const auto val = nf::TokenData::load(tmp.file("moved/val.bin"), tok->vocab_size());
    CHECK(train.size() + val.size() == s.tokens);
    std::vector<int> ids(train.tokens().begin(), train.tokens().end());
    ids.insert(ids.end(), val.tokens().begin(), val.tokens().end());
    CHECK(tok->decode(ids) == text);
  }
}

// GPT-2's own vocabulary: exact ids. Each test skips, saying so, when the files are missing.
TEST_SUITE("gpt2") {
  TEST_CASE("GPT-2's vocabulary: the ids of real texts equal those of an independent encoder") {
    NF_GPT2_VOCAB_OR_SKIP(dir);
    const nf::Gpt2Tokenizer tok = nf::Gpt2Tokenizer::from_vocab_dir(dir);
    CHECK(tok.vocab_size() == 50257);
    // tests/data/gpt2/NAME.ids.json were made by GPT-2's encoder ported to JavaScript (the npm
    // package gpt-3-encoder 1.1.4), by tests/data/gpt2/make-reference.sh; GPT-2's Python
    // encoder.py gives the same ids. The texts hold contractions, digits, runs of spaces, tabs,
    // CRLF and blank lines, trailing spaces, accented and German letters, Chinese, Japanese,
    // Korean, emoji with modifiers and joiners, other scripts, combining marks and Unicode spaces.
    for (const char* name : gpt2_fixture_names) {
      CAPTURE(name);
      const std::string text = gpt2_fixture_text(name);
      const std::vector<int> want = gpt2_fixture_ids(name);
      const std::vector<int> got = tok.encode(text);
      CHECK(got == want);
      CHECK(tok.decode(got) == text);
    }
  }

  TEST_CASE("GPT-2's vocabulary: well-known ids; every id decodes; any bytes round trip") {
    NF_GPT2_VOCAB_OR_SKIP(dir);
    const nf::Gpt2Tokenizer tok = nf::Gpt2Tokenizer::from_vocab_dir(dir);
    CHECK(tok.encode("Hello world") == std::vector<int>{15496, 995});
    CHECK(tok.encode(" the") == std::vector<int>{262});
    CHECK(tok.encode("Hello\n\nworld") == std::vector<int>{15496, 198, 198, 6894});
    CHECK(tok.encode("\n\n") == std::vector<int>{628});
    // The end-of-text token decodes to its name, but text never encodes to it.
    CHECK(tok.decode({50256}) == "<|endoftext|>");
    CHECK(tok.encode("<|endoftext|>") == std::vector<int>{27, 91, 437, 1659, 5239, 91, 29});
    for (int id = 0; id < tok.vocab_size(); ++id) CHECK_FALSE(tok.decode({id}).empty());
    nf::Generator g(5);
    for (int round = 0; round < 100; ++round) {
      std::string text;
      const size_t n = g.next_u64() % 300;
      for (size_t i = 0; i < n; ++i) text += static_cast<char>(g.next_u64() % 256);
      CHECK(tok.decode(tok.encode(text)) == text);
    }
  }

  TEST_CASE("GPT-2's vocabulary in a data directory: ids above 32767 survive the uint16 files") {
    NF_GPT2_VOCAB_OR_SKIP(dir);
    TempDir tmp;
    const std::string text = gpt2_fixture_text("unicode");
    nf::prepare_dataset(text, tmp.file("data"), "gpt2", 0, 0.0, dir);
    const auto tok = nf::load_tokenizer(tmp.file("data/meta.json"));
    CHECK(tok->vocab_size() == 50257);
    const auto train = nf::TokenData::load(tmp.file("data/train.bin"), tok->vocab_size());
    const std::vector<int> want = gpt2_fixture_ids("unicode");
    CHECK(std::vector<int>(train.tokens().begin(), train.tokens().end()) == want);
    CHECK(*std::max_element(want.begin(), want.end()) > 32767);
  }
}
