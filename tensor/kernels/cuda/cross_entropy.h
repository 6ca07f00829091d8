#pragma once
// The CUDA twins of tensor/kernels/cross_entropy.h (defined in tensor/kernels/cuda/cross_entropy.cpp,
// CUDA builds only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include <cstdint>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

void cross_entropy_forward(const Tensor& loss, const Tensor& lse, const Tensor& count, const Tensor& logits,
                           const Tensor& targets, int64_t ignore_index);
void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets, const Tensor& count, int64_t ignore_index);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
