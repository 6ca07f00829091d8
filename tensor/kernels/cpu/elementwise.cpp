// CPU elementwise kernels (tensor/kernels/elementwise.h). One strided loop per arity, written
// once as a template over the element function; each op's function is a lambda, and the switch
// on the op sits outside the loop, so every op gets its own loop with the function inlined
// (and vectorised by `#pragma omp simd` where the operands are contiguous).
#include "tensor/kernels/elementwise.h"

#include <cmath>

#include "tensor/fast_math.h"
#include "tensor/kernels/cuda/elementwise.h"
#include "tensor/kernels/route.h"
#include "tensor/strided.h"

namespace nf {
namespace kernels {
namespace {

// GELU, tanh form: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
// d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
// float64 evaluates exactly that (std::tanh), so the gradient checks see the textbook formula.
// float32 uses the same function through 0.5 (1 + tanh u) = σ(2u), 1 − tanh² u = 4 σ(2u) σ(−2u),
// with σ(2u) = 1 / (1 + e^{−2u}) and σ(−2u) = e^{−2u} σ(2u) from one vectorisable fexp
// (tensor/fast_math.h): gelu = x σ(2u), gelu' = σ(2u) + 2 x σ(2u) σ(−2u) √(2/π) (1 + 3c x²),
// every factor to a few ulp — no 1 − t² cancellation (tests/autograd/test_fused.cpp).
template <class T> NF_ALWAYS_INLINE T gelu_f(T x) {
  const T k = static_cast<T>(0.7978845608028654), c = static_cast<T>(0.044715);
  return static_cast<T>(0.5) * x * (1 + std::tanh(k * (x + c * x * x * x)));
}
template <class T> NF_ALWAYS_INLINE T gelu_df(T x) {
  const T k = static_cast<T>(0.7978845608028654), c = static_cast<T>(0.044715);
  const T t = std::tanh(k * (x + c * x * x * x));
  return static_cast<T>(0.5) * (1 + t) + static_cast<T>(0.5) * x * (1 - t * t) * k * (1 + 3 * c * x * x);
}
// σ(2u) and σ(−2u) for float32, −2u clamped to ±80 (e^{±80} is finite in float; σ is 0 or 1
// to float precision well before).
NF_ALWAYS_INLINE void gelu_sigmoids(float x, float& s, float& sn) {
  const float k = 0.7978845608028654f, c = 0.044715f;
  float a = -2.0f * k * (x + c * x * x * x);
  a = a > 80.0f ? 80.0f : (a < -80.0f ? -80.0f : a);
  const float en = fexp(a);
  s = 1.0f / (1.0f + en);
  sn = en * s;
}
template <> NF_ALWAYS_INLINE float gelu_f<float>(float x) {
  float s, sn;
  gelu_sigmoids(x, s, sn);
  return x * s;
}
template <> NF_ALWAYS_INLINE float gelu_df<float>(float x) {
  const float k = 0.7978845608028654f, c = 0.044715f;
  float s, sn;
  gelu_sigmoids(x, s, sn);
  return s + 2.0f * x * s * sn * k * (1.0f + 3.0f * c * x * x);
}

// out[i] = f(a[i], b[i]) over out's shape (out contiguous; a, b broadcast to it).
template <class scalar_t, class F>
void binary_loop(const Tensor& out, const Tensor& a, const Tensor& b, F f) {
  const Shape& shape = out.shape();
  const scalar_t* pa = a.data<scalar_t>();
  const scalar_t* pb = b.data<scalar_t>();
  scalar_t* po = out.data<scalar_t>();
  StridedLoop<3> loop(shape, {out.strides(), broadcast_strides(a, shape), broadcast_strides(b, shape)});
  loop.run([&](std::array<int64_t, 3> o, int64_t n, std::array<int64_t, 3> s) {
    scalar_t* y = po + o[0];
    const scalar_t* x1 = pa + o[1];
    const scalar_t* x2 = pb + o[2];
    if (s[1] == 1 && s[2] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = f(x1[i], x2[i]);
    } else if (s[1] == 1 && s[2] == 0) {
      const scalar_t c = x2[0];
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = f(x1[i], c);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = f(x1[i * s[1]], x2[i * s[2]]);
    }
  });
}

// out[i] = f(a[i]); a read through its strides, out contiguous.
template <class scalar_t, class F>
void unary_loop(const Tensor& out, const Tensor& a, F f) {
  const scalar_t* pa = a.data<scalar_t>();
  scalar_t* po = out.data<scalar_t>();
  StridedLoop<2> loop(a.shape(), {out.strides(), a.strides()});
  loop.run([&](std::array<int64_t, 2> o, int64_t n, std::array<int64_t, 2> s) {
    scalar_t* y = po + o[0];
    const scalar_t* x = pa + o[1];
    if (s[1] == 1) {
#pragma omp simd
      for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) y[i] = f(x[i * s[1]]);
    }
  });
}

// g * f'(x) as one element function of (g, x) (x = the saved input or output).
template <class F>
auto times_derivative(F dfdx) {
  return [dfdx](auto gi, auto xi) { return gi * dfdx(xi); };
}

}  // namespace

void unary(const Tensor& out, UnaryOp op, const Tensor& a, double s) {
  NF_ON_GPU(out, unary(out, op, a, s));
  dispatch_float(a.dtype(), "unary", [&](auto zero_) { using scalar_t = decltype(zero_);
    switch (op) {
      case UnaryOp::AddScalar:
        return unary_loop<scalar_t>(out, a, [s](auto x) { return x + static_cast<decltype(x)>(s); });
      case UnaryOp::MulScalar:
        return unary_loop<scalar_t>(out, a, [s](auto x) { return x * static_cast<decltype(x)>(s); });
      case UnaryOp::RSub:
        return unary_loop<scalar_t>(out, a, [s](auto x) { return static_cast<decltype(x)>(s) - x; });
      case UnaryOp::RDiv:
        return unary_loop<scalar_t>(out, a, [s](auto x) { return static_cast<decltype(x)>(s) / x; });
      case UnaryOp::Neg: return unary_loop<scalar_t>(out, a, [](auto x) { return -x; });
      case UnaryOp::Pow:
        return unary_loop<scalar_t>(out, a, [s](auto x) { return std::pow(x, static_cast<decltype(x)>(s)); });
      case UnaryOp::Exp: return unary_loop<scalar_t>(out, a, [](auto x) { return std::exp(x); });
      case UnaryOp::Log: return unary_loop<scalar_t>(out, a, [](auto x) { return std::log(x); });
      case UnaryOp::Sqrt: return unary_loop<scalar_t>(out, a, [](auto x) { return std::sqrt(x); });
      case UnaryOp::Rsqrt: return unary_loop<scalar_t>(out, a, [](auto x) { return 1 / std::sqrt(x); });
      case UnaryOp::Tanh: return unary_loop<scalar_t>(out, a, [](auto x) { return std::tanh(x); });
      case UnaryOp::Sigmoid: return unary_loop<scalar_t>(out, a, [](auto x) { return 1 / (1 + std::exp(-x)); });
      case UnaryOp::Relu: return unary_loop<scalar_t>(out, a, [](auto x) { return x > 0 ? x : decltype(x)(0); });
      case UnaryOp::Gelu: return unary_loop<scalar_t>(out, a, [](auto x) { return gelu_f(x); });
    }
  });
}

void binary(const Tensor& out, BinaryOp op, const Tensor& a, const Tensor& b, double s) {
  NF_ON_GPU(out, binary(out, op, a, b, s));
  dispatch_float(a.dtype(), "binary", [&](auto zero_) { using scalar_t = decltype(zero_);
    switch (op) {
      case BinaryOp::Add: return binary_loop<scalar_t>(out, a, b, [](auto x, auto y) { return x + y; });
      case BinaryOp::Sub: return binary_loop<scalar_t>(out, a, b, [](auto x, auto y) { return x - y; });
      case BinaryOp::Mul: return binary_loop<scalar_t>(out, a, b, [](auto x, auto y) { return x * y; });
      case BinaryOp::Div: return binary_loop<scalar_t>(out, a, b, [](auto x, auto y) { return x / y; });
      case BinaryOp::PowBackward:  // s x^(s-1)
        return binary_loop<scalar_t>(out, a, b, times_derivative([s](auto x) {
          return static_cast<decltype(x)>(s) * std::pow(x, static_cast<decltype(x)>(s - 1));
        }));
      case BinaryOp::SqrtBackward:  // 1 / (2 sqrt(x)) = 0.5 / y
        return binary_loop<scalar_t>(out, a, b, times_derivative([](auto y) { return 0.5 / y; }));
      case BinaryOp::RsqrtBackward:  // -1/2 x^(-3/2) = -y^3 / 2
        return binary_loop<scalar_t>(out, a, b, times_derivative([](auto y) { return -0.5 * y * y * y; }));
      case BinaryOp::TanhBackward:  // 1 - tanh^2
        return binary_loop<scalar_t>(out, a, b, times_derivative([](auto y) { return 1 - y * y; }));
      case BinaryOp::SigmoidBackward:  // s (1 - s)
        return binary_loop<scalar_t>(out, a, b, times_derivative([](auto y) { return y * (1 - y); }));
      case BinaryOp::ReluBackward:
        return binary_loop<scalar_t>(out, a, b, times_derivative([](auto x) {
          return x > 0 ? decltype(x)(1) : decltype(x)(0);
        }));
      case BinaryOp::GeluBackward:
        return binary_loop<scalar_t>(out, a, b, times_derivative([](auto x) { return gelu_df(x); }));
    }
  });
}

void masked_fill(const Tensor& out, const Tensor& a, const Tensor& mask, double value) {
  NF_ON_GPU(out, masked_fill(out, a, mask, value));
  const Shape& shape = out.shape();
  const bool* pm = mask.data<bool>();
  dispatch_float(a.dtype(), "masked_fill", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pa = a.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    const scalar_t v = static_cast<scalar_t>(value);
    StridedLoop<3> loop(shape, {out.strides(), broadcast_strides(a, shape), broadcast_strides(mask, shape)});
    loop.run([&](std::array<int64_t, 3> o, int64_t n, std::array<int64_t, 3> s) {
      scalar_t* y = po + o[0];
      const scalar_t* x = pa + o[1];
      const bool* m = pm + o[2];
      if (s[1] == 1 && s[2] == 1) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) y[i] = m[i] ? v : x[i];
      } else {
        for (int64_t i = 0; i < n; ++i) y[i] = m[i * s[2]] ? v : x[i * s[1]];
      }
    });
  });
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  NF_ON_GPU(out, where(out, cond, a, b));
  const Shape& shape = out.shape();
  const bool* pc = cond.data<bool>();
  dispatch_float(a.dtype(), "where", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pa = a.data<scalar_t>();
    const scalar_t* pb = b.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    StridedLoop<4> loop(shape, {out.strides(), broadcast_strides(cond, shape), broadcast_strides(a, shape),
                                broadcast_strides(b, shape)});
    loop.run([&](std::array<int64_t, 4> o, int64_t n, std::array<int64_t, 4> s) {
      scalar_t* y = po + o[0];
      const bool* c = pc + o[1];
      const scalar_t* x1 = pa + o[2];
      const scalar_t* x2 = pb + o[3];
      if (s[1] == 1 && s[2] == 1 && s[3] == 1) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) y[i] = c[i] ? x1[i] : x2[i];
      } else {
        for (int64_t i = 0; i < n; ++i) y[i] = c[i * s[1]] ? x1[i * s[2]] : x2[i * s[3]];
      }
    });
  });
}

