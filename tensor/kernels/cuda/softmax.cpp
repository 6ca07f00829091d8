// CUDA softmax family (tensor/kernels/softmax.h), through tensor/kernels/cuda/softmax.cu.
#include "tensor/kernels/cuda/softmax.h"

#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/kernels/rows.h"

namespace nf {
namespace kernels {
namespace gpu {

void softmax_forward(const Tensor& y, const Tensor& x) {
  const RowsOf s = rows_of(x);
  cuda::softmax_forward(x.dtype(), y.device_data(), x.device_data(), s.rows, s.n);
}

void softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale) {
  const RowsOf s = rows_of(y);
  cuda::softmax_backward(y.dtype(), dx.device_data(), y.device_data(), g.device_data(), s.rows, s.n, scale);
}

void log_softmax_forward(const Tensor& y, const Tensor& x) {
  const RowsOf s = rows_of(x);
  cuda::log_softmax_forward(x.dtype(), y.device_data(), x.device_data(), s.rows, s.n);
}

void log_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g) {
  const RowsOf s = rows_of(y);
  cuda::log_softmax_backward(y.dtype(), dx.device_data(), y.device_data(), g.device_data(), s.rows, s.n);
}

void causal_softmax_forward(const Tensor& y, const Tensor& x, double scale) {
  const int64_t Tq = x.size(-2), Tk = x.size(-1);
  cuda::causal_softmax_forward(x.dtype(), y.device_data(), x.device_data(), Tk ? x.numel() / Tk : 0, Tq, Tk, scale);
}

void causal_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale) {
  const int64_t Tq = y.size(-2), Tk = y.size(-1);
  cuda::causal_softmax_backward(y.dtype(), dx.device_data(), y.device_data(), g.device_data(),
                                Tk ? y.numel() / Tk : 0, Tq, Tk, scale);
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
