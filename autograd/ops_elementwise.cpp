// Elementwise ops: arithmetic with broadcasting, unary maths and activations.
// Each op is a forward loop plus a backward closure written with other ops, e.g.
//   c = a * b   ->   da = sum_to(g * b, a.shape),  db = sum_to(g * a, b.shape)
// where sum_to undoes broadcasting (docs/autograd.md derives each one).
#include <cmath>

#include "autograd/node.h"
#include "tensor/fast_math.h"
#include "autograd/ops.h"
#include "tensor/strided.h"

namespace nf {
namespace {

void check_binary(const char* op, const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) op_error(op, "undefined operand");
  check_same_device(op, a, b);
  check_same_dtype(op, a, b);
  if (!is_floating(a.dtype()))
    op_error(op, std::string("expected floating tensors, got ") + dtype_name(a.dtype()));
}

// out[i] = f(a[i], b[i]) over the broadcast shape.
template <class F>
Tensor binary_forward(const char* op, const Tensor& a, const Tensor& b, F f) {
  check_binary(op, a, b);
  const Shape shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = empty(shape, a.dtype(), a.device());
  dispatch_float(a.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
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
  });
  return out;
}

// out[i] = f(a[i]); the input is read through its strides, the output is contiguous.
template <class F>
Tensor unary_forward(const char* op, const Tensor& a, F f) {
  if (!a.defined()) op_error(op, "undefined operand");
  Tensor out = empty(a.shape(), a.dtype(), a.device());
  dispatch_float(a.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
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
  });
  return out;
}

// g * f'(x) computed in one pass (x = saved input or output).
template <class F>
Tensor unary_backward(const char* op, const Tensor& g, const Tensor& x, F dfdx) {
  return binary_forward(op, g, x, [dfdx](auto gi, auto xi) { return gi * dfdx(xi); });
}

}  // namespace

// ---- broadcasting backward -----------------------------------------------------------------------
Tensor sum_to(const Tensor& grad, const Shape& shape) {
  if (grad.shape() == shape) return grad;
  const int64_t lead = grad.dim() - static_cast<int64_t>(shape.size());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < grad.dim(); ++d)
    if (d < lead || (shape[d - lead] == 1 && grad.shape()[d] != 1)) dims.push_back(d);
  Tensor s = sum(grad, dims, /*keepdim=*/true);
  return s.reshape(shape);
}

// ---- binary arithmetic -----------------------------------------------------------------------------
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("add", a, b, [](auto x, auto y) { return x + y; });
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, "add", {a, b}, [sa, sb](const Tensor& g) {
      return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
    });
  }
  return out;
}

Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("sub", a, b, [](auto x, auto y) { return x - y; });
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, "sub", {a, b}, [sa, sb](const Tensor& g) {
      return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
    });
  }
  return out;
}

Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("mul", a, b, [](auto x, auto y) { return x * y; });
  if (needs_grad({&a, &b})) {
    Tensor da = a.detach(), db = b.detach();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record(out, "mul", {a, b}, [da, db, ga, gb](const Tensor& g) {
      return std::vector<Tensor>{ga ? sum_to(mul(g, db), da.shape()) : Tensor(),
                                 gb ? sum_to(mul(g, da), db.shape()) : Tensor()};
    });
  }
  return out;
}

Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("div", a, b, [](auto x, auto y) { return x / y; });
  if (needs_grad({&a, &b})) {
    Tensor da = a.detach(), db = b.detach(), dout = out.detach();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record(out, "div", {a, b}, [da, db, dout, ga, gb](const Tensor& g) {
      // d(a/b)/da = 1/b ; d(a/b)/db = -a/b^2 = -out/b
      Tensor gdb = div(g, db);
      return std::vector<Tensor>{ga ? sum_to(gdb, da.shape()) : Tensor(),
                                 gb ? sum_to(neg(mul(gdb, dout)), db.shape()) : Tensor()};
    });
  }
  return out;
}

