#pragma once
// NoiseFormer (docs/noiseformer.md §2–3): symmetric scores plus learnable Gaussian noise,
//   Z = s·Q Qᵀ + N,   N = μ + σ ⊙ ε,   σ = exp(½ log σ²),   ε ~ N(0, 1) fresh per entry in training
//   A = softmax(Z + M), then as base attention
//   loss += β · mean over every noise parameter entry of KL(N(μ, σ²) ‖ N(0, 1))
// noise-v1: μ and log σ² are scalars per layer and one ε map is shared by the heads; noise-v2:
// per head, with one ε map per head. With noise_mean=relpos they are tables over the causal
// distance i − j. The reparameterisation keeps ε outside the graph, so gradients reach μ and
// log σ² through ordinary ops. In eval mode N = μ (noise_at_eval=mean) or a fresh sample (sample).
#include "nn/base_attention.h"

namespace nf {

class NoiseAttention : public BaseAttention {
 public:
  // per_head: noise-v2 (parameters and ε per head); otherwise noise-v1 (shared by the heads).
  NoiseAttention(const AttentionConfig& cfg, bool per_head, Generator& gen);
  // {"kl": Σ KL over this layer's entries, count = entries, weight = kl_weight}.
  std::vector<LossTerm> loss_terms() const override;
  static int64_t parameter_count(const AttentionConfig& cfg, bool per_head);

  // v1 [1] (relpos [block]), v2 [H] (relpos [H, block]); μ = 0, log σ² = 0 at init.
  Tensor noise_mu, noise_logvar;

  // What the noise has learnt, per ε map (v1: one value; v2: one per head): μ and
  // σ = exp(½ log σ²); with noise_mean=relpos each map's mean over its block_size distances.
  std::vector<double> mu_per_map() const;
  std::vector<double> sigma_per_map() const;

 protected:
  Tensor probabilities(const Tensor& scores, Generator& gen) override;
  Tensor step_logits(const Tensor& scores, int64_t pos, LayerCache& cache, Generator& gen) override;

 private:
  // N (B, Hn, Tq, Tk) for queries at q_pos and keys at k_pos.
  Tensor noise(int64_t B, const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos, Generator& gen) const;

  int64_t Hn_;   // independent ε maps per batch element: 1 (v1) or H (v2)
  bool relpos_;  // noise_mean=relpos
};

// Expands a noise parameter to score shape (1, Hn, Tq, Tk). `param` is [Hn] (scalar per head;
// `dist` unused, it broadcasts) or [Hn, block] (relpos, indexed by `dist`, an int64 (Tq, Tk) of
// i − j ≥ 0).
Tensor expand_noise_param(const Tensor& param, const Tensor& dist, bool relpos);

// Causal distances i − j (clamped at 0 above the diagonal, which the mask removes anyway) for
// queries at positions q_pos and keys at k_pos.
Tensor causal_distances(const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos);

// Σ over entries of KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − log σ² − 1).
Tensor gaussian_kl_sum(const Tensor& mu, const Tensor& logvar);

}  // namespace nf
