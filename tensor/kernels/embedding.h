#pragma once
// Embedding lookup and its scatter-add backward. ids are int64, contiguous, each in [0, V)
// (ids.h checks); the floating tensors share one dtype; all on one device.
#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// weight (V, C) contiguous, ids (N) -> out (N, C): out[i, :] = weight[ids[i], :]
void embedding_forward(const Tensor& out, const Tensor& weight, const Tensor& ids);
// g (N, C) contiguous, ids (N) -> dweight (V, C): dweight[v, :] = Σ_{i: ids[i] = v} g[i, :],
// summed in position order; every row written (0 where no id). Deterministic: no two threads
// add to one row, so the sums do not depend on the thread count.
void embedding_backward(const Tensor& dweight, const Tensor& g, const Tensor& ids);

}  // namespace kernels
}  // namespace nf
