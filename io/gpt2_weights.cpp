#include "io/gpt2_weights.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <map>
#include <stdexcept>

#include "autograd/node.h"
#include "io/checkpoint.h"
#include "io/file.h"
#include "tensor/one_line.h"

namespace nf {

namespace fs = std::filesystem;

namespace {

const std::string kPrefix = "transformer.";

// The tensors of one block, as Hugging Face names them after "h.<i>.".
const std::vector<std::string>& layer_tensor_names() {
  static const std::vector<std::string> names = {
      "ln_1.weight",      "ln_1.bias",      "attn.c_attn.weight", "attn.c_attn.bias",
      "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight",      "ln_2.bias",
      "mlp.c_fc.weight",  "mlp.c_fc.bias",  "mlp.c_proj.weight",  "mlp.c_proj.bias"};
  return names;
}
// The causal mask buffers older transformers versions saved with each block: not weights.
bool is_mask_buffer(const std::string& in_layer) { return in_layer == "attn.bias" || in_layer == "attn.masked_bias"; }
// Hugging Face's Conv1D weights ([in, out]): the only tensors whose layout differs from ours.
bool is_conv1d_weight(const std::string& in_layer) {
  return in_layer == "attn.c_attn.weight" || in_layer == "attn.c_proj.weight" || in_layer == "mlp.c_fc.weight" ||
         in_layer == "mlp.c_proj.weight";
}

// "h.12.mlp.c_fc.bias" -> layer 12, rest "mlp.c_fc.bias"; false when `name` is not of that form
// (the index in plain decimal, below the largest n_layer a config may have).
bool split_layer_name(const std::string& name, int64_t& layer, std::string& rest) {
  if (name.compare(0, 2, "h.") != 0) return false;
  const size_t dot = name.find('.', 2);
  if (dot == std::string::npos || dot == 2 || dot - 2 > 4) return false;
  const std::string digits = name.substr(2, dot - 2);
  if (digits.find_first_not_of("0123456789") != std::string::npos || (digits.size() > 1 && digits[0] == '0'))
    return false;
  layer = std::stoll(digits);
  if (layer >= GPTConfig::kMaxLayers) return false;
  rest = name.substr(dot + 1);
  return true;
}

// Float values of a stored tensor in any floating dtype GPT-2 files come in; every value finite.
std::vector<float> float_values(const RawTensor& r, const std::string& path, const std::string& name) {
  const size_t n = static_cast<size_t>(r.numel());
  std::vector<float> out(n);
  auto u16 = [&](size_t i) { return static_cast<uint16_t>(r.bytes[2 * i] | (r.bytes[2 * i + 1] << 8)); };
  if (r.dtype == "F32") {
    out = raw_tensor_values<float>(r);
  } else if (r.dtype == "F64") {
    const std::vector<double> d = raw_tensor_values<double>(r);
    for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(d[i]);
  } else if (r.dtype == "BF16") {
    // bfloat16 is the top half of a float32.
    for (size_t i = 0; i < n; ++i) {
      const uint32_t bits = static_cast<uint32_t>(u16(i)) << 16;
      std::memcpy(&out[i], &bits, 4);
    }
  } else if (r.dtype == "F16") {
    // IEEE half: 1 sign, 5 exponent (bias 15), 10 mantissa bits; every finite half is a float.
    for (size_t i = 0; i < n; ++i) {
      const uint16_t h = u16(i);
      const int exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
      float v = exponent == 0x1f ? (mantissa ? NAN : INFINITY)
                : exponent == 0  ? std::ldexp(static_cast<float>(mantissa), -24)
                                 : std::ldexp(static_cast<float>(1024 + mantissa), exponent - 25);
      out[i] = (h & 0x8000) ? -v : v;
    }
  } else {
    throw std::runtime_error(path + ": tensor '" + one_line(name) + "' has dtype " + one_line(r.dtype) +
                             ", expected F32, F16, BF16 or F64");
  }
  for (size_t i = 0; i < n; ++i)
    if (!std::isfinite(out[i]))
      throw std::runtime_error(path + ": tensor '" + one_line(name) + "' holds a non-finite value (at element " +
                               std::to_string(i) + ")");
  return out;
}

// The Hugging Face file being imported: its tensors under names without the "transformer."
// prefix GPT2LMHeadModel adds (GPT2Model's files have none).
class HfFile {
 public:
  HfFile(const SafetensorsFile& f, const std::string& path) : f_(f), path_(path) {
    if (f.find(kPrefix + "wte.weight")) prefix_ = kPrefix;
    else if (!f.find("wte.weight"))
      throw std::runtime_error(path + ": no tensor 'wte.weight' (nor 'transformer.wte.weight'): not GPT-2 weights in "
                               "Hugging Face's layout");
  }
  const std::string& path() const { return path_; }
  // The stored name of `name`.
  std::string stored(const std::string& name) const { return prefix_ + name; }
  const RawTensor* find(const std::string& name) const { return f_.find(stored(name)); }
  const RawTensor& at(const std::string& name) const {
    const RawTensor* r = find(name);
    if (!r) throw std::runtime_error(path_ + ": no tensor '" + one_line(stored(name)) + "' (GPT-2 has it)");
    return *r;
  }
  // `name`'s values, after checking that it is stored with `shape`.
  std::vector<float> values(const std::string& name, const Shape& shape) const {
    check_shape(name, shape);
    return float_values(at(name), path_, stored(name));
  }
  void check_shape(const std::string& name, const Shape& shape) const {
    const RawTensor& r = at(name);
    if (r.shape != shape)
      throw std::runtime_error(path_ + ": tensor '" + one_line(stored(name)) + "' has shape " + shape_str(r.shape) +
                               ", GPT-2 of these sizes stores it as " + shape_str(shape));
  }
  // n_layer: one more than the largest block index. Every name must be GPT-2's; the mask buffers
  // are skipped, and lm_head.weight, GPT2LMHeadModel's own, is checked against wte later.
  int64_t layers() const {
    int64_t n = 0;
    for (const auto& [stored_name, raw] : f_.tensors) {
      if (stored_name == "lm_head.weight") continue;
      std::string name = stored_name;
      bool ours = true;
      if (!prefix_.empty()) {
        ours = name.compare(0, prefix_.size(), prefix_) == 0;
        name = name.substr(ours ? prefix_.size() : 0);
      }
      int64_t layer = 0;
      std::string rest;
      if (ours && (name == "wte.weight" || name == "wpe.weight" || name == "ln_f.weight" || name == "ln_f.bias")) continue;
      if (ours && split_layer_name(name, layer, rest)) {
        const auto& known = layer_tensor_names();
        if (is_mask_buffer(rest) || std::find(known.begin(), known.end(), rest) != known.end()) {
          n = std::max(n, layer + 1);
          continue;
        }
      }
      throw std::runtime_error(path_ + ": unexpected tensor '" + one_line(stored_name) +
                               "': GPT-2 has wte, wpe, h.<i>.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, "
                               "mlp.c_proj}, ln_f and lm_head tied to wte");
    }
    if (n == 0) throw std::runtime_error(path_ + ": no blocks (no tensor 'h.0.ln_1.weight' nor any other 'h.<i>.…')");
    return n;
  }