void keep_where(const Tensor& out, const Tensor& g, const Tensor& cond, bool when) {
  NF_ON_GPU(out, keep_where(out, g, cond, when));
  const Shape& shape = out.shape();
  const bool* pc = cond.data<bool>();
  dispatch_float(g.dtype(), "where_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pg = g.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    StridedLoop<3> loop(shape, {out.strides(), broadcast_strides(g, shape), broadcast_strides(cond, shape)});
    loop.run([&](std::array<int64_t, 3> o, int64_t n, std::array<int64_t, 3> s) {
      for (int64_t i = 0; i < n; ++i)
        po[o[0] + i * s[0]] = pc[o[2] + i * s[2]] == when ? pg[o[1] + i * s[1]] : scalar_t(0);
    });
  });
}

void fill_causal_mask(const Tensor& mask) {
  NF_ON_GPU(mask, fill_causal_mask(mask));
  const int64_t T = mask.size(0);
  bool* p = mask.data<bool>();
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) p[i * T + j] = j > i;
}

void add_(const Tensor& dst, const Tensor& src, double alpha) {
  NF_ON_GPU(dst, add_(dst, src, alpha));
  dispatch_float(dst.dtype(), "add_", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* pd = dst.data<scalar_t>();
    const scalar_t* ps = src.data<scalar_t>();
    const scalar_t al = static_cast<scalar_t>(alpha);
    StridedLoop<2> loop(dst.shape(), {dst.strides(), broadcast_strides(src, dst.shape())});
    loop.run([&](std::array<int64_t, 2> o, int64_t n, std::array<int64_t, 2> st) {
      scalar_t* y = pd + o[0];
      const scalar_t* x = ps + o[1];
      if (st[0] == 1 && st[1] == 1) {
        if (alpha == 1.0) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) y[i] += x[i];
        } else {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) y[i] += al * x[i];
        }
      } else {
        for (int64_t i = 0; i < n; ++i) y[i * st[0]] += al * x[i * st[1]];
      }
    });
  });
}

void scale_(const Tensor& dst, double s) {
  NF_ON_GPU(dst, scale_(dst, s));
  dispatch_float(dst.dtype(), "mul_", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* pd = dst.data<scalar_t>();
    const scalar_t sc = static_cast<scalar_t>(s);
    StridedLoop<1> loop(dst.shape(), {dst.strides()});
    loop.run([&](std::array<int64_t, 1> o, int64_t n, std::array<int64_t, 1> st) {
      scalar_t* y = pd + o[0];
      if (st[0] == 1) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) y[i] *= sc;
      } else {
        for (int64_t i = 0; i < n; ++i) y[i * st[0]] *= sc;
      }
    });
  });
}

}  // namespace kernels
}  // namespace nf
