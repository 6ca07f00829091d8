#pragma once
// The CUDA twins of tensor/kernels/elementwise.h (defined in tensor/kernels/cuda/elementwise.cpp,
// CUDA builds only; reached through NF_ON_GPU, tensor/kernels/route.h).
#include "tensor/kernels/elementwise.h"

namespace nf {
namespace kernels {
namespace gpu {

void unary(const Tensor& out, UnaryOp op, const Tensor& a, double s);
void binary(const Tensor& out, BinaryOp op, const Tensor& a, const Tensor& b, double s);
void masked_fill(const Tensor& out, const Tensor& a, const Tensor& mask, double value);
void where(const Tensor& out, const Tensor& cond, const Tensor& a, const Tensor& b);
void keep_where(const Tensor& out, const Tensor& g, const Tensor& cond, bool when);
void fill_causal_mask(const Tensor& mask);
void add_(const Tensor& dst, const Tensor& src, double alpha);
void scale_(const Tensor& dst, double s);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
