#pragma once
// Normalisations over the last dim: layer_norm (centred) and rms_norm, forward and their shared
// backward. x is R rows of C (rows.h); per-row statistics are saved for the backward. All
// tensors contiguous, of one floating dtype, on one device; an undefined w or b is absent.
#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// x (R, C), w (C) or none, b (C) or none ->
//   y (R, C) = (x − μ) r w + b,  mean (R) = μ,  rstd (R) = r = 1/sqrt(var + eps) (biased var)
void layer_norm_forward(const Tensor& y, const Tensor& mean, const Tensor& rstd, const Tensor& x, const Tensor& w,
                        const Tensor& b, double eps);
// x (R, C), w (C) or none -> y (R, C) = x r w,  rstd (R) = r = 1/sqrt(mean(x²) + eps)
void rms_norm_forward(const Tensor& y, const Tensor& rstd, const Tensor& x, const Tensor& w, double eps);

// The backward of both: mean defined for layer_norm (centred), undefined for rms_norm (μ = 0).
// With xhat = (x − μ) r and h = g ⊙ w (w = 1 when absent), g (R, C) the output's gradient:
//   dx (R, C) = r (h − [centred] mean(h) − xhat · mean(h ⊙ xhat))
//   dw (C) = Σ_rows g ⊙ xhat,   db (C) = Σ_rows g
// Each of dx, dw, db is computed only when defined. dw and db are summed in fixed blocks of rows
// and then over the blocks in order, so they do not depend on the thread count.
void norm_backward(const Tensor& dx, const Tensor& dw, const Tensor& db, const Tensor& g, const Tensor& x,
                   const Tensor& mean, const Tensor& rstd, const Tensor& w);

}  // namespace kernels
}  // namespace nf
