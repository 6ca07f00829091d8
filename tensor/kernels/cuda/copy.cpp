// CUDA copies and fills (tensor/kernels/copy.h), through tensor/kernels/cuda/copy.cu.
#include "tensor/kernels/cuda/copy.h"

#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/strided.h"

namespace nf {
namespace kernels {
namespace gpu {

void copy(const Tensor& dst, const Tensor& src) {
  cuda::copy(dst.shape(), dst.dtype(), dst.device_data(), dst.strides(), src.dtype(), src.device_data(),
             broadcast_strides(src, dst.shape()));
}

void fill(const Tensor& dst, double value) {
  if (dst.is_contiguous()) return cuda::fill(dst.dtype(), dst.device_data(), dst.numel(), value);
  // A strided view: one element holding the value, copied through a broadcast.
  Tensor one = empty({}, dst.dtype(), Device::CUDA);
  cuda::fill(dst.dtype(), one.device_data(), 1, value);
  copy(dst, one);
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
