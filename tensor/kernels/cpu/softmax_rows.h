#pragma once
// The softmax of one contiguous row and its backward, shared by the CPU softmax family
// (tensor/kernels/cpu/softmax.cpp) and cross-entropy's logsumexp (cpu/cross_entropy.cpp).
// fexp (tensor/fast_math.h) is a vectorisable float32 exp, exact std::exp in float64.
#include <cmath>
#include <cstdint>
#include <limits>

#include "tensor/fast_math.h"

namespace nf {
namespace kernels {
namespace cpu {

template <class T>
T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// y = softmax(x) = exp(x - max) / Σ exp(x - max)
template <class T>
void softmax_row(const T* x, T* y, int64_t n) {
  const T m = row_max(x, n);
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const T e = fexp(x[i] - m);
    y[i] = e;
    s += e;
  }
  const T inv = 1 / s;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

// y = x - logsumexp(x), logsumexp(x) = max + log Σ exp(x - max); returns logsumexp. y may be
// null (only the logsumexp wanted).
template <class T>
T log_softmax_row(const T* x, T* y, int64_t n) {
  const T m = row_max(x, n);
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += fexp(x[i] - m);
  const T lse = m + std::log(s);
  if (y) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - lse;
  }
  return lse;
}

// dx = y ⊙ (g − Σ g ⊙ y), times `scale`
template <class T>
void softmax_backward_row(const T* y, const T* g, T* dx, int64_t n, T scale) {
  T dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t i = 0; i < n; ++i) dot += g[i] * y[i];
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = scale * y[i] * (g[i] - dot);
}

}  // namespace cpu
}  // namespace kernels
}  // namespace nf
