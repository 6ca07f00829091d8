#pragma once
// The CUDA twins of tensor/kernels/reduce.h (defined in tensor/kernels/cuda/reduce.cpp, CUDA
// builds only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include <vector>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void sum(const Tensor& out, const Tensor& a, const std::vector<int64_t>& dims);
void max_lastdim(const Tensor& values, const Tensor& indices, const Tensor& x);
void max_backward(const Tensor& gx, const Tensor& g, const Tensor& indices);
void cumsum(const Tensor& out, const Tensor& x, bool reverse);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
