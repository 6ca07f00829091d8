// CUDA elementwise kernels (tensor/kernels/elementwise.h), through the launchers of
// tensor/kernels/cuda/elementwise.cu: each kernels:: op maps onto the cuda:: op of the same name,
// whose element functions repeat the CPU lambdas' arithmetic.
#include "tensor/kernels/cuda/elementwise.h"

#include <stdexcept>

#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/strided.h"

namespace nf {
namespace kernels {
namespace gpu {
namespace {

cuda::UnaryOp cuda_op(UnaryOp op) {
  switch (op) {
    case UnaryOp::AddScalar: return cuda::UnaryOp::AddScalar;
    case UnaryOp::MulScalar: return cuda::UnaryOp::MulScalar;
    case UnaryOp::RSub: return cuda::UnaryOp::RSub;
    case UnaryOp::RDiv: return cuda::UnaryOp::RDiv;
    case UnaryOp::Neg: return cuda::UnaryOp::Neg;
    case UnaryOp::Pow: return cuda::UnaryOp::Pow;
    case UnaryOp::Exp: return cuda::UnaryOp::Exp;
    case UnaryOp::Log: return cuda::UnaryOp::Log;
    case UnaryOp::Sqrt: return cuda::UnaryOp::Sqrt;
    case UnaryOp::Rsqrt: return cuda::UnaryOp::Rsqrt;
    case UnaryOp::Tanh: return cuda::UnaryOp::Tanh;
    case UnaryOp::Sigmoid: return cuda::UnaryOp::Sigmoid;
    case UnaryOp::Relu: return cuda::UnaryOp::Relu;
    case UnaryOp::Gelu: return cuda::UnaryOp::Gelu;
  }
  throw std::logic_error("kernels::unary: unknown op");
}

cuda::BinaryOp cuda_op(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return cuda::BinaryOp::Add;
    case BinaryOp::Sub: return cuda::BinaryOp::Sub;
    case BinaryOp::Mul: return cuda::BinaryOp::Mul;
    case BinaryOp::Div: return cuda::BinaryOp::Div;
    case BinaryOp::PowBackward: return cuda::BinaryOp::PowBackward;
    case BinaryOp::SqrtBackward: return cuda::BinaryOp::SqrtBackward;
    case BinaryOp::RsqrtBackward: return cuda::BinaryOp::RsqrtBackward;
    case BinaryOp::TanhBackward: return cuda::BinaryOp::TanhBackward;
    case BinaryOp::SigmoidBackward: return cuda::BinaryOp::SigmoidBackward;
    case BinaryOp::ReluBackward: return cuda::BinaryOp::ReluBackward;
    case BinaryOp::GeluBackward: return cuda::BinaryOp::GeluBackward;
  }
  throw std::logic_error("kernels::binary: unknown op");
}

const bool* bools(const Tensor& t) { return static_cast<const bool*>(t.device_data()); }

}  // namespace

void unary(const Tensor& out, UnaryOp op, const Tensor& a, double s) {
  cuda::unary(a.dtype(), cuda_op(op), s, a.shape(), out.device_data(), out.strides(), a.device_data(), a.strides());
}

void binary(const Tensor& out, BinaryOp op, const Tensor& a, const Tensor& b, double s) {
  const Shape& shape = out.shape();
  cuda::binary(a.dtype(), cuda_op(op), s, shape, out.device_data(), out.strides(), a.device_data(),
               broadcast_strides(a, shape), b.device_data(), broadcast_strides(b, shape));
}

void masked_fill(const Tensor& out, const Tensor& a, const Tensor& mask, double value) {
  const Shape& shape = out.shape();
  cuda::masked_fill(a.dtype(), shape, out.device_data(), out.strides(), a.device_data(), broadcast_strides(a, shape),
                    bools(mask), broadcast_strides(mask, shape), value);
}

void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b) {
  const Shape& shape = out.shape();
  cuda::where(a.dtype(), shape, out.device_data(), out.strides(), bools(cond), broadcast_strides(cond, shape),
              a.device_data(), broadcast_strides(a, shape), b.device_data(), broadcast_strides(b, shape));
}

// where with a null operand reads 0 there: (cond == true) ? g : 0 is where(cond, g, 0).
void keep_where(const Tensor& out, const Tensor& g, const Tensor& cond, bool when) {
  const Shape& shape = out.shape();
  const Shape gs = broadcast_strides(g, shape);
  cuda::where(g.dtype(), shape, out.device_data(), out.strides(), bools(cond), broadcast_strides(cond, shape),
              when ? g.device_data() : nullptr, gs, when ? nullptr : g.device_data(), gs);
}

// A mask is built once per sequence length: on the host, then copied over.
void fill_causal_mask(const Tensor& mask) {
  Tensor host = empty(mask.shape(), DType::Bool);
  kernels::fill_causal_mask(host);
  Tensor(mask).copy_(host);
}

// dst + src (alpha 1) in one pass with dst as both input and output; otherwise alpha * src
// first, into a temporary of src's shape.
void add_(const Tensor& dst, const Tensor& src, double alpha) {
  const Shape& shape = dst.shape();
  Tensor scaled = src;
  if (alpha != 1.0) {
    scaled = empty(src.shape(), src.dtype(), Device::CUDA);
    cuda::unary(src.dtype(), cuda::UnaryOp::MulScalar, alpha, src.shape(), scaled.device_data(), scaled.strides(),
                src.device_data(), src.strides());
  }
  cuda::binary(dst.dtype(), cuda::BinaryOp::Add, 0.0, shape, dst.device_data(), dst.strides(), dst.device_data(),
               dst.strides(), scaled.device_data(), broadcast_strides(scaled, shape));
}

void scale_(const Tensor& dst, double s) {
  cuda::unary(dst.dtype(), cuda::UnaryOp::MulScalar, s, dst.shape(), dst.device_data(), dst.strides(),
              dst.device_data(), dst.strides());
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
