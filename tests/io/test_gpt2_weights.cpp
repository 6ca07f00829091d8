// Hugging Face GPT-2 weights (io/gpt2_weights.cpp, cli/cmd_gpt2_weights.cpp). The test writes a
// small GPT-2 in Hugging Face's layout itself — "transformer."-prefixed names, Conv1D weights
// [in, out], the attn.bias mask buffers — and checks that the imported model's logits are those
// of a plain-loop float64 GPT-2 forward over the file's own arrays (written here, not through the
// project's modules); that export then import gives the same weights and logits; the rule of
// each variant (symmetric keeps the query block, the noise starts at its prior); and the
// one-line errors of both commands.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "io/checkpoint.h"
#include "io/gpt2_weights.h"
#include "io/safetensors.h"
#include "models/gpt.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;
namespace fs = std::filesystem;

namespace {

// The fixture's sizes: 2 layers, n_embd 8, 2 heads, n_positions 6, vocabulary 11.
constexpr int64_t L = 2, C = 8, H = 2, P = 6, V = 11;

// A GPT-2 as Hugging Face stores it: each tensor's float32 values and shape, by the name without
// the "transformer." prefix.
struct HfGpt2 {
  std::map<std::string, std::vector<float>> values;
  std::map<std::string, Shape> shapes;

