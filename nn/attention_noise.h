#pragma once
// NoiseFormer's learnable Gaussian score noise (docs/noiseformer.md).
//   N = μ + σ ⊙ ε,  σ = exp(½ log σ²),  ε ~ N(0, 1) fresh per entry in training
// μ and log σ² are scalars per layer (v1) or per head (v2); with noise_mean=relpos they are
// tables over the causal distance i − j. The reparameterisation keeps ε outside the graph, so
// gradients reach μ and log σ² through ordinary ops.
#include "autograd/ops.h"

namespace nf {

// Expands a noise parameter to score shape (1, Hn, Tq, Tk). `param` is [Hn] (scalar per head,
// Hn = 1 for v1; `dist` unused, it broadcasts) or [Hn, block] (relpos, indexed by `dist`, an
// int64 (Tq, Tk) of i − j ≥ 0).
Tensor expand_noise_param(const Tensor& param, const Tensor& dist, bool relpos);

// Causal distances i − j (clamped at 0 above the diagonal, which the mask removes anyway) for
// queries at positions q_pos and keys at k_pos.
Tensor causal_distances(const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos);

// Σ over entries of KL(N(μ, σ²) ‖ N(0, 1)) = ½(μ² + σ² − log σ² − 1).
Tensor gaussian_kl_sum(const Tensor& mu, const Tensor& logvar);

}  // namespace nf
