#pragma once
// Single-softmax causal self-attention and the variants that only change its score matrix:
//   base       Z = s·Q Kᵀ                         (GPT-2)
//   symmetric  Z = s·Q Qᵀ   (K := Q; `pairwise`: s·Q diag(c_h) Qᵀ)
//   noise-v1/2 Z = s·Q Qᵀ + N,  N = μ + σ ⊙ ε      (NoiseFormer; nn/attention_noise.h)
//   selective  Z = s·Q Kᵀ − F                      (Selective Attention; nn/selective.h)
// then A = softmax(Z + causal mask), Y = A V, concat heads, c_proj.
#include "nn/attention.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace nf {

class CausalSelfAttention : public Attention {
 public:
  CausalSelfAttention(const AttentionConfig& cfg, int64_t layer, Generator& gen);
  Tensor forward(const Tensor& x, Generator& gen) override;
  Tensor forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) override;
  Tensor kl_sum() const override;
  int64_t kl_count() const override;
  Tensor mem_loss() const override { return mem_loss_; }

  std::shared_ptr<Linear> c_attn, c_proj;
  std::shared_ptr<Dropout> attn_drop, resid_drop;
  Tensor pairwise_c;              // [H, d]   symmetric + pairwise
  Tensor noise_mu, noise_logvar;  // noise: [1] | [H] | [block] | [H, block]
  // Fixed noise ε for gradient checks (undefined: draw fresh from the generator).
  Tensor fixed_eps;
  // Study tools (study/attention_map.h): when on, forward keeps its attention probabilities
  // last_att (B, H, T, T) and, for selective, its mask last_F (B, T, T), detached.
  bool track_maps = false;
  Tensor last_att, last_F;

 private:
  // Q (B,H,Tq,d), K, V views of the projections of x.
  void project(const Tensor& x, Tensor& q, Tensor& k, Tensor& v) const;
  Tensor noise_term(int64_t B, const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos,
                    Generator& gen) const;

  AttentionConfig cfg_;
  int64_t H_, d_;
  bool shared_qk_, noise_, per_head_noise_, relpos_, selective_;
  double scale_;
  Tensor mem_loss_;
};

}  // namespace nf
