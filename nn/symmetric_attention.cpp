#include "nn/symmetric_attention.h"

namespace nf {

SymmetricAttention::SymmetricAttention(const AttentionConfig& cfg, Generator& gen)
    : BaseAttention(cfg, Keys::SameAsQueries, gen) {
  if (cfg.pairwise) pairwise_c = register_parameter("pairwise_c", ones({H_, d_}));
}

int64_t SymmetricAttention::parameter_count(const AttentionConfig& cfg) {
  const int64_t pairwise = cfg.pairwise ? cfg.n_head * (cfg.n_embd / cfg.n_head) : 0;  // c_h: H × d
  return projection_parameter_count(cfg, 2 * cfg.n_embd) + pairwise;
}

Tensor SymmetricAttention::scores_of(const Tensor& q, const Tensor& k) const {
  // Q diag(c_h) Qᵀ: c_h scales the queries only, k is the unscaled q.
  return BaseAttention::scores_of(pairwise_c.defined() ? mul(q, pairwise_c.view({1, H_, 1, d_})) : q, k);
}

}  // namespace nf
