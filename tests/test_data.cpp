// The data layer: tokenizers, prepare, .bin loading, batch sampling, CLI config files.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "train/config_file.h"
#include "cli/commands.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "tests/support.h"

namespace fs = std::filesystem;

using nf::test::TempDir;
using nf::test::error_of;
using nf::test::contains;

namespace {

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

const std::string kSample =
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. "
    "resolved.\n\nFirst Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n"
    "We'll have corn at our own price. Is't a verdict? 1234 5678 -- ok!!  double  spaces\t\ttabs\n";

// Non-ASCII text: UTF-8 (2-, 3- and 4-byte), plus raw bytes that are not UTF-8 at all.
const std::string kUtf8 = "naïve café — 東京 😀 Ünïcödé";
constexpr char kRawLiteral[] = "\xff\xfe\x80 abc \xc3\x28 \x00\x01 end";
const std::string kRawBytes(kRawLiteral, sizeof kRawLiteral - 1);  // keeps the NUL byte

std::string exception_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("data") {
  // ---- char ----------------------------------------------------------------------------------
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
    const std::string msg = exception_message([&] { tok.encode("abz"); });
    CHECK(msg.find("'z'") != std::string::npos);
    CHECK(tok.encode_lossy("azb€") == std::vector<int>{1, 0, 2, 0});

    nf::CharTokenizer no_space = nf::CharTokenizer::from_text("xyz");
    CHECK(no_space.fallback_id() == 0);  // no ' ': id 0
    CHECK(no_space.encode_lossy("x?z\xff") == std::vector<int>{0, 0, 2, 0});

    nf::CharTokenizer spaced = nf::CharTokenizer::from_text("\nab c");
    CHECK(spaced.fallback_id() == 1);  // the id of ' ', not 0
  }

  TEST_CASE("char tokenizer: invalid UTF-8 corpus is refused with a hint") {
    const std::string msg = exception_message([] { nf::CharTokenizer::from_text(kRawBytes); });
    CHECK(msg.find("UTF-8") != std::string::npos);
    CHECK(msg.find("--tokenizer byte") != std::string::npos);
  }

  // ---- byte ----------------------------------------------------------------------------------
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

  // ---- bpe -----------------------------------------------------------------------------------
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

  // ---- meta.json -----------------------------------------------------------------------------
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
    std::string msg = exception_message([&] { nf::load_tokenizer(tmp.file("nope/meta.json")); });
    CHECK(msg.find("nope/meta.json") != std::string::npos);

    const std::string bad = tmp.file("meta.json");
    write_bytes(bad, R"({"tokenizer":"wordpiece","vocab_size":5})");
    msg = exception_message([&] { nf::load_tokenizer(bad); });
    CHECK(msg.find(bad) != std::string::npos);
    CHECK(msg.find("wordpiece") != std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);

    write_bytes(bad, R"({"tokenizer":"char","vocab_size":4,"chars":"abc"})");
    CHECK_THROWS_WITH(nf::load_tokenizer(bad), doctest::Contains("does not match"));
    write_bytes(bad, R"({"tokenizer":"char","vocab_size":3,"chars":"aba"})");
    CHECK_THROWS_WITH(nf::load_tokenizer(bad), doctest::Contains("repeats"));
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

  // ---- prepare -------------------------------------------------------------------------------
  TEST_CASE("prepare: train.bin/val.bin are little-endian uint16, split like nanoGPT") {
    TempDir tmp;
    const std::string out = tmp.file("ds");
    const nf::PrepareSummary s = nf::prepare_dataset(kSample, out, "char", 0, 0.1);
    CHECK(s.tokens == kSample.size());
    CHECK(s.train_tokens == static_cast<size_t>(kSample.size() * 0.9));
    CHECK(s.train_tokens + s.val_tokens == s.tokens);
    CHECK(fs::file_size(out + "/train.bin") == 2 * s.train_tokens);
    CHECK(fs::file_size(out + "/val.bin") == 2 * s.val_tokens);
    for (const auto& e : fs::directory_iterator(out))  // no temporaries left behind
      CHECK(e.path().filename().string().find(".tmp") == std::string::npos);

    auto tok = nf::load_tokenizer(out + "/meta.json");
    CHECK(tok->vocab_size() == s.vocab_size);
    const std::string raw = nf::read_file(out + "/train.bin");
    const std::vector<int> first = tok->encode(kSample.substr(0, 2));
    CHECK(static_cast<unsigned char>(raw[0]) == first[0]);  // low byte first
    CHECK(raw[1] == 0);
    CHECK(static_cast<unsigned char>(raw[2]) == first[1]);

    const nf::TokenData train = nf::TokenData::load(out + "/train.bin", s.vocab_size);
    const nf::TokenData val = nf::TokenData::load(out + "/val.bin", s.vocab_size);
    std::vector<int> all(train.tokens().begin(), train.tokens().end());
    all.insert(all.end(), val.tokens().begin(), val.tokens().end());
    CHECK(tok->decode(all) == kSample);
  }

