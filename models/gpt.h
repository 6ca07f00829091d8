#pragma once
// The GPT: token + position embeddings -> n_layer pre-LayerNorm blocks -> final LayerNorm ->
// logits through the tied token embedding. Tensor names follow nanoGPT/GPT-2
// ("transformer.h.0.attn.c_attn.weight"), so checkpoints read like theirs (docs/gpt.md).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/gpt_config.h"
#include "nn/attention.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/mlp.h"

namespace nf {

class Block : public Module {
 public:
  Block(const GPTConfig& cfg, int64_t layer, Generator& gen);
  // x (B,T,C) -> (B,T,C):  x + attn(ln_1(x)), then + mlp(ln_2(x))
  Tensor forward(const Tensor& x, Generator& gen);
  Tensor forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen);

  std::shared_ptr<LayerNorm> ln_1, ln_2;
  std::shared_ptr<Attention> attn;
  std::shared_ptr<MLP> mlp;
};

struct GPTOutput {
  Tensor logits;  // (B, T, V)
  Tensor loss;    // ce + Σ weight · term over the attention layers' terms (undefined without targets)
  Tensor ce;      // mean cross-entropy
  // The attention layers' own loss terms combined over the layers, before their weights, by
  // name: "kl" (noise: mean KL over the noise parameters), "mem" (selective: L_mem summed over
  // layers, in training with the term on).
  std::map<std::string, Tensor> terms;
  // terms[name], or undefined when the model has no such term.
  Tensor term(const std::string& name) const;
};

// Decoding state: one LayerCache per layer and the next position.
struct GPTCache {
  std::vector<LayerCache> layers;
  int64_t pos = 0;
};

class GPT : public Module {
 public:
  explicit GPT(const GPTConfig& cfg, uint64_t seed = 1337);

  // idx int64 (B, T) -> logits; with targets int64 (B, T) also the loss (targets < 0 ignored).
  GPTOutput forward(const Tensor& idx, const Tensor& targets = Tensor());
  // idx int64 (B, T) -> the final LayerNorm's output (B, T, C): the hidden states the lm_head
  // reads (forward() is linear(hidden(idx), wte)). Task heads (GLUE) read them directly.
  Tensor hidden(const Tensor& idx);
  // One token per row: tok int64 (B, 1) at cache.pos -> logits (B, V). Advances cache.pos.
  Tensor forward_step(const Tensor& tok, GPTCache& cache);
  GPTCache make_cache(int64_t kv_budget = 0) const;
  GPTCache make_cache(const std::vector<int64_t>& per_layer_budget) const;

  // Continues `prompt` by max_new tokens: temperature (0 = greedy), then top_k (0 = all) and
  // top_p (1 = all; see cut_logits), KV cache.
  std::vector<int64_t> generate(const std::vector<int64_t>& prompt, int64_t max_new, double temperature,
                                int64_t top_k, Generator& sampler, const std::vector<int64_t>& kv_budget = {},
                                double top_p = 1.0);

  // The attention layers' loss terms from the last forward, combined over the layers;
  // `finetuning` leaves out the pretraining-only ones.
  std::vector<CombinedLossTerm> attention_loss_terms(bool finetuning = false) const;
  std::vector<std::shared_ptr<Attention>> attention_layers() const;

  // Parameters AdamW decays (≥ 2-D) and those it does not (biases, norms, λ, noise, c_h).
  std::vector<Tensor> decay_parameters() const;
  std::vector<Tensor> no_decay_parameters() const;

  const GPTConfig& config() const { return cfg_; }
  std::vector<std::shared_ptr<Block>> blocks;
  std::shared_ptr<Embedding> wte, wpe;
  std::shared_ptr<LayerNorm> ln_f;
  // Drives dropout masks and NoiseFormer's ε; its state is part of a checkpoint's training state.
  Generator rng;

 private:
  Tensor lm_head(const Tensor& h) const;  // final-LN output (…, C) -> logits (…, V), tied to wte
  GPTConfig cfg_;
};

// The sampling cuts on one row of temperature-scaled logits, in Hugging Face's order: top_k
// (0 = off) keeps the k largest (ties with the k-th included); then top_p (1 = off) keeps the
// smallest set of most probable tokens whose probabilities, renormalised after top_k, sum to
// >= top_p — always at least the most probable one (ties: the lower id first). Cut entries
// become -inf. Throws std::invalid_argument unless 0 < top_p <= 1.
void cut_logits(std::vector<double>& logits, int64_t top_k, double top_p);

// Parameter count of a configuration, by formula (tests compare it with a built model).
int64_t count_parameters(const GPTConfig& cfg);

}  // namespace nf
