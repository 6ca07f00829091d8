// The tokenizers (data/tokenizer.cpp): char, byte and byte-level BPE — their vocabularies, round
// trips on any text (UTF-8 or not), BPE's pre-tokenization, merge order and encoding, meta.json
// for each kind, and the one-line errors for bad meta.json files and vocabulary sizes.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "tests/support.h"

using namespace nf::test;

namespace {

// Bytes that are not UTF-8 at all, a NUL byte among them.
constexpr char kRawLiteral[] = "\xff\xfe\x80 abc \xc3\x28 \x00\x01 end";
const std::string kRawBytes(kRawLiteral, sizeof kRawLiteral - 1);  // keeps the NUL byte

}  // namespace

TEST_SUITE("data") {
  TEST_CASE("char tokenizer: sorted distinct characters, round trip, exact meta.json") {
    nf::CharTokenizer tok = nf::CharTokenizer::from_text("hello world");
    CHECK(tok.vocab_size() == 8);  // ' ' d e h l o r w
    CHECK(tok.to_meta_json().dump() == R"({"tokenizer":"char","vocab_size":8,"chars":" dehlorw"})");
    CHECK(tok.encode("hello") == std::vector<int>{3, 2, 4, 4, 5});
    CHECK(tok.decode(tok.encode("world hello")) == "world hello");

    nf::CharTokenizer u = nf::CharTokenizer::from_text(kSample + kUtf8);
    CHECK(u.decode(u.encode(kSample + kUtf8)) == kSample + kUtf8);
    // ids follow code point order; the emoji (U+1F600) is the last id
    CHECK(u.chars().back() == U'\U0001F600');
    CHECK(u.decode({u.vocab_size() - 1}) == "😀");
    CHECK_THROWS_AS(u.decode({u.vocab_size()}), std::out_of_range);
    CHECK_THROWS_AS(u.decode({-1}), std::out_of_range);
  }

  TEST_CASE("char tokenizer: unseen characters throw in encode, map to the fallback in encode_lossy") {
    nf::CharTokenizer tok = nf::CharTokenizer::from_text("ab c");
    CHECK(tok.fallback_id() == 0);  // ' ' sorts first here
    const std::string msg = error_of([&] { tok.encode("abz"); });
    CHECK(msg.find("'z'") != std::string::npos);
    CHECK(tok.encode_lossy("azb€") == std::vector<int>{1, 0, 2, 0});

    nf::CharTokenizer no_space = nf::CharTokenizer::from_text("xyz");
    CHECK(no_space.fallback_id() == 0);  // no ' ': id 0
    CHECK(no_space.encode_lossy("x?z\xff") == std::vector<int>{0, 0, 2, 0});

    nf::CharTokenizer spaced = nf::CharTokenizer::from_text("\nab c");
    CHECK(spaced.fallback_id() == 1);  // the id of ' ', not 0
  }

  TEST_CASE("char tokenizer: invalid UTF-8 corpus is refused with a hint") {
    const std::string msg = error_of([] { nf::CharTokenizer::from_text(kRawBytes); });
    CHECK(msg.find("UTF-8") != std::string::npos);
    CHECK(msg.find("--tokenizer byte") != std::string::npos);
  }

  TEST_CASE("byte tokenizer: every byte round trips") {
    nf::ByteTokenizer tok;
    std::string all;
    for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
    const auto ids = tok.encode(all + kRawBytes);
    CHECK(ids[255] == 255);
    CHECK(tok.decode(ids) == all + kRawBytes);
    CHECK(tok.to_meta_json().dump() == R"({"tokenizer":"byte","vocab_size":256})");
    CHECK_THROWS_AS(tok.decode({256}), std::out_of_range);
  }

  TEST_CASE("bpe pre-tokenization: GPT-2-like chunks that concatenate back to the text") {
    auto chunks = nf::split_bpe_chunks("Hello world, it's 2024!!  ok\n\nbye");
    std::vector<std::string> got(chunks.begin(), chunks.end());
    CHECK(got == std::vector<std::string>{"Hello", " world", ",", " it", "'s", " 2024", "!!", " ",
                                          " ok", "\n\n", "bye"});
    const std::string text = kSample + kUtf8 + kRawBytes;  // the chunks are views into it
    std::string joined;
    for (auto c : nf::split_bpe_chunks(text)) joined += c;
    CHECK(joined == text);
  }

  TEST_CASE("bpe training: most frequent pair first, ties to the lowest pair ids") {
    // The textbook example: aa (4) first; then (aa,a) and (a,b) both 2 -> (97,98) wins.
    nf::BpeTokenizer tok = nf::train_bpe("aaabdaaabac", 258);
    REQUIRE(tok.merges().size() == 2);
    CHECK(tok.merges()[0] == std::pair<int, int>{97, 97});
    CHECK(tok.merges()[1] == std::pair<int, int>{97, 98});
    CHECK(tok.encode("aaabdaaabac") ==
          std::vector<int>{256, 257, 100, 256, 257, 97, 99});

    // Three pairs seen once each: (' ', c) = (32, 99) has the lowest ids.
    CHECK(nf::train_bpe("ab cd", 257).merges()[0] == std::pair<int, int>{32, 99});
    // Merges never cross chunks: "a b" has no pair (a, ' ').
    const nf::BpeTokenizer spaced = nf::train_bpe("a b a b a b", 300);
    for (auto [a, b] : spaced.merges()) CHECK(!(a == 'a' && b == ' '));
    // Runs out of pairs: stops early with a smaller vocabulary.
    CHECK(nf::train_bpe("ab", 1000).vocab_size() == 257);
    CHECK_THROWS(nf::train_bpe("abc", 100));
  }

  TEST_CASE("bpe: deterministic, reduces the token count, round trips any bytes") {
    std::string corpus;
    for (int i = 0; i < 20; ++i) corpus += kSample;
    nf::BpeTokenizer a = nf::train_bpe(corpus, 400);
    nf::BpeTokenizer b = nf::train_bpe(corpus, 400);
    CHECK(a.vocab_size() == 400);
    CHECK(a.merges() == b.merges());
    CHECK(a.to_meta_json().dump() == b.to_meta_json().dump());

    const auto ids = a.encode(corpus);
    CHECK(ids.size() < corpus.size() / 2);  // 144 merges on a repetitive corpus: > 2 bytes/token
    CHECK(a.decode(ids) == corpus);
    const std::string weird = kUtf8 + kRawBytes + "unseen words zzzqqq";
    CHECK(a.decode(a.encode(weird)) == weird);
    // More merges, fewer tokens.
    CHECK(nf::train_bpe(corpus, 300).encode(corpus).size() > ids.size());
  }

  TEST_CASE("bpe: encoding reproduces training's segmentation") {
    // Each merge in training fired on real pairs of the corpus, so re-encoding the corpus with
    // the learned merges must use every merged token at least once.
    nf::BpeTokenizer tok = nf::train_bpe(kSample, 300);
    std::set<int> used;
    for (int id : tok.encode(kSample)) used.insert(id);
    // A merged token can be fully absorbed by later merges, so check the last merge only.
    CHECK(used.count(tok.vocab_size() - 1) == 1);
  }

  TEST_CASE("meta.json round trip for all three kinds") {
    TempDir tmp;
    std::vector<std::unique_ptr<nf::Tokenizer>> toks;
    toks.push_back(nf::build_tokenizer("char", kSample + kUtf8, 0));
    toks.push_back(nf::build_tokenizer("byte", kSample, 0));
    toks.push_back(nf::build_tokenizer("bpe", kSample + kUtf8, 320));
    for (const auto& t : toks) {
      CAPTURE(t->name());
      const std::string path = tmp.file(t->name() + ".json");
      write_bytes(path, t->to_meta_json().dump());
      auto back = nf::load_tokenizer(path);
      CHECK(back->name() == t->name());
      CHECK(back->vocab_size() == t->vocab_size());
      CHECK(back->to_meta_json() == t->to_meta_json());
      const std::string s = t->name() == "char" ? kSample + kUtf8 : kSample + kUtf8 + kRawBytes;
      CHECK(back->decode(back->encode(s)) == s);
      // and straight from the json object (ordered_json converts to json)
      CHECK(nf::load_tokenizer_from_json(t->to_meta_json())->vocab_size() == t->vocab_size());
    }
  }

  TEST_CASE("meta.json: missing, unknown or inconsistent gives a one-line error naming the file") {
    TempDir tmp;
    std::string msg = error_of([&] { nf::load_tokenizer(tmp.file("nope/meta.json")); });
    CHECK(msg.find("nope/meta.json") != std::string::npos);

    const std::string bad = tmp.file("meta.json");
    write_bytes(bad, R"({"tokenizer":"wordpiece","vocab_size":5})");
    msg = error_of([&] { nf::load_tokenizer(bad); });
    CHECK(msg.find(bad) != std::string::npos);
    CHECK(msg.find("wordpiece") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);

    write_bytes(bad, R"({"tokenizer":"char","vocab_size":4,"chars":"abc"})");
    CHECK_THROWS_WITH(nf::load_tokenizer(bad), doctest::Contains("does not match"));
    write_bytes(bad, R"({"tokenizer":"char","vocab_size":3,"chars":"aba"})");
    CHECK_THROWS_WITH(nf::load_tokenizer(bad), doctest::Contains("repeats"));
    // No characters at all: the fallback id for unknown characters would lie outside the vocabulary.
    write_bytes(bad, R"({"tokenizer":"char","vocab_size":0,"chars":""})");
    CHECK_THROWS_WITH(nf::load_tokenizer(bad), doctest::Contains("char vocabulary is empty"));
    // A tokenizer name holding a line break is quoted on one line.
    write_bytes(bad, R"({"tokenizer":"word\npiece","vocab_size":5})");
    msg = error_of([&] { nf::load_tokenizer(bad); });
    CHECK(msg.find("word piece") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
    write_bytes(bad, R"({"tokenizer":"bpe","vocab_size":257,"merges":[[300,1]]})");
    CHECK_THROWS_WITH(nf::load_tokenizer(bad), doctest::Contains("not yet defined"));
    write_bytes(bad, "{not json");
    CHECK_THROWS_WITH(nf::load_tokenizer(bad), doctest::Contains("not valid JSON"));
  }

  TEST_CASE("build_tokenizer checks --vocab-size against char and byte") {
    CHECK_THROWS_WITH(nf::build_tokenizer("char", "abc", 10), doctest::Contains("omit"));
    CHECK(nf::build_tokenizer("char", "abc", 3)->vocab_size() == 3);
    CHECK_THROWS(nf::build_tokenizer("byte", "abc", 100));
    CHECK_THROWS_WITH(nf::build_tokenizer("sentencepiece", "abc", 0),
                      doctest::Contains("unknown tokenizer"));
  }
}

// Prompts are encoded strictly (sample --prompt); the corpus that built the vocabulary
// always encodes, so prepare is unaffected.
TEST_SUITE("data") {
  TEST_CASE("char tokenizer: strict encode refuses only characters outside the vocabulary, by name") {
    const std::string corpus = kSample + kUtf8;
    const nf::CharTokenizer tok = nf::CharTokenizer::from_text(corpus);
    CHECK(tok.decode(tok.encode(corpus)) == corpus);  // what prepare does: every character known
    CHECK(tok.decode(tok.encode("café 東京")) == "café 東京");
    const std::string ascii = error_of([&] { tok.encode("First Zebra"); });
    CHECK(contains(ascii, "U+005A 'Z'"));
    CHECK(contains(ascii, "byte offset 6"));
    CHECK(std::count(ascii.begin(), ascii.end(), '\n') == 0);
    const std::string euro = error_of([&] { tok.encode("café €"); });
    CHECK(contains(euro, "U+20AC '€'"));  // non-ASCII: the glyph too
    // Control characters are named by code point only, so the message stays one line.
    const std::string bell = error_of([&] { tok.encode("a\x07"); });
    CHECK(contains(bell, "U+0007"));
    CHECK(bell.find('\x07') == std::string::npos);
    // The lossy path (GLUE text) is unchanged.
    CHECK(tok.encode_lossy("Z") == std::vector<int>{tok.fallback_id()});
  }
}
