// CPU reductions and scans (tensor/kernels/reduce.h).
#include "tensor/kernels/reduce.h"

#include <algorithm>
#include <cmath>

#include "tensor/kernels/copy.h"
#include "tensor/kernels/cuda/reduce.h"
#include "tensor/kernels/route.h"
#include "tensor/strided.h"

namespace nf {
namespace kernels {

// Three strategies, by where the reduced dims lie in a contiguous input:
//   trailing (a row's sum: softmax-style rows, sum(x, -1)): rows in parallel, each summed by one
//     thread with a SIMD reduction;
//   leading (bias gradients: sum over the rows of an (R, C) gradient): column blocks in
//     parallel, each block summed over the rows in row order;
//   anything else: one strided walk with the output's strides set to 0 on the reduced dims, so
//     every input element accumulates into its output slot (serial: rows share output slots).
void sum(const Tensor& out, const Tensor& a, const std::vector<int64_t>& dims) {
  NF_ON_GPU(out, sum(out, a, dims));
  const bool trailing = !dims.empty() && dims.front() == a.dim() - static_cast<int64_t>(dims.size()) && a.is_contiguous();
  const bool leading = !dims.empty() && !trailing && dims.back() == static_cast<int64_t>(dims.size()) - 1 &&
                       a.is_contiguous();
  if (!trailing) fill(out, 0.0);  // the other two accumulate into out
  dispatch_float(a.dtype(), "sum", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pa = a.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    if (leading) {
      // out[j] = Σ_r a[r, j]: each column block is summed over rows in row order by one thread
      // (the result does not depend on the thread count); rows stream through contiguously.
      const int64_t cols = out.numel(), rows = a.numel() / std::max<int64_t>(cols, 1);
      constexpr int64_t kColBlock = 256;
      const int64_t blocks = (cols + kColBlock - 1) / kColBlock;
#pragma omp parallel for schedule(static) if (a.numel() > (1 << 16) && blocks > 1)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t j0 = blk * kColBlock, nj = std::min(kColBlock, cols - j0);
        scalar_t* y = po + j0;
        for (int64_t r = 0; r < rows; ++r) {
          const scalar_t* x = pa + r * cols + j0;
#pragma omp simd
          for (int64_t j = 0; j < nj; ++j) y[j] += x[j];
        }
      }
    } else if (trailing) {
      const int64_t rows = out.numel(), n = a.numel() / std::max<int64_t>(rows, 1);
#pragma omp parallel for schedule(static) if (a.numel() > (1 << 16))
      for (int64_t r = 0; r < rows; ++r) {
        const scalar_t* x = pa + r * n;
        scalar_t acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; ++i) acc += x[i];
        po[r] = acc;
      }
    } else {
      StridedLoop<2> loop(a.shape(), {broadcast_strides(out, a.shape()), a.strides()});
      loop.run([&](std::array<int64_t, 2> o, int64_t n, std::array<int64_t, 2> s) {
        scalar_t* y = po + o[0];
        const scalar_t* x = pa + o[1];
        if (s[0] == 0) {
          scalar_t acc = 0;
          for (int64_t i = 0; i < n; ++i) acc += x[i * s[1]];
          *y += acc;
        } else {
          for (int64_t i = 0; i < n; ++i) y[i * s[0]] += x[i * s[1]];
        }
      }, /*allow_parallel=*/false);  // rows may share output slots
    }
  });
}

void max_lastdim(const Tensor& values, const Tensor& indices, const Tensor& x) {
  NF_ON_GPU(x, max_lastdim(values, indices, x));
  const int64_t n = x.size(-1), rows = x.numel() / n;
  int64_t* pi = indices.data<int64_t>();
  dispatch_float(x.dtype(), "max", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* pv = values.data<scalar_t>();
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* row = px + r * n;
      int64_t best = 0;
      for (int64_t i = 1; i < n; ++i)
        if (row[i] > row[best] || (std::isnan(row[i]) && !std::isnan(row[best]))) best = i;
      pv[r] = row[best];
      pi[r] = best;
    }
  });
}

void max_backward(const Tensor& gx, const Tensor& g, const Tensor& indices) {
  NF_ON_GPU(gx, max_backward(gx, g, indices));
  fill(gx, 0.0);
  const int64_t n = gx.size(-1), rows = indices.numel();
  const int64_t* pi = indices.data<int64_t>();
  dispatch_float(g.dtype(), "max_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pg = g.data<scalar_t>();
    scalar_t* px = gx.data<scalar_t>();
    for (int64_t r = 0; r < rows; ++r) px[r * n + pi[r]] = pg[r];
  });
}

void cumsum(const Tensor& out, const Tensor& x, bool reverse) {
  NF_ON_GPU(out, cumsum(out, x, reverse));
  const int64_t n = x.dim() ? x.size(-1) : 1, rows = x.numel() / std::max<int64_t>(n, 1);
  dispatch_float(x.dtype(), "cumsum", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
#pragma omp parallel for schedule(static) if (x.numel() > (1 << 16))
    for (int64_t r = 0; r < rows; ++r) {
      scalar_t acc = 0;
      if (!reverse) {
        for (int64_t i = 0; i < n; ++i) po[r * n + i] = acc += px[r * n + i];
      } else {
        for (int64_t i = n - 1; i >= 0; --i) po[r * n + i] = acc += px[r * n + i];
      }
    }
  });
}

}  // namespace kernels
}  // namespace nf
