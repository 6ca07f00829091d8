#pragma once
// GPT-2's causal self-attention (docs/gpt.md §3, "Attention"). Per head h, with Q_h the columns
// [h·d, (h+1)·d) of q (likewise K_h, V_h):
//   q, k, v = split(c_attn(x))                 c_attn: C -> 3C; heads are (B, H, T, d) views
//   M[i, j] = −∞ if j > i, else 0              the causal mask: query i sees keys 0 … i
//   A_h     = softmax(s · Q_h K_hᵀ + M)         s = 1/√d
//   O_h     = dropout(A_h) V_h                  (T, d)
//   Y       = dropout(c_proj(concat(O_0, …, O_{H−1})))
// Symmetric, noise and selective attention change only the scores or the logits, and derive
// from it through the protected hooks.
#include "nn/multi_head_attention.h"

namespace nf {

class BaseAttention : public MultiHeadAttention {
 public:
  BaseAttention(const AttentionConfig& cfg, Generator& gen);
  Tensor forward(const Tensor& x, Generator& gen) override;
  Tensor forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) override;
  static int64_t parameter_count(const AttentionConfig& cfg);

 protected:
  // How c_attn's output is split: (q, k, v), or (q, v) with K := Q (symmetric and noise).
  enum class Keys { Projected, SameAsQueries };
  BaseAttention(const AttentionConfig& cfg, Keys keys, Generator& gen);

  // q, k, v (B, H, T, d): views of c_attn(x) split into heads (k is q itself with K := Q).
  void project(const Tensor& x, Tensor& q, Tensor& k, Tensor& v) const;
  // q @ kᵀ (B, H, Tq, Tk), unscaled.
  virtual Tensor scores_of(const Tensor& q, const Tensor& k) const;
  // The whole sequence: the attention weights A (B, H, T, T) from the unscaled scores, masked.
  virtual Tensor probabilities(const Tensor& scores, Generator& gen);
  // A decoding step: the logits (B, H, 1, len) of the query at `pos` against the cached keys,
  // from its unscaled scores. No mask: every cached key is at or before pos.
  virtual Tensor step_logits(const Tensor& scores, int64_t pos, LayerCache& cache, Generator& gen);
  // Hands A to the probe when it records maps.
  void record_probabilities(const Tensor& att, const std::string& title = "attention softmax(Z)");

  int64_t H_;  // heads
  Keys keys_;
};

}  // namespace nf
