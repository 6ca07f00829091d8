#pragma once
// The softmax family over the last dim of contiguous tensors: a tensor (..., n) is R rows of n
// (rows.h). The ops (autograd/ops_nn.cpp) move the softmax dim last and make it contiguous
// first; all tensors of a call share one shape, floating dtype and device.
#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// x (R, n) -> y (R, n) = softmax of each row: exp(x − max) / Σ exp(x − max)
void softmax_forward(const Tensor& y, const Tensor& x);
// y (R, n) softmax's output, g (R, n) its gradient -> dx (R, n) = scale · y ⊙ (g − Σ_row g ⊙ y)
void softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale);

// x (R, n) -> y (R, n) = x − logsumexp(x) of each row
void log_softmax_forward(const Tensor& y, const Tensor& x);
// y (R, n) log_softmax's output, g (R, n) -> dx (R, n) = g − exp(y) Σ_row g
void log_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g);

// Attention scores x (..., Tq, Tk): row r is query q = r mod Tq, which sees the keys
// j <= q + (Tk − Tq) (the queries are the last Tq of the Tk positions).
// x -> y (..., Tq, Tk) = softmax(scale · x) over the visible keys, exactly 0 on the others.
void causal_softmax_forward(const Tensor& y, const Tensor& x, double scale);
// y (..., Tq, Tk) the forward's output, g its gradient ->
// dx = scale · y ⊙ (g − Σ_visible g ⊙ y) on the visible keys, 0 on the others.
void causal_softmax_backward(const Tensor& dx, const Tensor& y, const Tensor& g, double scale);

}  // namespace kernels
}  // namespace nf
