// Datasets (data/dataset.cpp): prepare's train.bin / val.bin (little-endian uint16, nanoGPT's
// split) for each tokenizer, the default corpus, one-line errors for bad .bin files, the batch
// samplers (sequential, random, their saved state), evaluation windows and uniform_below.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "data/tokenizer.h"
#include "tests/support.h"

namespace fs = std::filesystem;

using namespace nf::test;

TEST_SUITE("data") {
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
    const std::string raw = read_bytes(out + "/train.bin");
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
    std::string msg = error_of([&] { nf::TokenData::load(odd, 0); });
    CHECK(msg.find(odd) != std::string::npos);
    CHECK(msg.find("odd length") != std::string::npos);

    msg = error_of([&] { nf::TokenData::load(tmp.file("missing.bin"), 0); });
    CHECK(msg.find("missing.bin") != std::string::npos);

    const std::string big = tmp.file("big.bin");
    nf::write_tokens(big, {1, 2, 65, 3});
    msg = error_of([&] { nf::TokenData::load(big, 65); });
    CHECK(msg.find(big) != std::string::npos);
    CHECK(msg.find("token id 65 at position 2") != std::string::npos);
    CHECK(nf::TokenData::load(big, 66).size() == 4);
    CHECK(nf::TokenData::load(big, 0).tokens() == std::vector<uint16_t>{1, 2, 65, 3});

    // Too short for a window of T = 4 (needs T + 1 = 5 tokens).
    const nf::TokenData short_data = nf::TokenData::load(big, 0);
    msg = error_of([&] { nf::BatchSampler(short_data, 2, 4, nf::Sampling::Random, 1); });
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

  TEST_CASE("skip() passes over a batch exactly as next() would: ranks splitting one stream agree") {
    nf::TokenData data = iota_data(5000);
    for (auto mode : {nf::Sampling::Random, nf::Sampling::Sequential}) {
      CAPTURE(nf::sampling_name(mode));
      nf::BatchSampler all(data, 4, 16, mode, 7);
      std::vector<std::vector<int64_t>> stream(6);
      std::vector<int64_t> y;
      for (auto& x : stream) all.next(x, y);
      // Two "ranks": rank r reads batches r, r+2, r+4 and skips the others.
      for (int rank = 0; rank < 2; ++rank) {
        nf::BatchSampler mine(data, 4, 16, mode, 7);
        std::vector<int64_t> x;
        for (int k = 0; k < 6; ++k) {
          if (k % 2 != rank) {
            mine.skip();
            continue;
          }
          mine.next(x, y);
          CHECK(x == stream[k]);
        }
        CHECK(mine.state() == all.state());
      }
    }
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
}