  TEST_CASE("prepare: bpe and byte datasets decode back to the text; ids above 255 stored") {
    TempDir tmp;
    const std::string text = kSample + kSample + kUtf8;
    for (const char* kind : {"byte", "bpe"}) {
      CAPTURE(kind);
      const std::string out = tmp.file(kind);
      const auto s = nf::prepare_dataset(text, out, kind, std::string(kind) == "bpe" ? 400 : 0, 0.25);
      auto tok = nf::load_tokenizer(out + "/meta.json");
      auto train = nf::TokenData::load(out + "/train.bin", tok->vocab_size());
      auto val = nf::TokenData::load(out + "/val.bin", tok->vocab_size());
      std::vector<int> all(train.tokens().begin(), train.tokens().end());
      all.insert(all.end(), val.tokens().begin(), val.tokens().end());
      CHECK(tok->decode(all) == text);
      CHECK(val.size() == s.val_tokens);
      if (std::string(kind) == "bpe")
        CHECK(*std::max_element(all.begin(), all.end()) >= 256);
    }
  }

  TEST_CASE("prepare: bad arguments") {
    TempDir tmp;
    CHECK_THROWS_WITH(nf::prepare_dataset(kSample, tmp.file("a"), "char", 0, 1.0),
                      doctest::Contains("val-fraction"));
    CHECK_THROWS_WITH(nf::prepare_dataset(kSample, tmp.file("a"), "bpe", 70000, 0.1),
                      doctest::Contains("65536"));
    CHECK_THROWS(nf::prepare_dataset("", tmp.file("a"), "char", 0, 0.1));
    CHECK(!fs::exists(tmp.file("a/meta.json")));
  }

