#pragma once
// Symmetric attention (docs/noiseformer.md §1): keys are the queries, K := Q, so each head's
// score matrix is symmetric (token i scores token j exactly as j scores i):
//   Z = s·Q Qᵀ                     c_attn: C -> 2C as (q, v), no key projection
// With `pairwise`, a learned per-head diagonal c_h (ones at init) weighs the dimensions:
//   Z_h = s·Q_h diag(c_h) Q_hᵀ
// then A = softmax(Z + M) and the rest as base attention.
#include "nn/base_attention.h"

namespace nf {

class SymmetricAttention : public BaseAttention {
 public:
  SymmetricAttention(const AttentionConfig& cfg, Generator& gen);
  static int64_t parameter_count(const AttentionConfig& cfg);

  Tensor pairwise_c;  // [H, d], pairwise only

 protected:
  Tensor scores_of(const Tensor& q, const Tensor& k) const override;
};

}  // namespace nf