// ---- with a scalar -----------------------------------------------------------------------------------
Tensor add(const Tensor& a, double s) {
  Tensor out = unary_forward("add", a, [s](auto x) { return x + static_cast<decltype(x)>(s); });
  if (needs_grad({&a}))
    record(out, "add_scalar", {a}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor mul(const Tensor& a, double s) {
  Tensor out = unary_forward("mul", a, [s](auto x) { return x * static_cast<decltype(x)>(s); });
  if (needs_grad({&a}))
    record(out, "mul_scalar", {a}, [s](const Tensor& g) { return std::vector<Tensor>{mul(g, s)}; });
  return out;
}

Tensor rsub(double s, const Tensor& a) {
  Tensor out = unary_forward("rsub", a, [s](auto x) { return static_cast<decltype(x)>(s) - x; });
  if (needs_grad({&a}))
    record(out, "rsub", {a}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

Tensor rdiv(double s, const Tensor& a) {
  Tensor out = unary_forward("rdiv", a, [s](auto x) { return static_cast<decltype(x)>(s) / x; });
  if (needs_grad({&a})) {
    Tensor da = a.detach(), dout = out.detach();
    // d(s/a)/da = -s/a^2 = -out/a
    record(out, "rdiv", {a}, [da, dout](const Tensor& g) {
      return std::vector<Tensor>{neg(div(mul(g, dout), da))};
    });
  }
  return out;
}

// ---- unary maths ---------------------------------------------------------------------------------------
Tensor neg(const Tensor& a) {
  Tensor out = unary_forward("neg", a, [](auto x) { return -x; });
  if (needs_grad({&a}))
    record(out, "neg", {a}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

Tensor pow(const Tensor& a, double p) {
  Tensor out = unary_forward("pow", a, [p](auto x) { return std::pow(x, static_cast<decltype(x)>(p)); });
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "pow", {a}, [da, p](const Tensor& g) {  // p * x^(p-1)
      return std::vector<Tensor>{unary_backward("pow_backward", g, da, [p](auto x) {
        return static_cast<decltype(x)>(p) * std::pow(x, static_cast<decltype(x)>(p - 1));
      })};
    });
  }
  return out;
}

Tensor exp(const Tensor& a) {
  Tensor out = unary_forward("exp", a, [](auto x) { return std::exp(x); });
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "exp", {a}, [dout](const Tensor& g) { return std::vector<Tensor>{mul(g, dout)}; });
  }
  return out;
}

Tensor log(const Tensor& a) {
  Tensor out = unary_forward("log", a, [](auto x) { return std::log(x); });
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "log", {a}, [da](const Tensor& g) { return std::vector<Tensor>{div(g, da)}; });
  }
  return out;
}

Tensor sqrt(const Tensor& a) {
  Tensor out = unary_forward("sqrt", a, [](auto x) { return std::sqrt(x); });
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "sqrt", {a}, [dout](const Tensor& g) {  // 1 / (2 sqrt(x))
      return std::vector<Tensor>{unary_backward("sqrt_backward", g, dout, [](auto y) { return 0.5 / y; })};
    });
  }
  return out;
}

Tensor rsqrt(const Tensor& a) {
  Tensor out = unary_forward("rsqrt", a, [](auto x) { return 1 / std::sqrt(x); });
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "rsqrt", {a}, [dout](const Tensor& g) {  // -1/2 x^(-3/2) = -y^3/2
      return std::vector<Tensor>{unary_backward("rsqrt_backward", g, dout, [](auto y) { return -0.5 * y * y * y; })};
    });
  }
  return out;
}

Tensor tanh(const Tensor& a) {
  Tensor out = unary_forward("tanh", a, [](auto x) { return std::tanh(x); });
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "tanh", {a}, [dout](const Tensor& g) {  // 1 - tanh^2
      return std::vector<Tensor>{unary_backward("tanh_backward", g, dout, [](auto y) { return 1 - y * y; })};
    });
  }
  return out;
}

Tensor sigmoid(const Tensor& a) {
  Tensor out = unary_forward("sigmoid", a, [](auto x) { return 1 / (1 + std::exp(-x)); });
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "sigmoid", {a}, [dout](const Tensor& g) {  // s (1 - s)
      return std::vector<Tensor>{unary_backward("sigmoid_backward", g, dout, [](auto y) { return y * (1 - y); })};
    });
  }
  return out;
}

Tensor relu(const Tensor& a) {
  Tensor out = unary_forward("relu", a, [](auto x) { return x > 0 ? x : decltype(x)(0); });
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "relu", {a}, [da](const Tensor& g) {
      return std::vector<Tensor>{unary_backward("relu_backward", g, da, [](auto x) { return x > 0 ? decltype(x)(1) : decltype(x)(0); })};
    });
  }
  return out;
}

// GELU, tanh form: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
// d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
// float64 evaluates exactly that (std::tanh), so the gradient checks see the textbook formula.
// float32 uses the same function through 0.5 (1 + tanh u) = σ(2u), 1 − tanh² u = 4 σ(2u) σ(−2u),
// with σ(2u) = 1 / (1 + e^{−2u}) and σ(−2u) = e^{−2u} σ(2u) from one vectorisable fexp
// (tensor/fast_math.h): gelu = x σ(2u), gelu' = σ(2u) + 2 x σ(2u) σ(−2u) √(2/π) (1 + 3c x²),
// every factor to a few ulp — no 1 − t² cancellation (tests/autograd/test_fused.cpp).
namespace {
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
}  // namespace

Tensor gelu(const Tensor& a) {
  Tensor out = unary_forward("gelu", a, [](auto x) { return gelu_f(x); });
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "gelu", {a}, [da](const Tensor& g) {
      return std::vector<Tensor>{unary_backward("gelu_backward", g, da, [](auto x) { return gelu_df(x); })};
    });
  }
  return out;
}

}  // namespace nf