  TEST_CASE("noiseformer prepare: end to end through the command") {
    TempDir tmp;
    write_bytes(tmp.file("in.txt"), kSample);
    std::string out = tmp.file("out");
    std::vector<std::string> args = {"prepare", "--input", tmp.file("in.txt"), "--out", out,
                                     "--tokenizer", "bpe", "--vocab-size", "300",
                                     "--val-fraction", "0.2"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    CHECK(nf::cli::cmd_prepare(static_cast<int>(argv.size()), argv.data()) == 0);
    CHECK(nf::load_tokenizer(out + "/meta.json")->vocab_size() == 300);

    std::vector<std::string> bad = {"prepare", "--tokenizer", "wordpiece"};
    std::vector<char*> bargv;
    for (auto& a : bad) bargv.push_back(a.data());
    CHECK(nf::cli::cmd_prepare(static_cast<int>(bargv.size()), bargv.data()) != 0);
  }

  TEST_CASE("default corpus: the King James Bible, verse references stripped") {
    if (std::system("command -v bible >/dev/null 2>&1") != 0) {
      MESSAGE("skipped: the `bible` program (Debian package bible-kjv) is not installed");
      return;
    }
    const std::string text = nf::default_corpus_text();
    CHECK(text.rfind("\nGenesis 1\n\nIn the beginning God created the heaven and the earth.\n", 0) == 0);
    CHECK(text.size() > 4'100'000);
    CHECK(text.size() < 4'200'000);
    std::set<char> distinct(text.begin(), text.end());
    CHECK(distinct.size() == 73);
    CHECK(text.find("\n  1 ") == std::string::npos);
    CHECK(text.find("\nAnd the earth was without form") != std::string::npos);
    const std::string tail = "The grace of our Lord Jesus Christ be with you all. Amen.\n";
    CHECK(text.substr(text.size() - tail.size()) == tail);
  }

  // ---- loading -------------------------------------------------------------------------------
  TEST_CASE("TokenData: bad files give one-line errors naming the file") {
    TempDir tmp;
    const std::string odd = tmp.file("odd.bin");
    write_bytes(odd, std::string("\x01\x00\x02", 3));
    std::string msg = exception_message([&] { nf::TokenData::load(odd, 0); });
    CHECK(msg.find(odd) != std::string::npos);
    CHECK(msg.find("odd length") != std::string::npos);

    msg = exception_message([&] { nf::TokenData::load(tmp.file("missing.bin"), 0); });
    CHECK(msg.find("missing.bin") != std::string::npos);

    const std::string big = tmp.file("big.bin");
    nf::write_tokens(big, {1, 2, 65, 3});
    msg = exception_message([&] { nf::TokenData::load(big, 65); });
    CHECK(msg.find(big) != std::string::npos);
    CHECK(msg.find("token id 65 at position 2") != std::string::npos);
    CHECK(nf::TokenData::load(big, 66).size() == 4);
    CHECK(nf::TokenData::load(big, 0).tokens() == std::vector<uint16_t>{1, 2, 65, 3});

    // Too short for a window of T = 4 (needs T + 1 = 5 tokens).
    const nf::TokenData short_data = nf::TokenData::load(big, 0);
    msg = exception_message([&] { nf::BatchSampler(short_data, 2, 4, nf::Sampling::Random, 1); });
    CHECK(msg.find(big) != std::string::npos);
    CHECK(msg.find("block_size+1") != std::string::npos);
    CHECK_NOTHROW(nf::BatchSampler(short_data, 2, 3, nf::Sampling::Sequential, 1));
  }

  // ---- batches -------------------------------------------------------------------------------
  // Token i holds the value i (mod 65536), so a window's start can be read off its first token.
  nf::TokenData iota_data(size_t n) {
    std::vector<uint16_t> v(n);
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<uint16_t>(i);
    return nf::TokenData(std::move(v), "iota");
  }

  TEST_CASE("sequential sampling: row b of batch k starts at ((k*B + b)*T) mod (len - T - 1)") {
    const size_t len = 100;
    const int64_t B = 3, T = 8;
    nf::TokenData data = iota_data(len);
    nf::BatchSampler s(data, B, T, nf::Sampling::Sequential, 123);
    std::vector<int64_t> x, y;
    for (uint64_t k = 0; k < 10; ++k) {
      s.next(x, y);
      REQUIRE(x.size() == static_cast<size_t>(B * T));
      for (int64_t b = 0; b < B; ++b) {
        const int64_t o = static_cast<int64_t>(((k * B + b) * T) % (len - T - 1));
        CHECK(s.sequential_start(k, b) == o);
        for (int64_t t = 0; t < T; ++t) {
          CHECK(x[b * T + t] == o + t);
          CHECK(y[b * T + t] == o + t + 1);
        }
      }
    }
    // The degenerate len == T + 1: the one window there is.
    nf::TokenData tiny = iota_data(9);
    nf::BatchSampler one(tiny, 2, 8, nf::Sampling::Sequential, 0);
    one.next(x, y);
    CHECK(x[8] == 0);
    CHECK(y[15] == 8);
  }

  TEST_CASE("random sampling: starts cover exactly [0, len - T - 1]; y is x shifted by one") {
    const int64_t T = 5;
    nf::TokenData data = iota_data(T + 4);  // starts 0..3
    nf::BatchSampler s(data, 4, T, nf::Sampling::Random, 7);
    std::set<int64_t> starts;
    std::vector<int64_t> x, y;
    for (int k = 0; k < 100; ++k) {
      s.next(x, y);
      for (int64_t b = 0; b < 4; ++b) {
        starts.insert(x[b * T]);
        for (int64_t t = 0; t < T; ++t) {
          CHECK(x[b * T + t] == x[b * T] + t);
          CHECK(y[b * T + t] == x[b * T + t] + 1);
        }
      }
    }
    CHECK(starts == std::set<int64_t>{0, 1, 2, 3});
  }

  TEST_CASE("sampler state: save and restore reproduces the same batches") {
    nf::TokenData data = iota_data(5000);
    for (auto mode : {nf::Sampling::Random, nf::Sampling::Sequential}) {
      CAPTURE(nf::sampling_name(mode));
      nf::BatchSampler a(data, 4, 16, mode, 42);
      std::vector<int64_t> x, y, x2, y2;
      for (int i = 0; i < 3; ++i) a.next(x, y);
      const nf::BatchSampler::State saved = a.state();
      std::vector<std::vector<int64_t>> expect;
      for (int i = 0; i < 3; ++i) {
        a.next(x, y);
        expect.push_back(x);
      }
      nf::BatchSampler b(data, 4, 16, mode, 999);  // a different seed, then the saved state
      b.set_state(saved);
      for (int i = 0; i < 3; ++i) {
        b.next(x2, y2);
        CHECK(x2 == expect[i]);
      }
      // Same seed, fresh sampler: same stream as the first.
      nf::BatchSampler c(data, 4, 16, mode, 42), d(data, 4, 16, mode, 42);
      c.next(x, y);
      d.next(x2, y2);
      CHECK(x == x2);
    }
    // Different seeds give different random batches.
    nf::BatchSampler e(data, 4, 16, nf::Sampling::Random, 1), f(data, 4, 16, nf::Sampling::Random, 2);
    std::vector<int64_t> x, y, x2, y2;
    e.next(x, y);
    f.next(x2, y2);
    CHECK(x != x2);
  }

  TEST_CASE("eval windows: o = 0, T, 2T, ... while o + T + 1 <= len") {
    CHECK(nf::eval_windows(10, 3) == std::vector<int64_t>{0, 3, 6});
    CHECK(nf::eval_windows(9, 3) == std::vector<int64_t>{0, 3});
    CHECK(nf::eval_windows(4, 3) == std::vector<int64_t>{0});
    CHECK(nf::eval_windows(3, 3).empty());
    CHECK(nf::eval_windows(0, 3).empty());
  }

  TEST_CASE("uniform_below is in range and roughly uniform") {
    nf::Generator g(5);
    std::vector<int> hist(6, 0);
    for (int i = 0; i < 60000; ++i) ++hist[nf::uniform_below(g, 6)];
    for (int h : hist) CHECK(std::abs(h - 10000) < 500);
  }

  // ---- CLI config ----------------------------------------------------------------------------
  struct TestCli {
    int n_layer = 6, max_iters = 100;
    double lr = 1e-3;
    bool bias = false;
    std::string attention = "base";
    std::vector<int> dims;
    CLI::App app{"test command", "noiseformer test"};
    TestCli() {
      app.add_option("--n-layer", n_layer);
      app.add_option("--max-iters", max_iters);
      app.add_option("--lr", lr);
      app.add_flag("--bias", bias);
      app.add_option("--attention", attention)->check(CLI::IsMember({"base", "diff"}));
      app.add_option("--dims", dims);
      nf::cli::add_config_option(app);
    }
    std::optional<int> parse(std::vector<std::string> args, std::string* out = nullptr,
                             std::string* err = nullptr) {
      args.insert(args.begin(), "test");
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      std::ostringstream o, e;
      auto rc = nf::cli::parse_or_exit(app, static_cast<int>(argv.size()), argv.data(), o, e);
      if (out) *out = o.str();
      if (err) *err = e.str();
      return rc;
    }
  };

  TEST_CASE("JSON config: keys with underscores set flags; the command line overrides the file") {
    TempDir tmp;
    const std::string cfg = tmp.file("cfg.json");
    write_bytes(cfg, R"({"n_layer": 4, "max_iters": 5000, "lr": 3e-4, "bias": true,
                         "attention": "diff", "dims": [1, 2, 3]})");
    TestCli cli;
    CHECK(!cli.parse({"--config", cfg, "--n-layer", "2"}).has_value());
    CHECK(cli.n_layer == 2);  // the flag wins
    CHECK(cli.max_iters == 5000);
    CHECK(cli.lr == doctest::Approx(3e-4));
    CHECK(cli.bias);
    CHECK(cli.attention == "diff");
    CHECK(cli.dims == std::vector<int>{1, 2, 3});

    // to_config writes JSON that reads back to the same settings.
    const std::string saved = cli.app.config_to_str(true, false);
    auto j = nlohmann::json::parse(saved);
    CHECK(j["n_layer"] == 2);
    CHECK(j["bias"] == true);
    CHECK(j["attention"] == "diff");
    write_bytes(tmp.file("saved.json"), saved);
    TestCli again;
    CHECK(!again.parse({"--config", tmp.file("saved.json")}).has_value());
    CHECK(again.n_layer == 2);
    CHECK(again.lr == doctest::Approx(3e-4));
    CHECK(again.dims == std::vector<int>{1, 2, 3});
  }

