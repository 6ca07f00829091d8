#pragma once
// Matrix products: the one kernel under matmul and linear (autograd/ops_matmul.cpp), a batched
// row-major GEMM through BLAS on the CPU and cuBLAS on the GPU. A transposed view is read as a
// transpose flag with its leading dimension, never copied; the op makes any other layout
// contiguous first (gemm_operand says which layouts are read in place).
#include <algorithm>
#include <cstdint>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// How gemm reads the matrix in the last two dims of an operand (rows R, cols C, strides sr, sc):
//   sc == 1  ->  row-major as it lies:           trans = false, ld = sr
//   sr == 1  ->  the transpose of a row-major:   trans = true,  ld = sc
// (a dim of size 1 fits either way). readable is false for every other layout.
struct GemmOperand {
  bool readable = false;
  bool trans = false;
  int64_t ld = 0;
};

inline GemmOperand gemm_operand(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  GemmOperand m;
  if ((sc == 1 || cols == 1) && (sr >= std::max<int64_t>(cols, 1) || rows == 1)) {
    m = {true, false, std::max<int64_t>(rows == 1 ? cols : sr, 1)};
  } else if ((sr == 1 || rows == 1) && (sc >= std::max<int64_t>(rows, 1) || cols == 1)) {
    m = {true, true, std::max<int64_t>(cols == 1 ? rows : sc, 1)};
  }
  return m;
}
inline GemmOperand gemm_operand(const Tensor& t) {
  return gemm_operand(t.size(-2), t.size(-1), t.stride(-2), t.stride(-1));
}

// out (B..., M, N) = a (B..., M, K) @ b (B..., K, N) + beta · out, for every batch index B...
//   a, b    gemm_operand(·).readable; batch dims of out's sizes (stride 0 where broadcast)
//   out     rows of unit stride (stride(-1) == 1 when N > 1), row stride >= N; batch dims of any
//           strides (a gradient laid out like the tensor it belongs to)
//   beta    0: out is overwritten (its old values are not read); 1: the product is added to it
// One dtype (float32 or float64) and one device for all three.
void gemm(const Tensor& out, const Tensor& a, const Tensor& b, double beta);

}  // namespace kernels
}  // namespace nf