  const std::vector<float>& operator[](const std::string& name) const { return values.at(name); }
  // Element [i][j] of the 2-D tensor `name`, in float64.
  double at(const std::string& name, int64_t i, int64_t j) const {
    return values.at(name)[static_cast<size_t>(i * shapes.at(name)[1] + j)];
  }
};

// Random weights: N(0, 0.4²) for matrices and biases, 1 + N(0, 0.2²) for LayerNorm gains, so the
// attention is far from uniform and every term moves the logits.
HfGpt2 random_gpt2(uint64_t seed) {
  HfGpt2 m;
  Generator g(seed);
  auto add = [&](const std::string& name, Shape shape, double mean, double std) {
    std::vector<float> v = randn(shape, g, DType::F32).to_vector<float>();
    for (float& x : v) x = static_cast<float>(mean + std * x);
    m.values[name] = v;
    m.shapes[name] = shape;
  };
  add("wte.weight", {V, C}, 0, 0.4);
  add("wpe.weight", {P, C}, 0, 0.4);
  for (int64_t l = 0; l < L; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    add(h + "ln_1.weight", {C}, 1, 0.2);
    add(h + "ln_1.bias", {C}, 0, 0.2);
    add(h + "attn.c_attn.weight", {C, 3 * C}, 0, 0.4);  // Conv1D: [in, out], out = q | k | v
    add(h + "attn.c_attn.bias", {3 * C}, 0, 0.2);
    add(h + "attn.c_proj.weight", {C, C}, 0, 0.4);
    add(h + "attn.c_proj.bias", {C}, 0, 0.2);
    add(h + "ln_2.weight", {C}, 1, 0.2);
    add(h + "ln_2.bias", {C}, 0, 0.2);
    add(h + "mlp.c_fc.weight", {C, 4 * C}, 0, 0.4);
    add(h + "mlp.c_fc.bias", {4 * C}, 0, 0.2);
    add(h + "mlp.c_proj.weight", {4 * C, C}, 0, 0.4);
    add(h + "mlp.c_proj.bias", {C}, 0, 0.2);
  }
  add("ln_f.weight", {C}, 1, 0.2);
  add("ln_f.bias", {C}, 0, 0.2);
  return m;
}

// Hugging Face's config.json for the fixture.
nlohmann::json hf_config() {
  return {{"model_type", "gpt2"}, {"n_layer", L}, {"n_head", H}, {"n_embd", C}, {"n_positions", P}, {"n_ctx", P},
          {"vocab_size", V}, {"layer_norm_epsilon", 1e-5}, {"activation_function", "gelu_new"},
          {"architectures", nlohmann::json::array({"GPT2LMHeadModel"})}, {"resid_pdrop", 0.1}};
}

// Writes `m` as GPT2LMHeadModel's model.safetensors into `dir` (names under "transformer.", with
// the causal-mask buffers older transformers versions saved), and config.json beside it unless
// `config` is null. `edit` may change the tensors before they are written.
std::string write_hf(const std::string& dir, const HfGpt2& m, const nlohmann::json& config = hf_config(),
                     const std::function<void(std::vector<std::pair<std::string, RawTensor>>&)>& edit = {}) {
  fs::create_directories(dir);
  std::vector<std::pair<std::string, RawTensor>> tensors;
  for (const auto& [name, v] : m.values) tensors.emplace_back("transformer." + name, make_raw_tensor(m.shapes.at(name), v));
  std::vector<float> tril(P * P);
  for (int64_t i = 0; i < P; ++i)
    for (int64_t j = 0; j < P; ++j) tril[i * P + j] = j <= i ? 1.0f : 0.0f;
  for (int64_t l = 0; l < L; ++l) {
    tensors.emplace_back("transformer.h." + std::to_string(l) + ".attn.bias", make_raw_tensor<float>({1, 1, P, P}, tril));
    tensors.emplace_back("transformer.h." + std::to_string(l) + ".attn.masked_bias", make_raw_tensor<float>({}, {-1e4f}));
  }
  if (edit) edit(tensors);
  const std::string path = (fs::path(dir) / "model.safetensors").string();
  save_safetensors(path, tensors, {{"format", "pt"}});
  if (!config.is_null()) write_bytes(fs::path(dir) / "config.json", config.dump(2));
  return path;
}

// ---- the reference: GPT-2's forward in plain float64 loops over the file's arrays ------------
using Matrix = std::vector<std::vector<double>>;  // [T][width]

Matrix layer_norm(const Matrix& x, const std::vector<float>& w, const std::vector<float>& b) {
  Matrix y = x;
  for (size_t t = 0; t < x.size(); ++t) {
    double mean = 0, var = 0;
    for (double v : x[t]) mean += v / C;
    for (double v : x[t]) var += (v - mean) * (v - mean) / C;
    for (int64_t c = 0; c < C; ++c) y[t][c] = (x[t][c] - mean) / std::sqrt(var + 1e-5) * w[c] + b[c];
  }
  return y;
}
// Conv1D: y = x W + b with W stored [in, out].
Matrix conv1d(const Matrix& x, const HfGpt2& m, const std::string& name) {
  const int64_t in = m.shapes.at(name + ".weight")[0], out = m.shapes.at(name + ".weight")[1];
  Matrix y(x.size(), std::vector<double>(out));
  for (size_t t = 0; t < x.size(); ++t)
    for (int64_t o = 0; o < out; ++o) {
      double s = m[name + ".bias"][o];
      for (int64_t i = 0; i < in; ++i) s += x[t][i] * m.at(name + ".weight", i, o);
      y[t][o] = s;
    }
  return y;
}

// Logits [T][V] of one sequence.
Matrix reference_logits(const HfGpt2& m, const std::vector<int64_t>& tokens) {
  const int64_t T = static_cast<int64_t>(tokens.size()), d = C / H;
  Matrix x(T, std::vector<double>(C));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t c = 0; c < C; ++c) x[t][c] = m.at("wte.weight", tokens[t], c) + m.at("wpe.weight", t, c);
  for (int64_t l = 0; l < L; ++l) {
    const std::string h = "h." + std::to_string(l) + ".";
    const Matrix qkv = conv1d(layer_norm(x, m[h + "ln_1.weight"], m[h + "ln_1.bias"]), m, h + "attn.c_attn");
    Matrix y(T, std::vector<double>(C, 0.0));
    for (int64_t head = 0; head < H; ++head)
      for (int64_t i = 0; i < T; ++i) {
        // Query i against keys 0 … i: softmax(q·k / √d), then the weighted values.
        std::vector<double> s(i + 1);
        double top = -1e300, total = 0;
        for (int64_t j = 0; j <= i; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < d; ++e) dot += qkv[i][head * d + e] * qkv[j][C + head * d + e];
          s[j] = dot / std::sqrt(static_cast<double>(d));
          top = std::max(top, s[j]);
        }
        for (int64_t j = 0; j <= i; ++j) total += s[j] = std::exp(s[j] - top);
        for (int64_t j = 0; j <= i; ++j)
          for (int64_t e = 0; e < d; ++e) y[i][head * d + e] += s[j] / total * qkv[j][2 * C + head * d + e];
      }
    const Matrix a = conv1d(y, m, h + "attn.c_proj");
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) x[t][c] += a[t][c];
    Matrix f = conv1d(layer_norm(x, m[h + "ln_2.weight"], m[h + "ln_2.bias"]), m, h + "mlp.c_fc");
    for (auto& row : f)
      for (double& u : row) u = 0.5 * u * (1 + std::tanh(std::sqrt(2 / M_PI) * (u + 0.044715 * u * u * u)));
    const Matrix o = conv1d(f, m, h + "mlp.c_proj");
    for (int64_t t = 0; t < T; ++t)
      for (int64_t c = 0; c < C; ++c) x[t][c] += o[t][c];
  }
  const Matrix hf = layer_norm(x, m["ln_f.weight"], m["ln_f.bias"]);
  Matrix logits(T, std::vector<double>(V));
  for (int64_t t = 0; t < T; ++t)
    for (int64_t v = 0; v < V; ++v)
      for (int64_t c = 0; c < C; ++c) logits[t][v] += hf[t][c] * m.at("wte.weight", v, c);  // tied lm_head
  return logits;
}

