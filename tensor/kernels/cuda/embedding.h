#pragma once
// The CUDA twins of tensor/kernels/embedding.h (defined in tensor/kernels/cuda/embedding.cpp, CUDA
// builds only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void embedding_forward(const Tensor& out, const Tensor& weight, const Tensor& ids);
void embedding_backward(const Tensor& dweight, const Tensor& g, const Tensor& ids);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
