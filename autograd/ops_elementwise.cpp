// Elementwise ops: arithmetic with broadcasting, unary maths and activations.
// Each op is a forward kernel (tensor/kernels/elementwise.h, one loop per device) plus a backward
// closure written with other ops or with a fused g * f'(x) kernel, e.g.
//   c = a * b   ->   da = sum_to(g * b, a.shape),  db = sum_to(g * a, b.shape)
// where sum_to undoes broadcasting (docs/autograd.md derives each one).
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/kernels/elementwise.h"
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

// out = f(a, b) over the broadcast shape (kernels::binary, tensor/kernels/elementwise.h).
Tensor binary_forward(const char* op, kernels::BinaryOp f, const Tensor& a, const Tensor& b, double s = 0.0) {
  check_binary(op, a, b);
  const Shape shape = a.shape() == b.shape() ? a.shape() : broadcast_shapes(op, a.shape(), b.shape());
  Tensor out = empty(shape, a.dtype(), a.device());
  kernels::binary(out, f, a, b, s);
  return out;
}

// out = f(a), contiguous, whatever a's strides.
Tensor unary_forward(const char* op, kernels::UnaryOp f, const Tensor& a, double s = 0.0) {
  if (!a.defined()) op_error(op, "undefined operand");
  if (!is_floating(a.dtype())) op_error(op, std::string("expected a floating tensor, got ") + dtype_name(a.dtype()));
  Tensor out = empty(a.shape(), a.dtype(), a.device());
  kernels::unary(out, f, a, s);
  return out;
}

// g * f'(x) computed in one pass (x = saved input or output).
Tensor unary_backward(const char* op, kernels::BinaryOp dfdx, const Tensor& g, const Tensor& x, double s = 0.0) {
  return binary_forward(op, dfdx, g, x, s);
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
// out = a + b.  Backward: da = sum_to(g, a.shape), db = sum_to(g, b.shape).
Tensor add(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("add", kernels::BinaryOp::Add, a, b);
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, "add", {a, b}, [sa, sb](const Tensor& g) {
      return std::vector<Tensor>{sum_to(g, sa), sum_to(g, sb)};
    });
  }
  return out;
}

// out = a - b.  Backward: da = sum_to(g), db = sum_to(-g).
Tensor sub(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("sub", kernels::BinaryOp::Sub, a, b);
  if (needs_grad({&a, &b})) {
    Shape sa = a.shape(), sb = b.shape();
    record(out, "sub", {a, b}, [sa, sb](const Tensor& g) {
      return std::vector<Tensor>{sum_to(g, sa), sum_to(neg(g), sb)};
    });
  }
  return out;
}

// out = a * b.  Backward: da = sum_to(g * b), db = sum_to(g * a).
Tensor mul(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("mul", kernels::BinaryOp::Mul, a, b);
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

// out = a / b.
Tensor div(const Tensor& a, const Tensor& b) {
  Tensor out = binary_forward("div", kernels::BinaryOp::Div, a, b);
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
// out = a + s.  Backward: da = g.
Tensor add(const Tensor& a, double s) {
  Tensor out = unary_forward("add", kernels::UnaryOp::AddScalar, a, s);
  if (needs_grad({&a}))
    record(out, "add_scalar", {a}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

// out = a * s.  Backward: da = g * s.
Tensor mul(const Tensor& a, double s) {
  Tensor out = unary_forward("mul", kernels::UnaryOp::MulScalar, a, s);
  if (needs_grad({&a}))
    record(out, "mul_scalar", {a}, [s](const Tensor& g) { return std::vector<Tensor>{mul(g, s)}; });
  return out;
}

// out = s - a.  Backward: da = -g.
Tensor rsub(double s, const Tensor& a) {
  Tensor out = unary_forward("rsub", kernels::UnaryOp::RSub, a, s);
  if (needs_grad({&a}))
    record(out, "rsub", {a}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

// out = s / a.
Tensor rdiv(double s, const Tensor& a) {
  Tensor out = unary_forward("rdiv", kernels::UnaryOp::RDiv, a, s);
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
// out = -a.  Backward: da = -g.
Tensor neg(const Tensor& a) {
  Tensor out = unary_forward("neg", kernels::UnaryOp::Neg, a);
  if (needs_grad({&a}))
    record(out, "neg", {a}, [](const Tensor& g) { return std::vector<Tensor>{neg(g)}; });
  return out;
}

// out = a^p.  Backward: da = g * p a^(p-1).
Tensor pow(const Tensor& a, double p) {
  Tensor out = unary_forward("pow", kernels::UnaryOp::Pow, a, p);
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "pow", {a}, [da, p](const Tensor& g) {  // p * x^(p-1)
      return std::vector<Tensor>{unary_backward("pow_backward", kernels::BinaryOp::PowBackward, g, da, p)};
    });
  }
  return out;
}

// out = e^a.  Backward: da = g * out.
Tensor exp(const Tensor& a) {
  Tensor out = unary_forward("exp", kernels::UnaryOp::Exp, a);
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "exp", {a}, [dout](const Tensor& g) { return std::vector<Tensor>{mul(g, dout)}; });
  }
  return out;
}

// out = ln a.  Backward: da = g / a.
Tensor log(const Tensor& a) {
  Tensor out = unary_forward("log", kernels::UnaryOp::Log, a);
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "log", {a}, [da](const Tensor& g) { return std::vector<Tensor>{div(g, da)}; });
  }
  return out;
}

// out = sqrt(a).  Backward: da = g * 0.5 / out.
Tensor sqrt(const Tensor& a) {
  Tensor out = unary_forward("sqrt", kernels::UnaryOp::Sqrt, a);
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "sqrt", {a}, [dout](const Tensor& g) {  // 1 / (2 sqrt(x))
      return std::vector<Tensor>{unary_backward("sqrt_backward", kernels::BinaryOp::SqrtBackward, g, dout)};
    });
  }
  return out;
}

