#include "nn/selective.h"

namespace nf {

namespace {
// 1 where 0 < j < i (a key that may be masked by a later query), else 0: removes the first
// token, the diagonal (no self-masking) and the future.
Tensor selectable(int64_t T, DType dtype, Device device) {
  std::vector<double> m(T * T, 0.0);
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 1; j < i; ++j) m[i * T + j] = 1.0;
  return from_vector(m, {T, T}).to(dtype).to(device);
}
}  // namespace

Tensor selective_mask(const Tensor& head0_logits) {
  const int64_t T = head0_logits.size(-1);
  // ReLU first, then the 0/1 gate (0·(−∞) would be NaN if the logits were masked already).
  Tensor S = mul(relu(head0_logits), selectable(T, head0_logits.dtype(), head0_logits.device()));
  return sub(cumsum(S, -2), S);  // inclusive cumsum minus the row itself = exclusive
}

Tensor selective_mem_term(const Tensor& F, double tau) {
  const int64_t T = F.size(-1);
  // min(F, τ) = F − ReLU(F − τ); only j ≤ i can be non-zero (S[k, j] needs j < k < i).
  Tensor capped = sub(F, relu(add(F, -tau)));
  Tensor masked_sum = mul(sum(capped, {-1}), 1.0 / tau);  // (B, T)
  Tensor idx = add(arange(T, F.dtype()).to(F.device()), 1.0).unsqueeze(0);  // (1, T): i+1 keys visible to query i
  Tensor M = sub(idx, masked_sum);                        // tokens still "alive" after query i
  return mul(mean(max(M, -1)), 1.0 / static_cast<double>(T));
}

}  // namespace nf
