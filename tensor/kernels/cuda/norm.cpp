// CUDA layer_norm / rms_norm (tensor/kernels/norm.h), through tensor/kernels/cuda/norm.cu.
#include "tensor/kernels/cuda/norm.h"

#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/kernels/rows.h"

namespace nf {
namespace kernels {
namespace gpu {
namespace {

// A device pointer, or null for an absent (undefined) tensor.
void* ptr(const Tensor& t) { return t.defined() ? t.device_data() : nullptr; }

}  // namespace

void layer_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w,
                        const Tensor& b, double eps) {
  const RowsOf s = rows_of(x);
  cuda::layer_norm_forward(x.dtype(), y.device_data(), mean.device_data(), rstd.device_data(), x.device_data(), ptr(w),
                           ptr(b), s.rows, s.n, eps);
}

void rms_norm_forward(const Tensor& y, const Tensor& rstd, const Tensor& x, const Tensor& w, double eps) {
  const RowsOf s = rows_of(x);
  cuda::rms_norm_forward(x.dtype(), y.device_data(), rstd.device_data(), x.device_data(), ptr(w), s.rows, s.n, eps);
}

void norm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g, const Tensor& x,
                   const Tensor& mean, const Tensor& rstd, const Tensor& w) {
  const RowsOf s = rows_of(x);
  cuda::norm_backward(x.dtype(), mean.defined(), ptr(dx), ptr(dw), ptr(db), g.device_data(), x.device_data(), ptr(mean),
                      rstd.device_data(), ptr(w), s.rows, s.n);
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