// out = 1 / sqrt(a).  Backward: da = g * -0.5 out^3.
Tensor rsqrt(const Tensor& a) {
  Tensor out = unary_forward("rsqrt", kernels::UnaryOp::Rsqrt, a);
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "rsqrt", {a}, [dout](const Tensor& g) {  // -1/2 x^(-3/2) = -y^3/2
      return std::vector<Tensor>{unary_backward("rsqrt_backward", kernels::BinaryOp::RsqrtBackward, g, dout)};
    });
  }
  return out;
}

// out = tanh(a).  Backward: da = g * (1 - out^2).
Tensor tanh(const Tensor& a) {
  Tensor out = unary_forward("tanh", kernels::UnaryOp::Tanh, a);
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "tanh", {a}, [dout](const Tensor& g) {  // 1 - tanh^2
      return std::vector<Tensor>{unary_backward("tanh_backward", kernels::BinaryOp::TanhBackward, g, dout)};
    });
  }
  return out;
}

// out = 1 / (1 + e^-a).  Backward: da = g * out (1 - out).
Tensor sigmoid(const Tensor& a) {
  Tensor out = unary_forward("sigmoid", kernels::UnaryOp::Sigmoid, a);
  if (needs_grad({&a})) {
    Tensor dout = out.detach();
    record(out, "sigmoid", {a}, [dout](const Tensor& g) {  // s (1 - s)
      return std::vector<Tensor>{unary_backward("sigmoid_backward", kernels::BinaryOp::SigmoidBackward, g, dout)};
    });
  }
  return out;
}

// out = max(a, 0).  Backward: da = g * [a > 0].
Tensor relu(const Tensor& a) {
  Tensor out = unary_forward("relu", kernels::UnaryOp::Relu, a);
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "relu", {a}, [da](const Tensor& g) {
      return std::vector<Tensor>{unary_backward("relu_backward", kernels::BinaryOp::ReluBackward, g, da)};
    });
  }
  return out;
}

// GELU, tanh form: 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3)
// d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) sqrt(2/pi) (1 + 3 * 0.044715 x^2)
// (float32 evaluates it through sigmoids, tensor/kernels/cpu/elementwise.cpp says how.)
Tensor gelu(const Tensor& a) {
  Tensor out = unary_forward("gelu", kernels::UnaryOp::Gelu, a);
  if (needs_grad({&a})) {
    Tensor da = a.detach();
    record(out, "gelu", {a}, [da](const Tensor& g) {
      return std::vector<Tensor>{unary_backward("gelu_backward", kernels::BinaryOp::GeluBackward, g, da)};
    });
  }
  return out;
}

}  // namespace nf
