// CUDA random fills (tensor/kernels/random.h), through tensor/kernels/cuda/random.cu: the same
// counter-based generator as the CPU, evaluated on the device (device_math.cuh).
#include "tensor/kernels/cuda/random.h"

#include "tensor/kernels/cuda/cuda_ops.h"

namespace nf {
namespace kernels {
namespace gpu {

void rand_uniform(const Tensor& out, uint64_t seed, uint64_t base) {
  cuda::rand_uniform(out.dtype(), out.device_data(), out.numel(), seed, base);
}

void randn(const Tensor& out, uint64_t seed, uint64_t pair0) {
  cuda::randn(out.dtype(), out.device_data(), out.numel(), seed, pair0);
}

void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, uint64_t seed, uint64_t base) {
  cuda::dropout(x.dtype(), out.device_data(), mask.device_data(), x.device_data(), x.numel(), p, seed, base);
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
