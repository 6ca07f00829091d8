#pragma once
// The CUDA twins of tensor/kernels/copy.h (defined in tensor/kernels/cuda/copy.cpp, CUDA builds
// only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void copy(const Tensor& dst, const Tensor& src);
void fill(const Tensor& dst, double value);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
