#pragma once
// GPT-2's causal self-attention (docs/gpt.md §3, "Attention"). Per head h, with Q_h the columns
// [h·d, (h+1)·d) of q (likewise K_h, V_h):
//   q, k, v = split(c_attn(x))                 c_attn: C -> 3C; heads are (B, H, T, d) views
//   M[i, j] = −∞ if j > i, else 0              the causal mask: query i sees keys 0 … i
//   A_h     = softmax(s · Q_h K_hᵀ + P_h + M)   s = 1/√d; P_h = 0, or ALiBi's −m_h·(i − j)
//                                              with pos_bias alibi (nn/alibi.h)
//   O_h     = dropout(A_h) V_h                  (T, d)
//   Y       = dropout(c_proj(concat(O_0, …, O_{H−1})))
// Symmetric, noise and selective attention change only the scores or the logits, and derive
// from it through the protected hooks. The position bias is added after the scaling and any
// noise, before the mask; selective attention does not take one (GPTConfig::validate).
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
  // logits (B, H, T, T) of the whole sequence at positions `pos`, plus ALiBi's bias with
  // pos_bias alibi; unchanged otherwise.
  Tensor add_pos_bias(const Tensor& logits, const std::vector<int64_t>& pos) const;
  // 0, 1, …, T−1: the positions of a whole sequence.
  static std::vector<int64_t> positions(int64_t T);
  // Hands the probe max |logit| over the entries the causal mask keeps, when it tracks it:
  // `logits` are what the softmax sees (scaled, with noise, bias and selective's mask).
  void track_logits(const Tensor& logits);

  int64_t H_;  // heads
  Keys keys_;
  bool alibi_;  // pos_bias alibi
};

}  // namespace nf
