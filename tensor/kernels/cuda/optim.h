#pragma once
// The CUDA twins of tensor/kernels/optim.h (defined in tensor/kernels/cuda/optim.cpp, CUDA builds
// only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include <vector>

#include "tensor/kernels/optim.h"

namespace nf {
namespace kernels {
namespace gpu {

void adamw_step(const std::vector<AdamWParam>& params, double lr, double beta1, double beta2, double eps, double bc1,
                double bc2);
void add_sum_of_squares(const Tensor& acc, const Tensor& x);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
