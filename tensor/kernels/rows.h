#pragma once
// A tensor seen as a matrix of rows over its last dim: the shape every row kernel (softmax family,
// cross-entropy, normalisations, embedding) works on. A 0-d tensor is one row of one element.
#include <cstdint>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {

struct RowsOf {
  int64_t rows = 0;  // numel / n (0 when n is 0)
  int64_t n = 0;     // elements per row: the last dim
};

inline RowsOf rows_of(const Tensor& t) {
  const int64_t n = t.dim() ? t.size(-1) : 1;
  return {n ? t.numel() / n : 0, n};
}

}  // namespace kernels
}  // namespace nf
