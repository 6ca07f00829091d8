#pragma once
// Moving one dim last and back. The row kernels (softmax family, max/argmax, cumsum) work on
// contiguous rows of the last dim; an op over another dim runs them on a copy with that dim
// moved last, then puts the result back in the input's dim order.
#include "tensor/tensor.h"

namespace nf {

// A contiguous, history-free copy of `a` with `dim` moved last (no copy when already so).
inline Tensor dim_last(const Tensor& a, int64_t dim) {
  if (dim == a.dim() - 1) return a.detach().contiguous();
  Shape perm;
  for (int64_t d = 0; d < a.dim(); ++d)
    if (d != dim) perm.push_back(d);
  perm.push_back(dim);
  return a.detach().permute(perm).contiguous();
}

// The inverse of dim_last: `y` laid out with `dim` last, back in the original dim order.
inline Tensor undo_dim_last(const Tensor& y, int64_t dim) {
  const int64_t nd = y.dim();
  if (dim == nd - 1) return y;
  Shape inv(nd);
  for (int64_t d = 0, k = 0; d < nd; ++d) inv[d] = d == dim ? nd - 1 : k++;
  return y.permute(inv).contiguous();
}

}  // namespace nf
