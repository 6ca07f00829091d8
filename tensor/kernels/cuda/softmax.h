#pragma once
// The CUDA twins of tensor/kernels/softmax.h (defined in tensor/kernels/cuda/softmax.cpp, CUDA
// builds only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void softmax_forward(const Tensor& y, const Tensor& x);
void softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale);
void log_softmax_forward(const Tensor& y, const Tensor& x);
void log_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g);
void causal_softmax_forward(const Tensor& y, const Tensor& x, double scale);
void causal_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
