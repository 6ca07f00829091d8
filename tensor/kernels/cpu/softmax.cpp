// CPU softmax family (tensor/kernels/softmax.h): one row per task (cpu/parallel_rows.h), the row
// maths in cpu/softmax_rows.h.
#include "tensor/kernels/softmax.h"

#include <algorithm>
#include <limits>

#include "tensor/fast_math.h"
#include "tensor/kernels/cpu/parallel_rows.h"
#include "tensor/kernels/cpu/softmax_rows.h"
#include "tensor/kernels/cuda/softmax.h"
#include "tensor/kernels/route.h"
#include "tensor/kernels/rows.h"

namespace nf {
namespace kernels {

using cpu::for_rows;

void softmax_forward(const Tensor& y, const Tensor& x) {
  NF_ON_GPU(y, softmax_forward(y, x));
  const RowsOf s = rows_of(x);
  const int64_t n = s.n;
  dispatch_float(x.dtype(), "softmax", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    for_rows(s.rows, n, [&](int64_t r) { cpu::softmax_row(px + r * n, py + r * n, n); });
  });
}

void softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale) {
  NF_ON_GPU(dx, softmax_backward(dx, y, g, scale));
  const RowsOf s = rows_of(y);
  const int64_t n = s.n;
  dispatch_float(y.dtype(), "softmax_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* py = y.data<scalar_t>();
    const scalar_t* pg = g.data<scalar_t>();
    scalar_t* pd = dx.data<scalar_t>();
    const scalar_t sc = static_cast<scalar_t>(scale);
    for_rows(s.rows, n, [&](int64_t r) { cpu::softmax_backward_row(py + r * n, pg + r * n, pd + r * n, n, sc); });
  });
}

void log_softmax_forward(const Tensor& y, const Tensor& x) {
  NF_ON_GPU(y, log_softmax_forward(y, x));
  const RowsOf s = rows_of(x);
  const int64_t n = s.n;
  dispatch_float(x.dtype(), "log_softmax", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    for_rows(s.rows, n, [&](int64_t r) { cpu::log_softmax_row(px + r * n, py + r * n, n); });
  });
}

void log_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g) {
  NF_ON_GPU(dx, log_softmax_backward(dx, y, g));
  const RowsOf s = rows_of(y);
  const int64_t n = s.n;
  dispatch_float(y.dtype(), "log_softmax_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* py = y.data<scalar_t>();
    const scalar_t* pg = g.data<scalar_t>();
    scalar_t* pd = dx.data<scalar_t>();
    for_rows(s.rows, n, [&](int64_t r) {
      const scalar_t* yr = py + r * n;
      const scalar_t* gr = pg + r * n;
      scalar_t* dr = pd + r * n;
      scalar_t sg = 0;
#pragma omp simd reduction(+ : sg)
      for (int64_t i = 0; i < n; ++i) sg += gr[i];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) dr[i] = gr[i] - fexp(yr[i]) * sg;
    });
  });
}

void causal_softmax_forward(const Tensor& y, const Tensor& x, double scale) {
  NF_ON_GPU(y, causal_softmax_forward(y, x, scale));
  const int64_t Tq = x.size(-2), Tk = x.size(-1), offset = Tk - Tq;
  const int64_t rows = Tk ? x.numel() / Tk : 0;
  dispatch_float(x.dtype(), "causal_softmax", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    const scalar_t sc = static_cast<scalar_t>(scale);
    for_rows(rows, Tk, [&](int64_t r) {
      const scalar_t* xr = px + r * Tk;
      scalar_t* yr = py + r * Tk;
      const int64_t visible = r % Tq + offset + 1;  // keys 0 .. visible-1
      scalar_t m = -std::numeric_limits<scalar_t>::infinity();
#pragma omp simd reduction(max : m)
      for (int64_t j = 0; j < visible; ++j) m = sc * xr[j] > m ? sc * xr[j] : m;
      scalar_t s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < visible; ++j) {
        const scalar_t e = fexp(sc * xr[j] - m);
        yr[j] = e;
        s += e;
      }
      const scalar_t inv = 1 / s;
#pragma omp simd
      for (int64_t j = 0; j < visible; ++j) yr[j] *= inv;
      std::fill(yr + visible, yr + Tk, scalar_t(0));
    });
  });
}

void causal_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale) {
  NF_ON_GPU(dx, causal_softmax_backward(dx, y, g, scale));
  const int64_t Tq = y.size(-2), Tk = y.size(-1), offset = Tk - Tq;
  const int64_t rows = Tk ? y.numel() / Tk : 0;
  dispatch_float(y.dtype(), "causal_softmax_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* py = y.data<scalar_t>();
    const scalar_t* pg = g.data<scalar_t>();
    scalar_t* pd = dx.data<scalar_t>();
    for_rows(rows, Tk, [&](int64_t r) {
      const int64_t visible = r % Tq + offset + 1;
      cpu::softmax_backward_row(py + r * Tk, pg + r * Tk, pd + r * Tk, visible, static_cast<scalar_t>(scale));
      std::fill(pd + r * Tk + visible, pd + (r + 1) * Tk, scalar_t(0));
    });
  });
}

}  // namespace kernels
}  // namespace nf
