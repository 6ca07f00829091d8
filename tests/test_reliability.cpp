// Bad input never crashes and is never taken for something it is not: sizes that would overflow,
// checkpoints whose header and data disagree, non-finite weights, configs with wrong types or
// sizes beyond the limits. Each case is one clear error, before anything large is allocated.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/file.h"
#include "io/safetensors.h"
#include "data/tokenizer.h"
#include "models/gpt.h"
#include "tests/support.h"

using namespace nf;
using nf::test::contains;
using nf::test::error_of;
using nf::test::TempDir;

namespace {
// length prefix + header (padded with `pad` spaces, then to 8 bytes) + data, with the length
// field off by `shift` bytes.
std::string safetensors_bytes(const std::string& header, const std::string& data, size_t pad, int64_t shift) {
  std::string h = header + std::string(pad, ' ');
  while ((8 + h.size()) % 8) h += ' ';
  const uint64_t len = static_cast<uint64_t>(static_cast<int64_t>(h.size()) + shift);
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(len >> (8 * i));
  return out + h + data;
}

std::string load_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("f.safetensors");
  write_file_atomic(path, bytes);
  return error_of([&] { load_safetensors(path); });
}

const char* kTwoTensors =
    R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
}  // namespace

TEST_SUITE("reliability") {
  TEST_CASE("sizes whose element or byte count would overflow are refused, not allocated") {
    const int64_t huge = int64_t(1) << 62;
    CHECK(contains(error_of([&] { shape_numel({huge, 4}); }), "more elements than a 64-bit count"));
    CHECK(contains(error_of([&] { empty({huge}); }), "more bytes than a 64-bit size"));
    CHECK(contains(error_of([&] { empty({huge, huge}); }), "more elements"));
    CHECK(contains(error_of([&] { shape_numel({3, -1}); }), "negative size"));
    CHECK(shape_numel({}) == 1);
    CHECK(shape_numel({4, 0, huge}) == 0);
  }

  TEST_CASE("safetensors: the tensors must tile the data section exactly") {
    TempDir dir;
    const std::string data(12, '\0');
    CHECK(load_error(dir, safetensors_bytes(kTwoTensors, data, 0, 0)) == "");
    // A header length 4 short still parses (the header ends in spaces) but shifts every value.
    CHECK(contains(load_error(dir, safetensors_bytes(kTwoTensors, data, 8, -4)), "cover 12 of the 16 bytes"));
    // Bytes after the last tensor.
    CHECK(contains(load_error(dir, safetensors_bytes(kTwoTensors, data + "xyzw", 0, 0)), "cover 12 of the 16 bytes"));
    // A gap between two tensors.
    const char* gap =
        R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})";
    CHECK(contains(load_error(dir, safetensors_bytes(gap, data, 0, 0)), "tensor 'b' starts at byte 8"));
    // The first tensor not at 0.
    const char* late = R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})";
    CHECK(contains(load_error(dir, safetensors_bytes(late, std::string(8, '\0'), 0, 0)), "starts at byte 4"));
  }

  TEST_CASE("a checkpoint with a NaN or infinite weight is refused at load, naming the tensor") {
    TempDir dir;
    Generator gen(3);
    GPTConfig c = test::tiny_gpt("base", 8, 4);
    for (double bad : {std::nan(""), std::numeric_limits<double>::infinity()}) {
      GPT m(c);
      Tensor w = m.named_parameters().front().second;
      const std::string name = m.named_parameters().front().first;
      w.data<float>()[1] = static_cast<float>(bad);
      const std::string path = dir.file("nan.safetensors");
      save_model(path, m, "");
      const std::string err = error_of([&] { load_model(path); });
      CHECK(contains(err, "tensor '" + name + "' holds a non-finite value"));
      CHECK(contains(err, "at element 1"));
    }
  }

  TEST_CASE("config values must have their key's type exactly; sizes have upper bounds") {
    auto err = [](const std::string& json) {
      return error_of([&] { GPTConfig::from_json(nlohmann::json::parse(json)); });
    };
    CHECK(contains(err(R"({"n_layer": 1.5})"), "key 'n_layer' must be an integer, got 1.5"));
    CHECK(contains(err(R"({"n_layer": "2"})"), "must be an integer"));
    CHECK(contains(err(R"({"n_embd": 18446744073709551615})"), "must be an integer"));
    CHECK(contains(err(R"({"bias": 0})"), "key 'bias' must be true or false"));
    CHECK(contains(err(R"({"dropout": "0.1"})"), "key 'dropout' must be a number"));
    CHECK(contains(err(R"({"attention": 3})"), "key 'attention' must be a string"));
    CHECK(contains(err(R"({"n_embd": 4611686018427387904, "n_head": 1})"), "n_embd = 4611686018427387904 is above the limit"));
    CHECK(contains(err(R"({"n_layer": 1000000})"), "n_layer = 1000000 is above the limit 4096"));
    CHECK(contains(err(R"({"block_size": 2000000})"), "block_size"));
    CHECK(contains(err(R"({"n_layer": -1})"), "must be positive"));
    CHECK(contains(err(R"({"attention": "shared-diff", "lowrank": 100000})"), "lowrank must be at most n_embd"));
    CHECK(contains(err(R"({"kl_weight": -1})"), "kl_weight"));
    CHECK(err(R"({"n_layer": 2, "n_embd": 64, "n_head": 4})") == "");
  }

  TEST_CASE("a checkpoint whose config does not describe its tensors is refused before the model is built") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors");
    GPT m(test::tiny_gpt("base", 8, 4));
    save_model(path, m, "");
    SafetensorsFile f = load_safetensors(path);
    nlohmann::json cfg = nlohmann::json::parse(f.metadata.at("config"));
    cfg["n_layer"] = 4000;  // within the limit: only the tensor count can tell
    cfg["n_embd"] = 4096;
    cfg["n_head"] = 4;
    f.metadata["config"] = cfg.dump();
    save_safetensors(path, f.tensors, f.metadata);
    const std::string err = error_of([&] { load_model(path); });
    CHECK(contains(err, "does not match its config: the config describes"));
    CHECK(contains(err, "the file holds"));
  }

  TEST_CASE("a BPE meta.json cannot ask for unbounded work or wrap its ids") {
    auto err = [](const nlohmann::json& merges) {
      nlohmann::json meta{{"tokenizer", "bpe"}, {"vocab_size", 256 + merges.size()}, {"merges", merges}};
      return error_of([&] { load_tokenizer_from_json(meta); });
    };
    // 97 'a' -> 256 'aa' -> 257 'aaaa' -> ... doubling: the eleventh merge would pass 1024 bytes.
    nlohmann::json doubling = nlohmann::json::array({{97, 97}});
    for (int i = 0; i < 40; ++i) doubling.push_back({256 + i, 256 + i});
    CHECK(contains(err(doubling), "bpe merge 10 makes a token of 2048 bytes, more than 1024"));
    CHECK(contains(err(nlohmann::json::array({{int64_t(1) << 40, 97}})),
                   "bpe merge 0 [1099511627776,97] refers to a token not yet defined (< 256 required)"));
    CHECK(contains(err(nlohmann::json::array({{-1, 97}})), "not a pair of non-negative integers"));
    CHECK(contains(err(nlohmann::json::array({{97, 1.5}})), "not a pair of non-negative integers"));
    CHECK(err(nlohmann::json::array({{97, 98}, {256, 99}})) == "");
  }

  TEST_CASE("BPE training never learns a token the loader would refuse") {
    const std::string run(5000, '=');  // one pre-tokenization chunk of 5000 identical bytes
    BpeTokenizer tok = train_bpe(run + " " + run, 300);
    for (int id = 0; id < tok.vocab_size(); ++id) CHECK(tok.decode({id}).size() <= kMaxBpeTokenBytes);
    CHECK(tok.decode(tok.encode(run)) == run);
  }
}
