#pragma once
// Elementwise kernels: the loops under autograd/ops_elementwise.cpp (arithmetic, unary maths,
// activations and their backward), the boolean selections of autograd/ops_shape.cpp (masked_fill,
// where, causal_mask) and the in-place arithmetic of Tensor::add_ / mul_ (optimizers, gradient
// accumulation). Every tensor of a call is on one device, and the floating operands share one
// floating dtype (F32 or F64); the ops check both first. Outputs are allocated by the caller;
// "broadcast to shape" means read through broadcast_strides (tensor/strided.h).
#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// out = f(a); s is the op's scalar where the op has one.
enum class UnaryOp {
  AddScalar,  // a + s
  MulScalar,  // a * s
  RSub,       // s - a
  RDiv,       // s / a
  Neg,        // -a
  Pow,        // a^s
  Exp, Log, Sqrt,
  Rsqrt,      // 1 / sqrt(a)
  Tanh,
  Sigmoid,    // 1 / (1 + e^-a)
  Relu,       // max(a, 0)
  Gelu,       // tanh form, as GPT-2: 0.5 a (1 + tanh(sqrt(2/pi) (a + 0.044715 a^3)))
};

// out = f(a, b). The backward ops are g * f'(.) of a unary op in one pass: a = g, b = the
// forward's saved input x, or its saved output y where noted.
enum class BinaryOp {
  Add, Sub, Mul, Div,
  PowBackward,      // g * s x^(s-1)
  SqrtBackward,     // g * 0.5 / y
  RsqrtBackward,    // g * -0.5 y^3
  TanhBackward,     // g * (1 - y^2)
  SigmoidBackward,  // g * y (1 - y)
  ReluBackward,     // g * [x > 0]
  GeluBackward,     // g * gelu'(x)
};

// a (any strides) -> out (a's shape, contiguous) = f(a).
void unary(const Tensor& out, UnaryOp op, const Tensor& a, double s = 0.0);
// a, b broadcast to out's shape -> out (contiguous) = f(a, b).
void binary(const Tensor& out, BinaryOp op, const Tensor& a, const Tensor& b, double s = 0.0);

// a (out's shape, any strides), mask (bool, broadcast to out's shape) -> out (contiguous) =
// mask ? value : a.
void masked_fill(const Tensor& out, const Tensor& a, const Tensor& mask, double value);
// cond (bool), a, b broadcast to out's shape -> out (contiguous) = cond ? a : b.
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
// g (out's shape, any strides), cond (bool, broadcast to it) -> out (any strides that do not
// overlap) = (cond == when) ? g : 0: where's backward.
void keep_where(const Tensor& out, const Tensor& g, const Tensor& cond, bool when);
// mask (T, T) bool contiguous -> mask[i, j] = j > i (true where a query must not see a key).
void fill_causal_mask(const Tensor& mask);

// In place, no temporaries. dst (any strides, one memory slot per element), src broadcast to
// dst's shape and not sharing dst's memory -> dst += alpha * src.
void add_(const Tensor& dst, const Tensor& src, double alpha);
// dst (any strides, one memory slot per element) -> dst *= s.
void scale_(const Tensor& dst, double s);

}  // namespace kernels
}  // namespace nf
