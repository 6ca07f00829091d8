// CUDA reductions and scans (tensor/kernels/reduce.h), through tensor/kernels/cuda/reduce.cu.
#include "tensor/kernels/cuda/reduce.h"

#include <algorithm>

#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/strided.h"

namespace nf {
namespace kernels {
namespace gpu {

// out seen through a's shape has stride 0 exactly on the dims it keeps as size 1: cuda::sum
// reduces those (and picks its own strategy from the strides, deterministically).
void sum(const Tensor& out, const Tensor& a, const std::vector<int64_t>& /*dims*/) {
  cuda::sum(a.dtype(), a.shape(), out.device_data(), broadcast_strides(out, a.shape()), a.device_data(), a.strides());
}

void max_lastdim(const Tensor& values, const Tensor& indices, const Tensor& x) {
  const int64_t n = x.size(-1), rows = x.numel() / n;
  cuda::max_lastdim(x.dtype(), values.device_data(), static_cast<int64_t*>(indices.device_data()), x.device_data(),
                    rows, n);
}

void max_backward(const Tensor& gx, const Tensor& g, const Tensor& indices) {
  const int64_t n = gx.size(-1), rows = indices.numel();
  cuda::max_backward(g.dtype(), gx.device_data(), g.device_data(), static_cast<const int64_t*>(indices.device_data()),
                     rows, n);
}

void cumsum(const Tensor& out, const Tensor& x, bool reverse) {
  const int64_t n = x.dim() ? x.size(-1) : 1, rows = x.numel() / std::max<int64_t>(n, 1);
  cuda::cumsum(x.dtype(), out.device_data(), x.device_data(), rows, n, /*inner=*/1, reverse);
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
