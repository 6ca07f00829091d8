#pragma once
// The CUDA twins of tensor/kernels/random.h (defined in tensor/kernels/cuda/random.cpp, CUDA
// builds only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include <cstdint>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void rand_uniform(const Tensor& out, uint64_t seed, uint64_t base);
void randn(const Tensor& out, uint64_t seed, uint64_t pair0);
void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, uint64_t seed, uint64_t base);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
