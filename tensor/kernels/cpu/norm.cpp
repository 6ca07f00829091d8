// CPU layer_norm / rms_norm (tensor/kernels/norm.h): forward one row per task; the backward
// works in fixed blocks of rows, each with its own partial dw/db.
#include "tensor/kernels/norm.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/kernels/cpu/parallel_rows.h"
#include "tensor/kernels/cuda/norm.h"
#include "tensor/kernels/route.h"
#include "tensor/kernels/rows.h"

namespace nf {
namespace kernels {
namespace {

// Rows per block when summing dweight/dbias over rows: each block sums its rows into its own
// partial vector, then the partials are added in block order. Fixed blocks (not one per thread)
// keep the result independent of the thread count.
constexpr int64_t kRowBlock = 32;

}  // namespace

using cpu::for_rows;

void layer_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w,
                        const Tensor& b, double eps) {
  NF_ON_GPU(x, layer_norm_forward(y, mean, rstd, x, w, b, eps));
  const RowsOf s = rows_of(x);
  const int64_t R = s.rows, C = s.n;
  dispatch_float(x.dtype(), "layer_norm", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pw = w.defined() ? w.data<scalar_t>() : nullptr;
    const scalar_t* pb = b.defined() ? b.data<scalar_t>() : nullptr;
    scalar_t* py = y.data<scalar_t>();
    scalar_t* pm = mean.data<scalar_t>();
    scalar_t* pr = rstd.data<scalar_t>();
    const scalar_t e = static_cast<scalar_t>(eps);
    for_rows(R, C, [&](int64_t r) {
      const scalar_t* xr = px + r * C;
      scalar_t* yr = py + r * C;
      scalar_t s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < C; ++j) s += xr[j];
      const scalar_t mu = s / static_cast<scalar_t>(C);
      scalar_t v = 0;
#pragma omp simd reduction(+ : v)
      for (int64_t j = 0; j < C; ++j) v += (xr[j] - mu) * (xr[j] - mu);
      const scalar_t rs = 1 / std::sqrt(v / static_cast<scalar_t>(C) + e);
      pm[r] = mu;
      pr[r] = rs;
      if (pw && pb) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) yr[j] = (xr[j] - mu) * rs * pw[j] + pb[j];
      } else {
        for (int64_t j = 0; j < C; ++j) {
          scalar_t y = (xr[j] - mu) * rs;
          if (pw) y *= pw[j];
          if (pb) y += pb[j];
          yr[j] = y;
        }
      }
    });
  });
}

void rms_norm_forward(const Tensor& y, const Tensor& rstd, const Tensor& x, const Tensor& w, double eps) {
  NF_ON_GPU(x, rms_norm_forward(y, rstd, x, w, eps));
  const RowsOf s = rows_of(x);
  const int64_t R = s.rows, C = s.n;
  dispatch_float(x.dtype(), "rms_norm", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pw = w.defined() ? w.data<scalar_t>() : nullptr;
    scalar_t* py = y.data<scalar_t>();
    scalar_t* pr = rstd.data<scalar_t>();
    const scalar_t e = static_cast<scalar_t>(eps);
    for_rows(R, C, [&](int64_t r) {
      const scalar_t* xr = px + r * C;
      scalar_t* yr = py + r * C;
      scalar_t ss = 0;
#pragma omp simd reduction(+ : ss)
      for (int64_t j = 0; j < C; ++j) ss += xr[j] * xr[j];
      const scalar_t rs = 1 / std::sqrt(ss / static_cast<scalar_t>(C) + e);
      pr[r] = rs;
      if (pw) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] * rs * pw[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] * rs;
      }
    });
  });
}

void norm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g, const Tensor& x,
                   const Tensor& mean, const Tensor& rstd, const Tensor& w) {
  NF_ON_GPU(x, norm_backward(dx, dw, db, g, x, mean, rstd, w));
  const bool centered = mean.defined();
  const bool want_w = dw.defined(), want_b = db.defined();
  const RowsOf s = rows_of(x);
  const int64_t R = s.rows, C = s.n;
  const int64_t blocks = (R + kRowBlock - 1) / kRowBlock;
  dispatch_float(x.dtype(), centered ? "layer_norm_backward" : "rms_norm_backward", [&](auto zero_) {
    using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pg = g.data<scalar_t>();
    const scalar_t* pm = centered ? mean.data<scalar_t>() : nullptr;
    const scalar_t* pr = rstd.data<scalar_t>();
    const scalar_t* pw = w.defined() ? w.data<scalar_t>() : nullptr;
    scalar_t* pdx = dx.defined() ? dx.data<scalar_t>() : nullptr;
    std::vector<scalar_t> part_w(want_w ? blocks * C : 0, 0), part_b(want_b ? blocks * C : 0, 0);
    auto block = [&](int64_t b) {
      std::vector<scalar_t> h(C), xh(C);
      for (int64_t r = b * kRowBlock; r < std::min(R, (b + 1) * kRowBlock); ++r) {
        const scalar_t* xr = px + r * C;
        const scalar_t* gr = pg + r * C;
        const scalar_t mu = pm ? pm[r] : scalar_t(0), rs = pr[r];
        scalar_t sh = 0, shx = 0;
        for (int64_t j = 0; j < C; ++j) {
          xh[j] = (xr[j] - mu) * rs;
          h[j] = pw ? gr[j] * pw[j] : gr[j];
          sh += h[j];
          shx += h[j] * xh[j];
        }
        if (pdx) {
          const scalar_t mh = centered ? sh / static_cast<scalar_t>(C) : scalar_t(0);
          const scalar_t mhx = shx / static_cast<scalar_t>(C);
          scalar_t* dr = pdx + r * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) dr[j] = rs * (h[j] - mh - xh[j] * mhx);
        }
        if (want_w) {
          scalar_t* acc = part_w.data() + b * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) acc[j] += gr[j] * xh[j];
        }
        if (want_b) {
          scalar_t* acc = part_b.data() + b * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) acc[j] += gr[j];
        }
      }
    };
    cpu::parallel_for(blocks, R * C, block);
    // The partials in block order, onto zeros.
    auto reduce = [&](const std::vector<scalar_t>& part, const Tensor& out) {
      scalar_t* ps = out.data<scalar_t>();
      std::fill(ps, ps + C, scalar_t(0));
      for (int64_t b = 0; b < blocks; ++b)
        for (int64_t j = 0; j < C; ++j) ps[j] += part[b * C + j];
    };
    if (want_w) reduce(part_w, dw);
    if (want_b) reduce(part_b, db);
  });
}

}  // namespace kernels
}  // namespace nf