  TEST_CASE("JSON config: unknown keys and bad files are one-line errors") {
    TempDir tmp;
    const std::string cfg = tmp.file("cfg.json");
    write_bytes(cfg, R"({"n_layer": 4, "n_lyer": 5})");
    TestCli cli;
    std::string err;
    CHECK(cli.parse({"--config", cfg}, nullptr, &err) == 2);
    CHECK(err.rfind("noiseformer test: error: ", 0) == 0);
    CHECK(err.find("n_lyer") != std::string::npos);
    CHECK(err.find(cfg) != std::string::npos);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);

    write_bytes(cfg, R"([1, 2])");
    CHECK(TestCli().parse({"--config", cfg}) == 2);
    write_bytes(cfg, R"({"lr": )");
    CHECK(TestCli().parse({"--config", cfg}, nullptr, &err) == 2);
    CHECK(err.find("not valid JSON") != std::string::npos);
    write_bytes(cfg, R"({"lr": "fast"})");
    CHECK(TestCli().parse({"--config", cfg}) == 2);
    CHECK(TestCli().parse({"--config", tmp.file("missing.json")}, nullptr, &err) == 2);
    CHECK(err.find("missing.json") != std::string::npos);
  }

  TEST_CASE("parse_or_exit: --help exits 0, bad flags give one line and a non-zero status") {
    std::string out, err;
    CHECK(TestCli().parse({"--help"}, &out, &err) == 0);
    CHECK(out.find("noiseformer test") != std::string::npos);
    CHECK(out.find("--n-layer") != std::string::npos);
    CHECK(err.empty());

    CHECK(TestCli().parse({"--n-layr", "3"}, &out, &err) == 2);
    CHECK(err.rfind("noiseformer test: error: ", 0) == 0);
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
    CHECK(TestCli().parse({"--n-layer", "three"}) == 2);
    CHECK(TestCli().parse({"--attention", "quantum"}) == 2);
    CHECK(!TestCli().parse({}).has_value());
  }

  TEST_CASE("config key <-> flag names") {
    CHECK(nf::cli::key_to_flag("lr_decay_iters") == "lr-decay-iters");
    CHECK(nf::cli::flag_to_key("lr-decay-iters") == "lr_decay_iters");
  }
}