const std::vector<int64_t> kTokens = {3, 10, 0, 7, 7, 2};

// The model's eval-mode logits for kTokens, as a flat [T·V] list.
std::vector<double> logits_of(GPT& model) {
  model.eval();
  NoGradGuard ng;
  return values(model.forward(ids(kTokens, 1, P)).logits);
}

GPTConfig choose(const std::string& attention) {
  GPTConfig c;
  c.attention = attention;
  c.dropout = 0;
  return c;
}

struct Run {
  int code = -1;
  std::string out, err;
};

// `noiseformer <args>` with stdout and stderr captured into `tmp`.
Run run(const TempDir& tmp, const std::string& args) {
  static int n = 0;
  const std::string out = tmp.file("stdout" + std::to_string(n)), err = tmp.file("stderr" + std::to_string(n));
  ++n;
  const int st = std::system((cli_binary() + " " + args + " >" + out + " 2>" + err + " </dev/null").c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128, read_bytes(out), read_bytes(err)};
}

// A failure: a non-zero status below the signal range, and one stderr line
// "noiseformer <cmd>: error: …" holding `part`.
void check_error(const Run& r, const std::string& cmd, const std::string& part) {
  CAPTURE(r.err);
  CHECK(r.code != 0);
  CHECK(r.code < 128);
  CHECK(r.err.rfind("noiseformer " + cmd + ": error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(contains(r.err, part));
}

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("import-gpt2: the logits are GPT-2's, computed in float64 straight from the file's arrays") {
    TempDir tmp;
    const HfGpt2 hf = random_gpt2(11);
    const std::string path = write_hf(tmp.file("hf"), hf);
    std::unique_ptr<GPT> model = import_gpt2(path, "", choose("base"));
    const GPTConfig& cfg = model->config();
    CHECK(cfg.n_layer == L);
    CHECK(cfg.n_head == H);
    CHECK(cfg.n_embd == C);
    CHECK(cfg.block_size == P);
    CHECK(cfg.vocab_size == V);
    CHECK(cfg.bias);
    CHECK(cfg.attention == "base");

    const Matrix want = reference_logits(hf, kTokens);
    std::vector<double> flat;
    for (const auto& row : want) flat.insert(flat.end(), row.begin(), row.end());
    const std::vector<double> got = logits_of(*model);
    CHECK(worst_error(got, flat) <= 1e-5);
    // Not a vacuous match: the logits spread over several units.
    CHECK(*std::max_element(flat.begin(), flat.end()) - *std::min_element(flat.begin(), flat.end()) > 1.0);

    // GPT2Model's names (no prefix) in float64 read the same way.
    std::vector<std::pair<std::string, RawTensor>> plain;
    for (const auto& [name, v] : hf.values)
      plain.emplace_back(name, make_raw_tensor<double>(hf.shapes.at(name), std::vector<double>(v.begin(), v.end())));
    save_safetensors(tmp.file("hf/plain.safetensors"), plain);
    CHECK(logits_of(*import_gpt2(tmp.file("hf/plain.safetensors"), "", choose("base"))) == got);
  }

  TEST_CASE("import-gpt2 reads float16 and bfloat16 files as the float32 values they hold") {
    TempDir tmp;
    const HfGpt2 hf = random_gpt2(16);
    // Each value cut to what the 16-bit format holds exactly: the float32 with its low mantissa
    // bits cleared (float16: 13 of them, and 0 below float16's smallest normal, 2^-14).
    auto halves = [&](bool bf16) {
      HfGpt2 cut = hf;
      std::vector<std::pair<std::string, RawTensor>> stored;
      for (auto& [name, v] : cut.values) {
        RawTensor r{bf16 ? "BF16" : "F16", cut.shapes.at(name), {}};
        for (float& x : v) {
          uint32_t bits;
          std::memcpy(&bits, &x, 4);
          uint16_t h;
          if (bf16) {
            bits &= 0xffff0000u;
            h = static_cast<uint16_t>(bits >> 16);
          } else if (std::fabs(x) < 0x1p-14f) {
            bits &= 0x80000000u;
            h = static_cast<uint16_t>(bits >> 16);
          } else {
            bits &= 0xffffe000u;
            const uint32_t exponent = ((bits >> 23) & 0xff) - 127 + 15;
            h = static_cast<uint16_t>(((bits >> 16) & 0x8000) | (exponent << 10) | ((bits >> 13) & 0x3ff));
          }
          std::memcpy(&x, &bits, 4);
          r.bytes.push_back(static_cast<uint8_t>(h & 0xff));
          r.bytes.push_back(static_cast<uint8_t>(h >> 8));
        }
        stored.emplace_back("transformer." + name, r);
      }
      const std::string dir = tmp.file(bf16 ? "bf16" : "f16");
      fs::create_directories(dir);
      save_safetensors(dir + "/model.safetensors", stored);
      write_bytes(dir + "/config.json", hf_config().dump());
      return std::make_pair(dir + "/model.safetensors", write_hf(dir + "/f32", cut));
    };
    for (bool bf16 : {false, true}) {
      CAPTURE(bf16);
      const auto [half, full] = halves(bf16);
      std::unique_ptr<GPT> a = import_gpt2(half, "", choose("base")), b = import_gpt2(full, "", choose("base"));
      CHECK(same_weights(*a, *b));
    }
  }

  TEST_CASE("export-gpt2 writes Hugging Face's layout; importing it back gives identical weights and logits") {
    TempDir tmp;
    const HfGpt2 hf = random_gpt2(12);
    std::unique_ptr<GPT> model = import_gpt2(write_hf(tmp.file("hf"), hf), "", choose("base"));
    const std::string meta = R"({"tokenizer":"char","vocab_size":11,"chars":"abcdefghij\n"})";
    export_gpt2(*model, meta, tmp.file("out"));

    // The file: every tensor of the original under the same name, bit for bit, F32; no buffers,
    // no lm_head; transformers' format tag.
    const SafetensorsFile f = load_safetensors(tmp.file("out/model.safetensors"));
    CHECK(f.metadata == std::map<std::string, std::string>{{"format", "pt"}});
    CHECK(f.tensors.size() == hf.values.size());
    for (const auto& entry : hf.values) {
      const std::string& name = entry.first;  // a plain name: clang 14 cannot CAPTURE a structured binding
      const std::vector<float>& v = entry.second;
      CAPTURE(name);
      const RawTensor* r = f.find("transformer." + name);
      REQUIRE(r != nullptr);
      CHECK(r->dtype == "F32");
      CHECK(r->shape == hf.shapes.at(name));
      CHECK(raw_tensor_values<float>(*r) == v);
    }
    const nlohmann::json cfg = nlohmann::json::parse(read_bytes(tmp.file("out/config.json")));
    CHECK(cfg["model_type"] == "gpt2");
    CHECK(cfg["architectures"] == nlohmann::json::array({"GPT2LMHeadModel"}));
    CHECK(cfg["activation_function"] == "gelu_new");
    CHECK(cfg["n_layer"] == L);
    CHECK(cfg["n_head"] == H);
    CHECK(cfg["n_embd"] == C);
    CHECK(cfg["n_positions"] == P);
    CHECK(cfg["n_ctx"] == P);
    CHECK(cfg["vocab_size"] == V);
    CHECK(cfg["layer_norm_epsilon"] == 1e-5);
    CHECK(cfg["tie_word_embeddings"] == true);
    CHECK(cfg["eos_token_id"].is_null());  // a char vocabulary has no <|endoftext|>
    CHECK(read_bytes(tmp.file("out/meta.json")) == meta + "\n");

    // Back in (config.json found beside the weights): the same model.
    std::unique_ptr<GPT> again = import_gpt2(tmp.file("out/model.safetensors"), "", choose("base"));
    CHECK(again->config().to_json() == model->config().to_json());
    CHECK(same_weights(*again, *model));
    CHECK(logits_of(*again) == logits_of(*model));

    // A GPT-2-sized vocabulary under the gpt2 tokenizer names <|endoftext|>.
    GPTConfig big = model->config();
    big.vocab_size = 50257;
    CHECK(gpt2_config_json(big, R"({"tokenizer":"gpt2","vocab_size":50257})")["eos_token_id"] == 50256);
    CHECK(gpt2_config_json(big, "")["bos_token_id"].is_null());
  }

  TEST_CASE("the variants' rule: symmetric keeps the query block and drops the keys; noise adds its prior") {
    TempDir tmp;
    const HfGpt2 hf = random_gpt2(13);
    const std::string path = write_hf(tmp.file("hf"), hf);
    const std::vector<double> base = logits_of(*import_gpt2(path, "", choose("base")));

    std::unique_ptr<GPT> sym = import_gpt2(path, "", choose("symmetric"));
    for (int64_t l = 0; l < L; ++l) {
      const std::string h = "h." + std::to_string(l) + ".attn.c_attn.";
      const std::vector<double> w = values(param(*sym, "transformer." + h + "weight")),
                                b = values(param(*sym, "transformer." + h + "bias"));
      REQUIRE(w.size() == static_cast<size_t>(2 * C * C));
      // Row r of ours is column r (q) or column 2C + r − C (v) of GPT-2's [C, 3C].
      for (int64_t r = 0; r < 2 * C; ++r) {
        const int64_t col = r < C ? r : r + C;
        CHECK(b[r] == hf[h + "bias"][col]);
        for (int64_t c = 0; c < C; ++c) CHECK(w[r * C + c] == hf.at(h + "weight", c, col));
      }
    }
    CHECK(values(param(*sym, "transformer.h.1.mlp.c_fc.weight")) ==
          values(param(*import_gpt2(path, "", choose("base")), "transformer.h.1.mlp.c_fc.weight")));
    const std::vector<double> sym_logits = logits_of(*sym);
    for (double v : sym_logits) CHECK(std::isfinite(v));
    CHECK(sym_logits != base);  // QQᵀ is not QKᵀ: a start to fine-tune, not GPT-2 itself

    // noise-v1/v2: symmetric's tensors plus μ = log σ² = 0 — in eval mode (N = μ = 0) the same
    // logits as symmetric's.
    for (const char* a : {"noise-v1", "noise-v2"}) {
      for (const char* mean : {"scalar", "relpos"}) {
        CAPTURE(a);
        CAPTURE(mean);
        GPTConfig c = choose(a);
        c.noise_mean = mean;
        c.kl_weight = 0.01;
        std::unique_ptr<GPT> noise = import_gpt2(path, "", c);
        CHECK(noise->config().kl_weight == 0.01);
        const Shape s = std::string(mean) == "relpos" ? (std::string(a) == "noise-v2" ? Shape{H, P} : Shape{P})
                                                      : Shape{std::string(a) == "noise-v2" ? H : 1};
        for (const char* n : {"noise_mu", "noise_logvar"}) {
          const Tensor t = param(*noise, std::string("transformer.h.0.attn.") + n);
          CHECK(t.shape() == s);
          for (double v : values(t)) CHECK(v == 0.0);
        }
        CHECK(values(param(*noise, "transformer.h.1.attn.c_attn.weight")) ==
              values(param(*sym, "transformer.h.1.attn.c_attn.weight")));
        CHECK(worst_error(logits_of(*noise), sym_logits) <= 1e-6);
        // It trains: a forward with targets has a loss and a KL term, both finite.
        noise->train();
        GPTOutput o = noise->forward(ids(kTokens, 1, P), ids({10, 0, 7, 7, 2, 3}, 1, P));
        CHECK(std::isfinite(o.loss.item()));
        CHECK(o.term("kl").defined());
      }
    }

    // selective: base's tensors unchanged (it adds none).
    std::unique_ptr<GPT> sel = import_gpt2(path, "", choose("selective"));
    CHECK(values(param(*sel, "transformer.h.0.attn.c_attn.weight")) ==
          values(param(*import_gpt2(path, "", choose("base")), "transformer.h.0.attn.c_attn.weight")));
    for (double v : logits_of(*sel)) CHECK(std::isfinite(v));

    CHECK(contains(gpt2_import_problem("diff"), "pairs of softmax branches"));
    CHECK(contains(gpt2_import_problem("shared-diff"), "pairs of softmax branches"));
    CHECK(gpt2_import_problem("noise-v2").empty());
  }

  TEST_CASE("what import refuses: missing or mis-shaped tensors, an untied head, settings GPT-2's form lacks") {
    TempDir tmp;
    const HfGpt2 hf = random_gpt2(14);
    auto error_with = [&](const std::string& name, const nlohmann::json& config,
                          const std::function<void(std::vector<std::pair<std::string, RawTensor>>&)>& edit) {
      const std::string path = write_hf(tmp.file(name), hf, config, edit);
      return error_of([&] { import_gpt2(path, "", choose("base")); });
    };
    auto drop = [](const std::string& name) {
      return [name](std::vector<std::pair<std::string, RawTensor>>& ts) {
        ts.erase(std::remove_if(ts.begin(), ts.end(), [&](const auto& p) { return p.first == name; }), ts.end());
      };
    };
    auto replace = [](const std::string& name, RawTensor r) {
      return [name, r](std::vector<std::pair<std::string, RawTensor>>& ts) {
        for (auto& p : ts)
          if (p.first == name) p.second = r;
      };
    };
    std::string e = error_with("missing", hf_config(), drop("transformer.h.1.mlp.c_fc.bias"));
    CHECK(contains(e, "no tensor 'transformer.h.1.mlp.c_fc.bias'"));
    // nn.Linear's [out, in] where Conv1D's [in, out] belongs (a nanoGPT file, say).
    const RawTensor linear_layout = make_raw_tensor<float>({3 * C, C}, std::vector<float>(3 * C * C));
    e = error_with("shape", hf_config(), replace("transformer.h.0.attn.c_attn.weight", linear_layout));
    CHECK(contains(e, "'transformer.h.0.attn.c_attn.weight' has shape [24, 8]"));
    CHECK(contains(e, "[8, 24]"));
    e = error_with("unexpected", hf_config(), [](auto& ts) {
      ts.emplace_back("transformer.h.0.attn.q_proj.weight", make_raw_tensor<float>({1}, {0.f}));
    });
    CHECK(contains(e, "unexpected tensor 'transformer.h.0.attn.q_proj.weight'"));
    e = error_with("untied", hf_config(), [](auto& ts) {
      ts.emplace_back("lm_head.weight", make_raw_tensor<float>({V, C}, std::vector<float>(V * C)));
    });
    CHECK(contains(e, "untied head"));
    // A stored head equal to wte is GPT2LMHeadModel's tied one: accepted.
    const std::string tied = write_hf(tmp.file("tied"), hf, hf_config(), [&](auto& ts) {
      ts.emplace_back("lm_head.weight", make_raw_tensor(hf.shapes.at("wte.weight"), hf["wte.weight"]));
    });
    CHECK(import_gpt2(tied, "", choose("base"))->config().n_layer == L);

    nlohmann::json no_head = hf_config();
    no_head.erase("n_head");
    CHECK(contains(error_with("no_head", no_head, {}), "no 'n_head'"));
    CHECK(contains(error_with("no_config", nullptr, {}), "no config.json beside it"));
    nlohmann::json eps = hf_config();
    eps["layer_norm_epsilon"] = 1e-6;
    CHECK(contains(error_with("eps", eps, {}), "layer_norm_epsilon"));
    nlohmann::json act = hf_config();
    act["activation_function"] = "relu";
    CHECK(contains(error_with("act", act, {}), "tanh form"));
    nlohmann::json wide = hf_config();
    wide["n_embd"] = 16;
    CHECK(contains(error_with("wide", wide, {}), "n_embd is 16 but the weights have 8"));
    nlohmann::json odd = hf_config();
    odd["n_head"] = 3;
    CHECK(contains(error_with("odd", odd, {}), "divisible by n_head"));
    // --config-json wins over the file beside the weights.
    write_bytes(tmp.file("given.json"), hf_config().dump());
    CHECK(import_gpt2(write_hf(tmp.file("given"), hf, no_head), tmp.file("given.json"), choose("base"))->config().n_head == H);
    CHECK(contains(error_of([&] { import_gpt2(tmp.file("given/model.safetensors"), "", choose("diff")); }),
                   "pairs of softmax branches"));
  }

  TEST_CASE("import-gpt2 and export-gpt2 through the command line: eval and sample run; one-line errors") {
    TempDir tmp;
    const HfGpt2 hf = random_gpt2(15);
    const std::string from = write_hf(tmp.file("hf"), hf);
    // A char corpus of exactly V = 11 characters, so its meta.json fits the model.
    std::string text;
    Generator g(5);
    for (int i = 0; i < 600; ++i) text += "abcdefghij\n"[g.next_u64() % 11];
    const std::string data = tmp.file("data");
    prepare_dataset(text + "abcdefghij\n", data, "char", 0, 0.2);

    const std::string ckpt = tmp.file("ckpt.safetensors");
    Run r = run(tmp, "import-gpt2 --from " + from + " --out " + ckpt + " --meta " + data + "/meta.json");
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(contains(r.out, "base attention, 2 layers, 2 heads, n_embd 8"));
    LoadedModel lm = load_model(ckpt);
    CHECK(logits_of(*lm.model) == logits_of(*import_gpt2(from, "", choose("base"))));
    CHECK(nlohmann::json::parse(lm.tokenizer_meta)["vocab_size"] == V);
    r = run(tmp, "eval --checkpoint " + ckpt + " --data " + data);
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(contains(r.out, "\"loss\":"));
    r = run(tmp, "sample --checkpoint " + ckpt + " --prompt abc --max-new-tokens 8");
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(r.out.rfind("abc", 0) == 0);

    r = run(tmp, "import-gpt2 --from " + from + " --out " + tmp.file("noise.safetensors") +
                     " --attention noise-v2 --noise-mean relpos");
    CHECK_MESSAGE(r.code == 0, r.err);
    CHECK(contains(r.out, "no tokenizer stored"));
    CHECK(load_model(tmp.file("noise.safetensors")).model->config().noise_mean == "relpos");

    r = run(tmp, "export-gpt2 --checkpoint " + ckpt + " --out " + tmp.file("export"));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(fs::exists(tmp.file("export/config.json")));
    CHECK(fs::exists(tmp.file("export/meta.json")));
    r = run(tmp, "import-gpt2 --from " + tmp.file("export/model.safetensors") + " --out " + tmp.file("back.safetensors") +
                     " --meta " + tmp.file("export/meta.json"));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    LoadedModel back = load_model(tmp.file("back.safetensors"));
    CHECK(same_weights(*back.model, *lm.model));
    CHECK(back.tokenizer_meta == lm.tokenizer_meta);

    // Errors: one line, non-zero status, nothing written.
    const std::string missing = write_hf(tmp.file("missing"), hf, hf_config(), [](auto& ts) {
      ts.erase(std::remove_if(ts.begin(), ts.end(), [](const auto& p) { return p.first == "transformer.ln_f.bias"; }), ts.end());
    });
    check_error(run(tmp, "import-gpt2 --from " + missing + " --out " + tmp.file("x.safetensors")), "import-gpt2",
                "no tensor 'transformer.ln_f.bias'");
    const std::string shape = write_hf(tmp.file("shape"), hf, hf_config(), [](auto& ts) {
      for (auto& p : ts)
        if (p.first == "transformer.h.1.mlp.c_fc.weight")
          p.second = make_raw_tensor<float>({C, 3 * C}, std::vector<float>(3 * C * C));
    });
    check_error(run(tmp, "import-gpt2 --from " + shape + " --out " + tmp.file("x.safetensors")), "import-gpt2",
                "has shape [8, 24]");
    const std::string no_config = write_hf(tmp.file("no_config"), hf, nullptr);
    check_error(run(tmp, "import-gpt2 --from " + no_config + " --out " + tmp.file("x.safetensors")), "import-gpt2",
                "n_head");
    check_error(run(tmp, "import-gpt2 --from " + from + " --out " + tmp.file("x.safetensors") + " --attention diff"),
                "import-gpt2", "diff attention cannot start from GPT-2");
    check_error(run(tmp, "import-gpt2 --from " + from + " --out " + tmp.file("x.safetensors") + " --meta " +
                             tmp.file("export/config.json")),
                "import-gpt2", "config.json");
    CHECK_FALSE(fs::exists(tmp.file("x.safetensors")));

    GPT diff(tiny_gpt("diff", 8, 6), 3);
    save_model(tmp.file("diff.safetensors"), diff, "");
    check_error(run(tmp, "export-gpt2 --checkpoint " + tmp.file("diff.safetensors") + " --out " + tmp.file("d")),
                "export-gpt2", "this model's is diff");
    GPTConfig no_bias = tiny_gpt("base", 8, 6);
    no_bias.bias = false;
    save_model(tmp.file("nobias.safetensors"), GPT(no_bias), "");
    check_error(run(tmp, "export-gpt2 --checkpoint " + tmp.file("nobias.safetensors") + " --out " + tmp.file("d")),
                "export-gpt2", "no biases");
    GPTConfig alibi = tiny_gpt("base", 8, 6);
    alibi.pos_bias = "alibi";
    save_model(tmp.file("alibi.safetensors"), GPT(alibi), "");
    check_error(run(tmp, "export-gpt2 --checkpoint " + tmp.file("alibi.safetensors") + " --out " + tmp.file("d")),
                "export-gpt2", "pos_bias alibi");
    CHECK_FALSE(fs::exists(tmp.file("d")));
  }
}