 private:
  const SafetensorsFile& f_;
  std::string path_, prefix_;
};

// config.json's settings: n_head, and a refusal for whatever this project's GPT would compute
// differently. Sizes it states must agree with the tensors'.
int64_t read_hf_config(const nlohmann::json& j, const std::string& path, const GPTConfig& from_tensors) {
  if (!j.is_object()) throw std::runtime_error(path + ": expected a JSON object (GPT-2's config.json)");
  auto integer = [&](const char* key) -> int64_t {
    const auto& v = j.at(key);
    if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
      throw std::runtime_error(path + ": '" + key + "' must be an integer, got " + one_line(v.dump()));
    return v.get<int64_t>();
  };
  auto refuse = [&](const std::string& why) { throw std::runtime_error(path + ": " + why); };
  if (j.contains("model_type") && j["model_type"] != "gpt2")
    refuse("model_type is " + one_line(j["model_type"].dump()) + ", not \"gpt2\"");
  if (!j.contains("n_head")) refuse("no 'n_head' (GPT-2's number of heads is not in the tensors)");
  const int64_t n_head = integer("n_head");
  const std::pair<const char*, int64_t> sizes[] = {{"n_layer", from_tensors.n_layer},
                                                   {"n_embd", from_tensors.n_embd},
                                                   {"n_positions", from_tensors.block_size},
                                                   {"vocab_size", from_tensors.vocab_size}};
  for (const auto& [key, have] : sizes)
    if (j.contains(key) && integer(key) != have)
      refuse(std::string(key) + " is " + std::to_string(integer(key)) + " but the weights have " + std::to_string(have));
  if (j.contains("n_inner") && !j["n_inner"].is_null() && integer("n_inner") != 4 * from_tensors.n_embd)
    refuse("n_inner is " + std::to_string(integer("n_inner")) + "; this project's MLP is 4·n_embd = " +
           std::to_string(4 * from_tensors.n_embd) + " wide");
  if (j.contains("layer_norm_epsilon") && !(j["layer_norm_epsilon"].is_number() && j["layer_norm_epsilon"] == 1e-5))
    refuse("layer_norm_epsilon is " + one_line(j["layer_norm_epsilon"].dump()) + "; this project's LayerNorm uses 1e-05");
  if (j.contains("activation_function") && j["activation_function"] != "gelu_new" &&
      j["activation_function"] != "gelu_pytorch_tanh")
    refuse("activation_function is " + one_line(j["activation_function"].dump()) +
           "; this project's MLP uses GELU's tanh form (gelu_new)");
  auto flag_must_be = [&](const char* key, bool want, const std::string& why) {
    if (j.contains(key) && j[key] != want) refuse(std::string(key) + " is " + one_line(j[key].dump()) + "; " + why);
  };
  flag_must_be("scale_attn_weights", true, "this project's attention always scales the scores by 1/√d");
  flag_must_be("scale_attn_by_inverse_layer_idx", false, "this project's attention does not scale by the layer index");
  flag_must_be("add_cross_attention", false, "this project's GPT has no cross-attention");
  flag_must_be("tie_word_embeddings", true, "this project's lm_head is tied to wte");
  return n_head;
}

// Which rows of GPT-2's c_attn (q, k, v, each C wide) the attention's c_attn takes, in order.
std::vector<int64_t> c_attn_rows(AttentionKind kind, int64_t C) {
  const bool keys_are_queries = kind == AttentionKind::Symmetric || is_noise(kind);
  std::vector<int64_t> rows;
  for (int64_t block : keys_are_queries ? std::vector<int64_t>{0, 2} : std::vector<int64_t>{0, 1, 2})
    for (int64_t r = 0; r < C; ++r) rows.push_back(block * C + r);
  return rows;
}

}  // namespace

std::string find_gpt2_config(const std::string& weights_path, const std::string& config_json) {
  if (!config_json.empty()) return config_json;
  const fs::path beside = fs::path(weights_path).parent_path() / "config.json";
  std::error_code ec;
  return fs::is_regular_file(beside, ec) ? beside.string() : "";
}

std::string gpt2_import_problem(const std::string& attention) {
  AttentionKind kind;
  try {
    kind = parse_attention(attention);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  if (is_diff(kind))
    return attention + " attention cannot start from GPT-2: its heads are pairs of softmax branches with λ and a "
                       "sub-LayerNorm, GPT-2's are single softmaxes, and no rule keeps what GPT-2 learnt";
  return "";
}

std::unique_ptr<GPT> import_gpt2(const SafetensorsFile& weights, const std::string& weights_path,
                                 const nlohmann::json& hf_config, const std::string& config_path,
                                 const GPTConfig& choices) {
  if (const std::string why = gpt2_import_problem(choices.attention); !why.empty()) throw std::runtime_error(why);
  {
    // The chosen settings on their own (a dropout of 2 is not the file's fault): checked with
    // sizes any variant accepts.
    GPTConfig settings = choices;
    settings.n_layer = settings.n_embd = settings.block_size = settings.vocab_size = settings.lowrank = 1;
    settings.n_head = 1;
    settings.pos_bias = "none";
    try {
      settings.validate();
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(e.what());
    }
  }
  const HfFile file(weights, weights_path);

  // The sizes, from the shapes: wte [V, C], wpe [P, C], the block count from the names.
  GPTConfig cfg = choices;
  const RawTensor &wte = file.at("wte.weight"), &wpe = file.at("wpe.weight");
  if (wte.shape.size() != 2 || wpe.shape.size() != 2 || wpe.shape[1] != wte.shape[1])
    throw std::runtime_error(weights_path + ": wte.weight " + shape_str(wte.shape) + " and wpe.weight " +
                             shape_str(wpe.shape) + " are not [vocab_size, n_embd] and [n_positions, n_embd]");
  cfg.vocab_size = wte.shape[0];
  cfg.n_embd = wte.shape[1];
  cfg.block_size = wpe.shape[0];
  cfg.n_layer = file.layers();
  cfg.bias = true;           // GPT-2 has a bias in every Linear and LayerNorm
  cfg.pos_bias = "none";     // and learned positions only
  cfg.n_head = read_hf_config(hf_config, config_path, cfg);
  try {
    cfg.validate();
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(weights_path + ": this GPT-2 is not a model this project can build: " + e.what());
  }

  // Every tensor present with GPT-2's shape before anything of the model's size is allocated.
  const int64_t C = cfg.n_embd, V = cfg.vocab_size;
  file.check_shape("wte.weight", {V, C});
  file.check_shape("ln_f.weight", {C});
  file.check_shape("ln_f.bias", {C});
  const std::map<std::string, Shape> layer_shapes = {
      {"ln_1.weight", {C}},          {"ln_1.bias", {C}},          {"attn.c_attn.weight", {C, 3 * C}},
      {"attn.c_attn.bias", {3 * C}}, {"attn.c_proj.weight", {C, C}}, {"attn.c_proj.bias", {C}},
      {"ln_2.weight", {C}},          {"ln_2.bias", {C}},          {"mlp.c_fc.weight", {C, 4 * C}},
      {"mlp.c_fc.bias", {4 * C}},    {"mlp.c_proj.weight", {4 * C, C}}, {"mlp.c_proj.bias", {C}}};
  for (int64_t l = 0; l < cfg.n_layer; ++l)
    for (const std::string& t : layer_tensor_names()) file.check_shape("h." + std::to_string(l) + "." + t, layer_shapes.at(t));
  // GPT2LMHeadModel may store its head; this GPT's is wte itself, so it must be wte.
  if (const RawTensor* head = weights.find("lm_head.weight")) {
    if (head->shape != Shape{V, C} ||
        float_values(*head, weights_path, "lm_head.weight") != file.values("wte.weight", {V, C}))
      throw std::runtime_error(weights_path + ": lm_head.weight is not wte.weight; this project's lm_head is tied to "
                               "wte, so an untied head cannot be imported");
  }

  auto model = std::make_unique<GPT>(cfg);
  const std::vector<int64_t> rows = c_attn_rows(cfg.kind(), C);
  NoGradGuard no_grad;
  for (auto& [name, param] : model->named_parameters()) {
    // Our names are "transformer." + GPT-2's.
    const std::string hf = name.substr(kPrefix.size());
    int64_t layer = -1;
    std::string rest = hf;
    split_layer_name(hf, layer, rest);
    std::vector<float> v;
    if (rest == "attn.c_attn.weight" || rest == "attn.c_attn.bias") {
      // GPT-2's [C, 3C] (or [3C]) columns q | k | v -> our rows, as the attention lays them out.
      const bool weight = rest == "attn.c_attn.weight";
      const std::vector<float> src = file.values(hf, weight ? Shape{C, 3 * C} : Shape{3 * C});
      for (int64_t r : rows) {
        if (!weight) v.push_back(src[r]);
        else
          for (int64_t c = 0; c < C; ++c) v.push_back(src[c * 3 * C + r]);
      }
    } else if (is_conv1d_weight(rest)) {
      const Shape ours = param.shape();  // [out, in]; GPT-2 stores [in, out]
      const std::vector<float> src = file.values(hf, {ours[1], ours[0]});
      v.resize(src.size());
      for (int64_t o = 0; o < ours[0]; ++o)
        for (int64_t i = 0; i < ours[1]; ++i) v[o * ours[1] + i] = src[i * ours[0] + o];
    } else if (rest == "attn.noise_mu" || rest == "attn.noise_logvar" || rest == "attn.pairwise_c") {
      continue;  // not in GPT-2: the variant's own initial values (noise at its prior, c_h = 1)
    } else {
      v = file.values(hf, param.shape());
    }
    param.copy_(from_vector<float>(v, param.shape()));
  }
  return model;
}

std::unique_ptr<GPT> import_gpt2(const std::string& weights_path, const std::string& config_json,
                                 const GPTConfig& choices) {
  if (const std::string why = gpt2_import_problem(choices.attention); !why.empty()) throw std::runtime_error(why);
  const SafetensorsFile weights = load_safetensors(weights_path);
  const std::string config_path = find_gpt2_config(weights_path, config_json);
  if (config_path.empty())
    throw std::runtime_error(weights_path + ": n_head is not in the tensors and there is no config.json beside it: "
                             "give GPT-2's config.json (--config-json)");
  nlohmann::json hf;
  try {
    hf = nlohmann::json::parse(read_file(config_path));
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(config_path + ": not valid JSON");
  }
  return import_gpt2(weights, weights_path, hf, config_path, choices);
}

std::string gpt2_export_problem(const GPTConfig& cfg) {
  if (cfg.attention != "base")
    return "GPT-2's attention is base, this model's is " + cfg.attention + ": it has no GPT-2 form";
  if (!cfg.bias) return "this model has no biases (bias false); GPT-2 has a bias in every Linear and LayerNorm";
  if (cfg.pos_bias != "none")
    return "this model adds pos_bias " + cfg.pos_bias + "; GPT-2 has learned position embeddings only";
  return "";
}

nlohmann::json gpt2_config_json(const GPTConfig& cfg, const std::string& tokenizer_meta) {
  // GPT-2's <|endoftext|> is its last token, 50256, under GPT-2's own tokenizer; under any other
  // the model has no such token, and null says so (transformers' default would be 50256).
  nlohmann::json eos = nullptr;
  const nlohmann::json tok = nlohmann::json::parse(tokenizer_meta, nullptr, /*allow_exceptions=*/false);
  if (tok.is_object() && tok.contains("tokenizer") && tok["tokenizer"] == "gpt2" && cfg.vocab_size == 50257) eos = 50256;
  // Sorted keys, as transformers writes them. This GPT drops out of the attention weights and
  // both residual branches, never the embeddings.
  return {{"activation_function", "gelu_new"},
          {"architectures", nlohmann::json::array({"GPT2LMHeadModel"})},
          {"attn_pdrop", cfg.dropout},
          {"bos_token_id", eos},
          {"embd_pdrop", 0.0},
          {"eos_token_id", eos},
          {"initializer_range", 0.02},
          {"layer_norm_epsilon", 1e-5},
          {"model_type", "gpt2"},
          {"n_ctx", cfg.block_size},
          {"n_embd", cfg.n_embd},
          {"n_head", cfg.n_head},
          {"n_inner", nullptr},
          {"n_layer", cfg.n_layer},
          {"n_positions", cfg.block_size},
          {"reorder_and_upcast_attn", false},
          {"resid_pdrop", cfg.dropout},
          {"scale_attn_by_inverse_layer_idx", false},
          {"scale_attn_weights", true},
          {"tie_word_embeddings", true},
          {"torch_dtype", "float32"},
          {"use_cache", true},
          {"vocab_size", cfg.vocab_size}};
}

std::vector<std::pair<std::string, RawTensor>> gpt2_tensors(const GPT& model) {
  std::vector<std::pair<std::string, RawTensor>> out;
  for (const auto& [name, t] : model.named_parameters()) {
    int64_t layer = -1;
    std::string rest;
    const bool conv1d = split_layer_name(name.substr(kPrefix.size()), layer, rest) && is_conv1d_weight(rest);
    out.emplace_back(name, to_raw(conv1d ? t.t() : t));  // to_raw makes the transpose contiguous
  }
  return out;
}

void export_gpt2(const GPT& model, const std::string& tokenizer_meta, const std::string& dir) {
  if (const std::string why = gpt2_export_problem(model.config()); !why.empty()) throw std::runtime_error(why);
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir + ": cannot create the folder: " + ec.message());
  // transformers refuses a safetensors file whose metadata lacks format "pt".
  save_safetensors((fs::path(dir) / "model.safetensors").string(), gpt2_tensors(model), {{"format", "pt"}});
  write_file_atomic((fs::path(dir) / "config.json").string(),
                    gpt2_config_json(model.config(), tokenizer_meta).dump(2) + "\n");
  if (!tokenizer_meta.empty()) write_file_atomic((fs::path(dir) / "meta.json").string(), tokenizer_meta + "\n");
}

}  // namespace nf
