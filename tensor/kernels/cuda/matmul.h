#pragma once
// The CUDA twin of tensor/kernels/matmul.h (defined in tensor/kernels/cuda/matmul.cpp, CUDA builds
// only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void gemm(const Tensor& out, const Tensor& a, const Tensor& b, double beta);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