// Issue 12: prompts are encoded strictly (sample --prompt); the corpus that built the vocabulary
// always encodes, so prepare is unaffected.
TEST_SUITE("data") {
  TEST_CASE("char tokenizer: strict encode refuses only characters outside the vocabulary, by name") {
    const std::string corpus = kSample + kUtf8;
    const nf::CharTokenizer tok = nf::CharTokenizer::from_text(corpus);
    CHECK(tok.decode(tok.encode(corpus)) == corpus);  // what prepare does: every character known
    CHECK(tok.decode(tok.encode("café 東京")) == "café 東京");
    const std::string ascii = exception_message([&] { tok.encode("First Zebra"); });
    CHECK(contains(ascii, "U+005A 'Z'"));
    CHECK(contains(ascii, "byte offset 6"));
    CHECK(std::count(ascii.begin(), ascii.end(), '\n') == 0);
    const std::string euro = exception_message([&] { tok.encode("café €"); });
    CHECK(contains(euro, "U+20AC '€'"));  // non-ASCII: the glyph too
    // Control characters are named by code point only, so the message stays one line.
    const std::string bell = exception_message([&] { tok.encode("a\x07"); });
    CHECK(contains(bell, "U+0007"));
    CHECK(bell.find('\x07') == std::string::npos);
    // The lossy path (GLUE text) is unchanged.
    CHECK(tok.encode_lossy("Z") == std::vector<int>{tok.fallback_id()});
  }
}
