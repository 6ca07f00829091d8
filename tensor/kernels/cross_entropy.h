#pragma once
// Fused cross-entropy of logits against class targets: the loss of the rows whose target is not
// ignore_index, and its gradient rebuilt from the saved per-row logsumexp (the softmax is never
// stored). All tensors on one device; floating ones of the logits' dtype.
#include <cstdint>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// logits (N, V) contiguous, targets (N) int64 contiguous, each in [0, V) or ignore_index
// (ids.h checks) -> loss () = (1/K) Σ_counted (lse_r − x_r[t_r]), summed in double in row
// order (NaN when K = 0); lse (N) = per-row logsumexp (ignored rows: unspecified);
// count () int64 = K, the rows counted.
void cross_entropy_forward(const Tensor& loss, const Tensor& lse, const Tensor& count, const Tensor& logits,
                           const Tensor& targets, int64_t ignore_index);
// g () the loss gradient; lse, count from the forward ->
// dlogits (N, V) = g/K · (softmax(x_r) − onehot(t_r)); ignored rows (and every row when K = 0) 0.
void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets, const Tensor& count, int64_t ignore_index);

}  // namespace kernels
}  // namespace nf
