#pragma once
// Hugging Face GPT-2 weights and this project's GPT, both ways (docs/gpt2.md):
//   import: a `model.safetensors` in Hugging Face's GPT-2 layout (+ its config.json) -> a GPT of
//           attention base, symmetric, noise-v1, noise-v2 or selective, by the rules below;
//   export: a base GPT -> `config.json` + `model.safetensors` that transformers' GPT2LMHeadModel
//           opens.
// The two layouts name the same tensors (wte, wpe, h.<i>.ln_1, attn.c_attn, …) but Hugging Face
// keeps GPT-2's Conv1D modules, whose weight is stored [in, out] — transposed relative to this
// project's Linear [out, in]. Embeddings and LayerNorm tensors are the same in both.
//
// The import rule per attention, so a variant can be fine-tuned from GPT-2 (c_attn's rows as
// docs/formats.md §3 lists them, q/k/v the three C-wide blocks of GPT-2's c_attn):
//   base, selective    c_attn = [q; k; v], everything else as stored (selective adds no tensor)
//   symmetric          c_attn = [q; v]: the query projection is kept and becomes the keys too
//   noise-v1, noise-v2 as symmetric, plus noise_mu and noise_logvar at their initial values
//                      (0 and 0: the noise starts at its N(0, 1) prior)
//   diff, shared-diff  refused: their heads are pairs of softmax branches with λ and a
//                      sub-LayerNorm, GPT-2's are not; no rule keeps what GPT-2 learnt
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "io/safetensors.h"
#include "models/gpt.h"

namespace nf {

// The config.json that goes with a weights file: `config_json` when given, else config.json in
// the weights' folder when there is one; "" when there is neither.
std::string find_gpt2_config(const std::string& weights_path, const std::string& config_json);

// "" when import can build `attention` from GPT-2's weights; otherwise why not, in one line.
std::string gpt2_import_problem(const std::string& attention);

// The GPT held by a Hugging Face GPT-2 file. The sizes come from the tensors' shapes (n_layer,
// n_embd, block_size = n_positions, vocab_size), n_head from `hf_config` (config.json's object,
// read from `config_path`, which only names it in errors); `choices` supplies the attention and
// the settings the file does not hold (dropout, kl_weight, noise_mean, noise_at_eval, pairwise);
// its sizes are ignored. A missing, unexpected or mis-shaped tensor, a config.json without
// n_head or with a setting this project's GPT cannot compute (another activation, layer-norm
// epsilon, attention scaling) and an attention without a rule are one-line errors naming the file.
std::unique_ptr<GPT> import_gpt2(const SafetensorsFile& weights, const std::string& weights_path,
                                 const nlohmann::json& hf_config, const std::string& config_path,
                                 const GPTConfig& choices);
// The same from files: `config_json` as find_gpt2_config takes it; when it finds none, a one-line
// error says where n_head could come from.
std::unique_ptr<GPT> import_gpt2(const std::string& weights_path, const std::string& config_json,
                                 const GPTConfig& choices);

// "" when GPT-2 can express `cfg` exactly; otherwise why not, in one line (another attention, no
// biases, a position bias).
std::string gpt2_export_problem(const GPTConfig& cfg);
// Hugging Face's GPT2Config for `cfg` as config.json holds it. `tokenizer_meta` (the checkpoint's
// stored tokenizer, may be "") decides bos/eos: GPT-2's <|endoftext|> (50256) under the "gpt2"
// tokenizer, null otherwise.
nlohmann::json gpt2_config_json(const GPTConfig& cfg, const std::string& tokenizer_meta);
// The model's tensors in Hugging Face's layout: "transformer."-prefixed names as
// GPT2LMHeadModel saves them, Conv1D weights transposed, F32; lm_head is tied and not stored.
std::vector<std::pair<std::string, RawTensor>> gpt2_tensors(const GPT& model);
// Writes DIR/model.safetensors, DIR/config.json and, when `tokenizer_meta` is not empty,
// DIR/meta.json (each to a temporary name, then renamed), creating DIR. Refuses what
// gpt2_export_problem refuses, before writing anything.
void export_gpt2(const GPT& model, const std::string& tokenizer_meta, const std::string& dir);

}  // namespace nf
