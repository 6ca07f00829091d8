#pragma once
// LayerNorm over the last dim (gain 1, bias 0 at init; the bias is optional as in nanoGPT).
#include "nn/module.h"
#include "autograd/ops.h"

namespace nf {

class LayerNorm : public Module {
 public:
  LayerNorm(int64_t dim, bool bias, double eps = 1e-5) : eps(eps) {
    weight = register_parameter("weight", ones({dim}));
    if (bias) this->bias = register_parameter("bias", zeros({dim}));
  }
  Tensor forward(const Tensor& x) const {
    ModuleScope scope(this);
    return layer_norm(x, weight, bias, eps);
  }

  Tensor weight, bias;
  double eps;
};

// RMSNorm over the last dim with a gain (init 1), used by differential attention.
class RMSNorm : public Module {
 public:
  explicit RMSNorm(int64_t dim, double eps = 1e-5) : eps(eps) {
    weight = register_parameter("weight", ones({dim}));
  }
  Tensor forward(const Tensor& x) const {
    ModuleScope scope(this);
    return rms_norm(x, weight, eps);
  }

  Tensor weight;
  double eps;
};

}  // namespace nf
