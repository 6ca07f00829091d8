#pragma once
// Selective Attention's parameter-free mask (docs/selective.md).
//   S = ReLU(L_0) with S[:, 0] = 0 and S[i, i] = 0 (and the future j > i is 0 too)
//   F[i, j] = Σ_{k<i} S[k, j]          (exclusive cumulative sum down the query axis)
// Every head's logits become L_h − F.
#include "autograd/ops.h"

namespace nf {

// head0_logits (B, T, T): scaled, unmasked logits of head 0 -> F (B, T, T).
Tensor selective_mask(const Tensor& head0_logits);

// L_mem = max_i M_i / T with M_i = i − Σ_j min(F[i, j], τ)/τ, averaged over the batch
// (summed over layers by the model). F (B, T, T).
Tensor selective_mem_term(const Tensor& F, double tau = 1.0);

}  // namespace nf
