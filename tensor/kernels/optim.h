#pragma once
// The optimizer kernels (optim/optim.cpp): the fused AdamW update over all parameters at once,
// and the sum of squares under global gradient-norm clipping.
#include <vector>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// One parameter of an AdamW step: its weights w, gradient g and moments m, v — contiguous, of
// one shape and floating dtype — and its group's weight decay.
struct AdamWParam {
  Tensor w, g, m, v;
  double weight_decay = 0.0;
};

// One fused AdamW step over every parameter of `params` (all on one device, float32 and
// float64 may mix), elementwise:
//   m = b1 m + (1−b1) g;  v = b2 v + (1−b2) g²;
//   w = w (1 − lr wd) − (lr/bc1) m / (√v / √bc2 + eps)
// bc1, bc2: the bias corrections 1 − b1^t, 1 − b2^t of step t.
void adamw_step(const std::vector<AdamWParam>& params, double lr, double beta1, double beta2, double eps, double bc1,
                double bc2);

// acc (one float64 element) += Σ x² computed in double; x contiguous and floating, on acc's
// device. Many tensors add into one acc, which is read back once.
void add_sum_of_squares(const Tensor& acc, const Tensor& x);

}  // namespace kernels
}  // namespace nf
