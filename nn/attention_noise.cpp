#include "nn/attention_noise.h"

#include <algorithm>

namespace nf {

Tensor expand_noise_param(const Tensor& param, const Tensor& dist, bool relpos) {
  const int64_t Hn = param.size(0);
  if (!relpos) return param.view({1, Hn, 1, 1});
  // table (block, Hn) gathered at dist (Tq, Tk) -> (Tq, Tk, Hn) -> (1, Hn, Tq, Tk)
  Tensor table = param.t();
  return embedding(table, dist).permute({2, 0, 1}).unsqueeze(0);
}

Tensor causal_distances(const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos) {
  const int64_t Tq = static_cast<int64_t>(q_pos.size()), Tk = static_cast<int64_t>(k_pos.size());
  std::vector<int64_t> d(Tq * Tk);
  for (int64_t i = 0; i < Tq; ++i)
    for (int64_t j = 0; j < Tk; ++j) d[i * Tk + j] = std::max<int64_t>(q_pos[i] - k_pos[j], 0);
  return from_vector(d, {Tq, Tk});
}

Tensor gaussian_kl_sum(const Tensor& mu, const Tensor& logvar) {
  // ½ Σ (μ² + e^{log σ²} − log σ² − 1)
  return mul(sum(sub(add(mul(mu, mu), exp(logvar)), add(logvar, 1.0))), 0.5);
}

}  // namespace nf
