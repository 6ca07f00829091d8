#pragma once
// Reductions and scans: the loops under autograd/ops_reduce.cpp (sum and mean over any dims,
// max / argmax over one dim and max's backward, cumsum). Every tensor of a call is on one
// device; floating operands are F32 or F64 (the ops check both first). Outputs are allocated by
// the caller and written, never added to.
#include <vector>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// a (any strides) -> out (a's shape with every dim of `dims` of size 1, contiguous) = the sum
// of a over `dims` (sorted, distinct; empty: a copy). Sums run in a fixed order that does not
// depend on the thread count.
void sum(const Tensor& out, const Tensor& a, const std::vector<int64_t>& dims);

// x (rows, n) contiguous, n >= 1 -> values (rows), indices (rows, int64): each row's maximum and
// its first position. A NaN beats every number (the first NaN is the maximum).
void max_lastdim(const Tensor& values, const Tensor& indices, const Tensor& x);
// g (rows) contiguous, indices (rows, int64) from max_lastdim -> gx (rows, n) contiguous:
// gx[r, j] = g[r] where j = indices[r], 0 elsewhere (max's backward).
void max_backward(const Tensor& gx, const Tensor& g, const Tensor& indices);

// x (rows, n) contiguous -> out (rows, n) contiguous: inclusive prefix sums along each row;
// reverse: suffix sums (cumsum's backward).
void cumsum(const Tensor& out, const Tensor& x, bool reverse);

}  // namespace kernels
}  // namespace nf
