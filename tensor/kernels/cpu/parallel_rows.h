#pragma once
// How the CPU row kernels share rows among OpenMP threads (softmax family, cross-entropy,
// normalisations, embedding, dropout): each row is one task, and the team starts only when the
// whole kernel touches enough elements to pay for it.
#include <cstdint>

namespace nf {
namespace kernels {
namespace cpu {

// Below this many elements a kernel runs on one thread: starting a team costs more than it saves.
// (Row kernels do more work per element than a copy — exp, two passes — hence half the
// elementwise threshold of tensor/strided.h.)
constexpr int64_t kParallelWork = 1 << 16;

// f(i) for every i in [0, count); in parallel when `work` (elements touched in all) is large.
// f must not throw (the ops validate before calling a kernel).
template <class F>
void parallel_for(int64_t count, int64_t work, F&& f) {
  if (count > 1 && work >= kParallelWork) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i) f(i);
  } else {
    for (int64_t i = 0; i < count; ++i) f(i);
  }
}

// f(r) for every row r of `rows` rows of `n` elements.
template <class F>
void for_rows(int64_t rows, int64_t n, F&& f) {
  parallel_for(rows, rows * n, f);
}

}  // namespace cpu
}  // namespace kernels
}  // namespace nf
