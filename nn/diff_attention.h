#pragma once
// Differential attention (DIFF Transformer) and its shared-base + low-rank form (docs/diff.md).
//   h = H/2 heads, each with two query/key branches of width d = C/H and a value of width 2d:
//   A1 = softmax(s·Q1K1ᵀ + M), A2 = softmax(s·Q2K2ᵀ + M)
//   λ  = exp(λq1·λk1) − exp(λq2·λk2) + λ_init,   λ_init = 0.8 − 0.6·exp(−0.3·(l−1))
//   Y_i = (1 − λ_init) · RMSNorm((A1 − λ A2) V_i)   (one gain g ∈ R^{2d} shared by heads)
// diff:        Q = X W_q, K = X W_k (C -> C), viewed as (2h, d): sub-head 2i is branch 1 of head i.
// shared-diff: Q_b = X(W_q + A_qb B_qb) computed as X W_q + (X A_qb) B_qb, with W_q C -> C/2
//              shared by both branches and rank-r factors per branch (our reading of the paper).
#include "nn/layer_norm.h"
#include "nn/multi_head_attention.h"

namespace nf {

class DiffAttention : public MultiHeadAttention {
 public:
  // layer: 0-based index (λ_init). shared_base: shared-diff; otherwise diff.
  DiffAttention(const AttentionConfig& cfg, int64_t layer, bool shared_base, Generator& gen);
  Tensor forward(const Tensor& x, Generator& gen) override;
  Tensor forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) override;
  static int64_t parameter_count(const AttentionConfig& cfg, bool shared_base);

  // The scalar λ (shape {}) from the four re-parameterisation vectors.
  Tensor lambda() const;

  std::shared_ptr<Linear> q1_down, q1_up, q2_down, q2_up, k1_down, k1_up, k2_down, k2_up;  // shared-diff
  std::shared_ptr<RMSNorm> subln;
  Tensor lambda_q1, lambda_k1, lambda_q2, lambda_k2;
  double lambda_init;

 private:
  // Q1, K1, Q2, K2 (B, h, T, d) and V (B, h, T, 2d).
  void project(const Tensor& x, Tensor& q1, Tensor& k1, Tensor& q2, Tensor& k2, Tensor& v) const;
  // A1, A2 (B, h, Tq, Tk), V (B, h, Tk, 2d) -> the layer's output (B, Tq, C). The probe's maps:
  // A1, A2 and the differential map P = A1 − λ A2.
  Tensor combine(const Tensor& a1, const Tensor& a2, const Tensor& v, Generator& gen);

  int64_t h_;
  bool shared_;
};

}  // namespace nf
