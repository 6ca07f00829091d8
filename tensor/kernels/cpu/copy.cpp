// CPU copies and fills (tensor/kernels/copy.h): one strided loop, converting element by element.
#include "tensor/kernels/copy.h"

#include <algorithm>

#include "tensor/kernels/cuda/copy.h"
#include "tensor/kernels/route.h"
#include "tensor/strided.h"

namespace nf {
namespace kernels {
namespace {

template <class D, class S>
void copy_typed(const Tensor& dst, const Tensor& src) {
  D* d = dst.data<D>();
  const S* s = src.data<S>();
  StridedLoop<2> loop(dst.shape(), {dst.strides(), broadcast_strides(src, dst.shape())});
  loop.run([&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> is) {
    D* dp = d + off[0];
    const S* sp = s + off[1];
    if (is[0] == 1 && is[1] == 1) {
      for (int64_t i = 0; i < n; ++i) dp[i] = static_cast<D>(sp[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) dp[i * is[0]] = static_cast<D>(sp[i * is[1]]);
    }
  });
}

// Runs f with a zero of the C++ type of any dtype.
template <class F>
void dispatch_any(DType dt, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); break;
    case DType::F64: f(double{}); break;
    case DType::I64: f(int64_t{}); break;
    case DType::Bool: f(bool{}); break;
  }
}

template <class T>
void fill_contiguous(T* p, int64_t n, T v) {
  constexpr int64_t chunk = 1 << 16;  // large fills (gradient buffers) use every thread
  const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 2)
  for (int64_t c = 0; c < chunks; ++c) std::fill(p + c * chunk, p + std::min(n, (c + 1) * chunk), v);
}

}  // namespace

void copy(const Tensor& dst, const Tensor& src) {
  NF_ON_GPU(dst, copy(dst, src));
  dispatch_any(dst.dtype(), [&](auto d_zero) {
    dispatch_any(src.dtype(), [&](auto s_zero) { copy_typed<decltype(d_zero), decltype(s_zero)>(dst, src); });
  });
}

void fill(const Tensor& dst, double value) {
  NF_ON_GPU(dst, fill(dst, value));
  dispatch_any(dst.dtype(), [&](auto zero) {
    using T = decltype(zero);
    const T v = std::is_same<T, bool>::value ? static_cast<T>(value != 0.0) : static_cast<T>(value);
    if (dst.is_contiguous()) {
      fill_contiguous(dst.data<T>(), dst.numel(), v);
    } else {
      T* p = dst.data<T>();
      StridedLoop<1> loop(dst.shape(), {dst.strides()});
      loop.run([&](std::array<int64_t, 1> off, int64_t n, std::array<int64_t, 1> is) {
        for (int64_t i = 0; i < n; ++i) p[off[0] + i * is[0]] = v;
      });
    }
  });
}

}  // namespace kernels
}  // namespace nf
