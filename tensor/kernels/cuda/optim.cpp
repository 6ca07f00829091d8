// CUDA optimizer kernels (tensor/kernels/optim.h), through tensor/kernels/cuda/optim.cu: one
// fused AdamW launch per parameter, all on the one stream (no host round trip in the step).
#include "tensor/kernels/cuda/optim.h"

#include "tensor/kernels/cuda/cuda_ops.h"

namespace nf {
namespace kernels {
namespace gpu {

void adamw_step(const std::vector<AdamWParam>& params, double lr, double beta1, double beta2, double eps, double bc1,
                double bc2) {
  for (const AdamWParam& p : params)
    cuda::adamw_step(p.w.dtype(), p.w.device_data(), p.g.device_data(), p.m.device_data(), p.v.device_data(),
                     p.w.numel(), lr, beta1, beta2, eps, p.weight_decay, bc1, bc2);
}

void add_sum_of_squares(const Tensor& acc, const Tensor& x) {
  cuda::sum_squares_accumulate(x.dtype(), static_cast<double*>(acc.device_data()), x.device_data(), x.numel());
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
