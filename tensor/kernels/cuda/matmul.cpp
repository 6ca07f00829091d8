// CUDA matrix products (tensor/kernels/matmul.h), through cuBLAS (tensor/kernels/cuda/blas.cu):
// the same operands, transpose flags and leading dimensions as the CPU's BLAS calls; the batch
// dims go to cuBLAS as shapes and strides (merged there into strided-batched calls).
#include "tensor/kernels/cuda/matmul.h"

#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/kernels/matmul.h"

namespace nf {
namespace kernels {
namespace gpu {

void gemm(const Tensor& out, const Tensor& a, const Tensor& b, double beta) {
  const GemmOperand la = gemm_operand(a), lb = gemm_operand(b);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const int64_t nb = a.dim() - 2;
  const int64_t ldc = M > 1 ? out.stride(-2) : N;
  const cuda::Dims batch_shape(out.shape().begin(), out.shape().begin() + nb);
  const cuda::Dims a_strides(a.strides().begin(), a.strides().begin() + nb);
  const cuda::Dims b_strides(b.strides().begin(), b.strides().begin() + nb);
  const cuda::Dims c_strides(out.strides().begin(), out.strides().begin() + nb);
  cuda::gemm(out.dtype(), M, N, K, 1.0, a.device_data(), la.trans, la.ld, b.device_data(), lb.trans, lb.ld, beta,
             out.device_data(), ldc, batch_shape, a_strides, b_strides, c_strides);
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
