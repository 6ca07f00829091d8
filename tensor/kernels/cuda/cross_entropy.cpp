// CUDA cross-entropy (tensor/kernels/cross_entropy.h), through tensor/kernels/cuda/cross_entropy.cu.
// The row count stays on the device between forward and backward: nothing is read back.
#include "tensor/kernels/cuda/cross_entropy.h"

#include "tensor/kernels/cuda/cuda_ops.h"

namespace nf {
namespace kernels {
namespace gpu {

void cross_entropy_forward(const Tensor& loss, const Tensor& lse, const Tensor& count, const Tensor& logits,
                           const Tensor& targets, int64_t ignore_index) {
  cuda::cross_entropy_forward(logits.dtype(), loss.device_data(), lse.device_data(),
                              static_cast<int64_t*>(count.device_data()), logits.device_data(),
                              static_cast<const int64_t*>(targets.device_data()), targets.numel(), logits.size(-1),
                              ignore_index);
}

void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets, const Tensor& count, int64_t ignore_index) {
  cuda::cross_entropy_backward(logits.dtype(), dlogits.device_data(), g.device_data(), logits.device_data(),
                               lse.device_data(), static_cast<const int64_t*>(targets.device_data()),
                               static_cast<const int64_t*>(count.device_data()), targets.numel(), logits.size(-1),
                               ignore_index);
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
