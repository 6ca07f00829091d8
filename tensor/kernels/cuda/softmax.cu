// CUDA kernels of the softmax family (tensor/kernels/softmax.h): softmax, log_softmax and the
// fused causal softmax (scale, mask, softmax), forward and backward, over the rows of a
// contiguous matrix. Launched by the twins of tensor/kernels/cuda/softmax.cpp (nf::kernels::gpu);
// the CPU loops are tensor/kernels/cpu/softmax.cpp. Row kernels give each row to one warp (rows
// up to 1024) or one block (longer rows), through NF_ROW_LAUNCH (common.cuh); every reduction is
// a fixed tree. See tensor/kernels/cuda/cuda_ops.h for the contracts and docs/cuda.md for how each
// one is checked.
#include <cuda_runtime.h>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

// ---- softmax family -------------------------------------------------------------------------------
namespace {

// y = softmax(scale · x) over the first `visible` elements of the row, 0 after (visible = n for
// a plain softmax): max, then Σ exp, then y = exp · (1/Σ) — the CPU's softmax_row.
template <class T, bool W>
__device__ void softmax_row(T* yr, const T* xr, int64_t n, int64_t visible, T sc, T* smem) {
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  T m = -Limits<T>::inf();
  for (int64_t j = t; j < visible; j += S) {
    const T z = sc * xr[j];
    m = z > m ? z : m;
  }
  m = RowGroup<W>::max(m, smem, -Limits<T>::inf());
  T s = 0;
  for (int64_t j = t; j < visible; j += S) s += m_exp(sc * xr[j] - m);
  s = RowGroup<W>::sum(s, smem);
  const T inv = 1 / s;
  for (int64_t j = t; j < n; j += S) yr[j] = j < visible ? m_exp(sc * xr[j] - m) * inv : T(0);
}

template <class T, bool W>
__global__ void softmax_kernel(T* y, const T* x, int64_t rows, int64_t n) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  softmax_row<T, W>(y + r * n, x + r * n, n, n, T(1), smem);
}

template <class T, bool W>
__global__ void causal_softmax_kernel(T* y, const T* x, int64_t rows, int64_t Tq, int64_t Tk, T sc) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const int64_t visible = r % Tq + (Tk - Tq) + 1;
  softmax_row<T, W>(y + r * Tk, x + r * Tk, Tk, visible, sc, smem);
}

// dx = scale · y ⊙ (g − Σ_visible g ⊙ y) on the visible part, 0 after.
template <class T, bool W>
__device__ void softmax_backward_row(T* dr, const T* yr, const T* gr, int64_t n, int64_t visible, T sc, T* smem) {
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  T dot = 0;
  for (int64_t j = t; j < visible; j += S) dot += gr[j] * yr[j];
  dot = RowGroup<W>::sum(dot, smem);
  for (int64_t j = t; j < n; j += S) dr[j] = j < visible ? sc * yr[j] * (gr[j] - dot) : T(0);
}

template <class T, bool W>
__global__ void softmax_backward_kernel(T* dx, const T* y, const T* g, int64_t rows, int64_t n, T sc) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  softmax_backward_row<T, W>(dx + r * n, y + r * n, g + r * n, n, n, sc, smem);
}

template <class T, bool W>
__global__ void causal_softmax_backward_kernel(T* dx, const T* y, const T* g, int64_t rows, int64_t Tq, int64_t Tk,
                                               T sc) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const int64_t visible = r % Tq + (Tk - Tq) + 1;
  softmax_backward_row<T, W>(dx + r * Tk, y + r * Tk, g + r * Tk, Tk, visible, sc, smem);
}

template <class T, bool W>
__global__ void log_softmax_kernel(T* y, const T* x, int64_t rows, int64_t n) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const T* xr = x + r * n;
  T* yr = y + r * n;
  const T lse = row_logsumexp<T, W>(xr, n, smem);
  for (int64_t j = RowGroup<W>::rank(); j < n; j += RowGroup<W>::size()) yr[j] = xr[j] - lse;
}

template <class T, bool W>
__global__ void log_softmax_backward_kernel(T* dx, const T* y, const T* g, int64_t rows, int64_t n) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const T* yr = y + r * n;
  const T* gr = g + r * n;
  T* dr = dx + r * n;
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  T sg = 0;
  for (int64_t j = t; j < n; j += S) sg += gr[j];
  sg = RowGroup<W>::sum(sg, smem);
  for (int64_t j = t; j < n; j += S) dr[j] = gr[j] - m_exp(yr[j]) * sg;
}

}  // namespace

void softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "softmax", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(softmax_kernel, T, rows, n, static_cast<T*>(y), static_cast<const T*>(x), rows, n);
  });
  check_launch("softmax");
}

void softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t n, double scale) {
  if (rows * n == 0) return;
  dispatch(dt, "softmax_backward", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(softmax_backward_kernel, T, rows, n, static_cast<T*>(dx), static_cast<const T*>(y),
                  static_cast<const T*>(g), rows, n, static_cast<T>(scale));
  });
  check_launch("softmax_backward");
}

void log_softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "log_softmax", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(log_softmax_kernel, T, rows, n, static_cast<T*>(y), static_cast<const T*>(x), rows, n);
  });
  check_launch("log_softmax");
}

void log_softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "log_softmax_backward", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(log_softmax_backward_kernel, T, rows, n, static_cast<T*>(dx), static_cast<const T*>(y),
                  static_cast<const T*>(g), rows, n);
  });
  check_launch("log_softmax_backward");
}

void causal_softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t Tq, int64_t Tk, double scale) {
  if (rows * Tk == 0) return;
  if (Tq < 1 || Tq > Tk) throw std::invalid_argument("cuda causal_softmax: need 1 <= Tq <= Tk");
  dispatch(dt, "causal_softmax", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(causal_softmax_kernel, T, rows, Tk, static_cast<T*>(y), static_cast<const T*>(x), rows, Tq, Tk,
                  static_cast<T>(scale));
  });
  check_launch("causal_softmax");
}

void causal_softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t Tq, int64_t Tk,
                             double scale) {
  if (rows * Tk == 0) return;
  if (Tq < 1 || Tq > Tk) throw std::invalid_argument("cuda causal_softmax_backward: need 1 <= Tq <= Tk");
  dispatch(dt, "causal_softmax_backward", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(causal_softmax_backward_kernel, T, rows, Tk, static_cast<T*>(dx), static_cast<const T*>(y),
                  static_cast<const T*>(g), rows, Tq, Tk, static_cast<T>(scale));
  });
  check_launch("causal_softmax_backward");
}

}  // namespace cuda
}  // namespace nf
