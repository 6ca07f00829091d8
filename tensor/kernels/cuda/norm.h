#pragma once
// The CUDA twins of tensor/kernels/norm.h (defined in tensor/kernels/cuda/norm.cpp, CUDA builds
// only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void layer_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w,
                        const Tensor& b, double eps);
void rms_norm_forward(const Tensor& y, const Tensor& rstd, const Tensor& x, const Tensor& w, double eps);
void norm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g, const Tensor& x,
                   const Tensor& mean, const Tensor& rstd, const Tensor& w);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
