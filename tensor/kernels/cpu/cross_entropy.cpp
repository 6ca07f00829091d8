// CPU cross-entropy (tensor/kernels/cross_entropy.h): one row per task; the per-row losses are
// summed serially in double, so the loss does not depend on the thread count.
#include "tensor/kernels/cross_entropy.h"

#include <algorithm>
#include <limits>
#include <vector>

#include "tensor/fast_math.h"
#include "tensor/kernels/cpu/parallel_rows.h"
#include "tensor/kernels/cpu/softmax_rows.h"
#include "tensor/kernels/cuda/cross_entropy.h"
#include "tensor/kernels/route.h"

namespace nf {
namespace kernels {

using cpu::for_rows;

void cross_entropy_forward(const Tensor& loss, const Tensor& lse, const Tensor& count, const Tensor& logits,
                           const Tensor& targets, int64_t ignore_index) {
  NF_ON_GPU(logits, cross_entropy_forward(loss, lse, count, logits, targets, ignore_index));
  const int64_t V = logits.size(-1), N = targets.numel();
  const int64_t* pt = targets.data<int64_t>();
  int64_t counted = 0;
  for (int64_t r = 0; r < N; ++r)
    if (pt[r] != ignore_index) ++counted;
  *count.data<int64_t>() = counted;
  dispatch_float(logits.dtype(), "cross_entropy", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = logits.data<scalar_t>();
    scalar_t* pl = lse.data<scalar_t>();
    std::vector<double> row_loss(N, 0.0);
    for_rows(N, V, [&](int64_t r) {
      if (pt[r] == ignore_index) return;
      const scalar_t* xr = px + r * V;
      pl[r] = cpu::log_softmax_row<scalar_t>(xr, nullptr, V);
      row_loss[r] = static_cast<double>(pl[r]) - static_cast<double>(xr[pt[r]]);
    });
    double total = 0;
    for (int64_t r = 0; r < N; ++r) total += row_loss[r];
    *loss.data<scalar_t>() = counted ? static_cast<scalar_t>(total / static_cast<double>(counted))
                                     : std::numeric_limits<scalar_t>::quiet_NaN();
  });
}

void cross_entropy_backward(const Tensor& dlogits, const Tensor& g, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets, const Tensor& count, int64_t ignore_index) {
  NF_ON_GPU(logits, cross_entropy_backward(dlogits, g, logits, lse, targets, count, ignore_index));
  const int64_t V = logits.size(-1), N = targets.numel();
  const int64_t counted = *count.data<int64_t>();
  const double coef = counted ? g.item() / static_cast<double>(counted) : 0.0;
  const int64_t* pt = targets.data<int64_t>();
  dispatch_float(logits.dtype(), "cross_entropy_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = logits.data<scalar_t>();
    const scalar_t* pl = lse.data<scalar_t>();
    scalar_t* pd = dlogits.data<scalar_t>();
    const scalar_t c = static_cast<scalar_t>(coef);
    for_rows(N, V, [&](int64_t r) {
      scalar_t* dr = pd + r * V;
      if (pt[r] == ignore_index) {
        std::fill(dr, dr + V, scalar_t(0));
        return;
      }
      const scalar_t* xr = px + r * V;
      const scalar_t l = pl[r];
#pragma omp simd
      for (int64_t j = 0; j < V; ++j) dr[j] = c * fexp(xr[j] - l);
      dr[pt[r]] -= c;
    });
  });
}

}  // namespace kernels
}  // namespace nf
