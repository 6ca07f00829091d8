// CPU embedding (tensor/kernels/embedding.h). The backward cuts the vocabulary into fixed ranges,
// one task each: a task scans all ids in order and adds only the rows in its range.
#include "tensor/kernels/embedding.h"

#include <algorithm>

#include "tensor/kernels/copy.h"
#include "tensor/kernels/cpu/parallel_rows.h"
#include "tensor/kernels/cuda/embedding.h"
#include "tensor/kernels/route.h"

namespace nf {
namespace kernels {

void embedding_forward(const Tensor& out, const Tensor& weight, const Tensor& ids) {
  NF_ON_GPU(out, embedding_forward(out, weight, ids));
  const int64_t C = weight.size(1), N = ids.numel();
  const int64_t* pi = ids.data<int64_t>();
  dispatch_float(weight.dtype(), "embedding", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pw = weight.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    cpu::for_rows(N, C, [&](int64_t i) { std::copy(pw + pi[i] * C, pw + (pi[i] + 1) * C, po + i * C); });
  });
}

void embedding_backward(const Tensor& dweight, const Tensor& g, const Tensor& ids) {
  NF_ON_GPU(dweight, embedding_backward(dweight, g, ids));
  const int64_t V = dweight.size(0), C = dweight.size(1), N = ids.numel();
  fill(dweight, 0.0);
  const int64_t* pi = ids.data<int64_t>();
  dispatch_float(g.dtype(), "embedding_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pg = g.data<scalar_t>();
    scalar_t* pd = dweight.data<scalar_t>();
    const int64_t tasks = std::min<int64_t>(V, 64), span = (V + tasks - 1) / std::max<int64_t>(tasks, 1);
    auto task = [&](int64_t k) {
      const int64_t lo = k * span, hi = std::min(V, lo + span);
      for (int64_t i = 0; i < N; ++i) {
        const int64_t v = pi[i];
        if (v < lo || v >= hi) continue;
        scalar_t* dr = pd + v * C;
        const scalar_t* gr = pg + i * C;
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) dr[j] += gr[j];
      }
    };
    if (tasks > 1 && N * C >= cpu::kParallelWork) {
#pragma omp parallel for schedule(dynamic)
      for (int64_t k = 0; k < tasks; ++k) task(k);
    } else {
      for (int64_t k = 0; k < tasks; ++k) task(k);
    }
  });
}

}  // namespace kernels
}  // namespace nf
