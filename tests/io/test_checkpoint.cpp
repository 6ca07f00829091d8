// Model checkpoints (io/checkpoint.cpp): a save/load round trip gives identical weights and
// logits for every attention, the safetensors layout (config JSON under __metadata__ with the
// key names of docs/formats.md, float32 tensors), and one-line errors for a config that does not match
// its tensors or is missing or invalid.
#include <doctest/doctest.h>

#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "io/safetensors.h"
#include "models/gpt.h"
#include "tests/support.h"

using namespace nf;
namespace fs = std::filesystem;
using namespace nf::test;

namespace {

// 2 layers, 2 heads, width 16, block 16, vocab 11.
GPTConfig tiny(const std::string& attention) { return nf::test::tiny_gpt(attention, 16, 16); }

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("checkpoint round trip: save_model / load_model give identical weights and logits") {
    TempDir tmp;
    for (const std::string& a : kAttentions) {
      CAPTURE(a);
      GPTConfig c = tiny(a);
      c.noise_mean = a == "noise-v2" ? "relpos" : "scalar";
      c.pairwise = a == "symmetric";
      GPT m(c, 3);
      perturb(m, 0.2, 4);
      const std::string path = tmp.file(a + ".safetensors");
      save_model(path, m, R"({"tokenizer":"char","vocab_size":11,"chars":"abcdefghijk"})");
      LoadedModel lm = load_model(path);
      CHECK(lm.model->config().to_json() == c.to_json());
      CHECK(same_weights(*lm.model, m));
      CHECK(lm.tokenizer_meta == R"({"tokenizer":"char","vocab_size":11,"chars":"abcdefghijk"})");
      m.eval();
      lm.model->eval();
      std::vector<int64_t> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5};
      CHECK(values(m.forward(ids(x, 1, 16)).logits) == values(lm.model->forward(ids(x, 1, 16)).logits));
      // No temporary file is left beside it.
      for (auto& e : fs::directory_iterator(tmp.path)) CHECK(e.path().extension() == ".safetensors");
    }
  }

  TEST_CASE("safetensors layout: config JSON under __metadata__ with the docs/formats.md names, F32 tensors") {
    TempDir tmp;
    GPTConfig c = tiny("noise-v2");
    c.kl_weight = 0.01;
    GPT m(c);
    const std::string path = tmp.file("m.safetensors");
    save_model(path, m, "");
    SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.metadata.count("config"));
    nlohmann::json cfg = nlohmann::json::parse(f.metadata.at("config"));
    for (const char* k : {"n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout", "attention",
                          "kl_weight", "noise_mean", "noise_at_eval", "lowrank", "pairwise", "pos_bias"})
      CHECK_MESSAGE(cfg.contains(k), k);
    CHECK(cfg["n_layer"] == 2);
    CHECK(cfg["n_embd"] == 16);
    CHECK(cfg["attention"] == "noise-v2");
    CHECK(cfg["kl_weight"].get<double>() == 0.01);
    CHECK(cfg["bias"] == true);
    CHECK(cfg["noise_at_eval"] == "mean");
    CHECK(cfg["pos_bias"] == "none");
    auto params = m.named_parameters();
    REQUIRE(f.tensors.size() == params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      CHECK(f.tensors[i].first == params[i].first);
      CHECK(f.tensors[i].second.dtype == "F32");
      CHECK(f.tensors[i].second.shape == params[i].second.shape());
    }
    CHECK(f.find("lm_head.weight") == nullptr);
    CHECK(f.find("transformer.h.1.attn.noise_mu") != nullptr);
    // Raw bytes are the weights, little-endian float32.
    std::vector<float> wte = raw_tensor_values<float>(f.at("transformer.wte.weight"));
    CHECK(std::vector<double>(wte.begin(), wte.end()) == values(m.wte->weight));
  }

  TEST_CASE("pos_bias: stored in the config; a checkpoint from before the key loads as none; alibi round-trips") {
    TempDir tmp;
    GPTConfig c = tiny("noise-v1");
    c.pos_bias = "alibi";
    GPT m(c, 3);
    perturb(m, 0.2, 4);
    const std::string path = tmp.file("alibi.safetensors");
    save_model(path, m, "");
    LoadedModel lm = load_model(path);
    CHECK(lm.model->config().pos_bias == "alibi");
    std::vector<int64_t> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5};
    m.eval();
    lm.model->eval();
    CHECK(values(m.forward(ids(x, 1, 16)).logits) == values(lm.model->forward(ids(x, 1, 16)).logits));
    // The same weights under a config without the key (as every checkpoint before it was
    // written): pos_bias none, so other logits.
    SafetensorsFile f = load_safetensors(path);
    auto meta = f.metadata;
    auto j = nlohmann::json::parse(meta.at("config"));
    j.erase("pos_bias");
    meta["config"] = j.dump();
    save_safetensors(tmp.file("old.safetensors"), f.tensors, meta);
    LoadedModel old = load_model(tmp.file("old.safetensors"));
    CHECK(old.model->config().pos_bias == "none");
    old.model->eval();
    CHECK(values(old.model->forward(ids(x, 1, 16)).logits) != values(m.forward(ids(x, 1, 16)).logits));
    // A value it does not know, or ALiBi on an attention that does not take it: one line.
    j["pos_bias"] = "alibi";
    j["attention"] = "selective";
    meta["config"] = j.dump();
    save_safetensors(tmp.file("sel.safetensors"), f.tensors, meta);
    CHECK(contains(error_of([&] { load_model(tmp.file("sel.safetensors")); }), "pos_bias alibi is for base"));
  }

  TEST_CASE("a checkpoint whose config does not match its tensors, or is missing/invalid, is a one-line error") {
    TempDir tmp;
    GPT m(tiny("base"));
    const std::string path = tmp.file("m.safetensors");
    save_model(path, m, "");
    SafetensorsFile f = load_safetensors(path);
    auto rewrite = [&](const std::string& name, const std::function<void(std::map<std::string, std::string>&)>& edit) {
      std::map<std::string, std::string> meta = f.metadata;
      edit(meta);
      save_safetensors(tmp.file(name), f.tensors, meta);
      return tmp.file(name);
    };
    auto load_error = [&](const std::string& p) { return error_of([&] { load_model(p); }); };
    std::string e = load_error(rewrite("wide.safetensors", [](auto& meta) {
      auto j = nlohmann::json::parse(meta["config"]);
      j["n_embd"] = 32;
      meta["config"] = j.dump();
    }));
    CHECK(contains(e, "wide.safetensors"));
    CHECK(contains(e, "does not match"));
    CHECK(e.find('\n') == std::string::npos);
    e = load_error(rewrite("deep.safetensors", [](auto& meta) {
      auto j = nlohmann::json::parse(meta["config"]);
      j["n_layer"] = 3;
      meta["config"] = j.dump();
    }));
    CHECK(contains(e, "transformer.h.2"));
    e = load_error(rewrite("sym.safetensors", [](auto& meta) {
      auto j = nlohmann::json::parse(meta["config"]);
      j["attention"] = "symmetric";
      meta["config"] = j.dump();
    }));
    CHECK(contains(e, "c_attn"));
    CHECK(contains(load_error(rewrite("noconfig.safetensors", [](auto& meta) { meta.erase("config"); })), "config"));
    CHECK(contains(load_error(rewrite("badjson.safetensors", [](auto& meta) { meta["config"] = "{not json"; })),
                   "not valid JSON"));
    CHECK(contains(load_error(rewrite("badkey.safetensors", [](auto& meta) {
                     auto j = nlohmann::json::parse(meta["config"]);
                     j["n_heads"] = 2;
                     meta["config"] = j.dump();
                   })),
                   "n_heads"));
    CHECK(contains(load_error(tmp.file("missing.safetensors")), "missing.safetensors"));
  }
}
