#pragma once
// Linear: y = x Wᵀ + b with W [out, in] (PyTorch's layout, which checkpoints keep).
#include "nn/module.h"
#include "autograd/ops.h"

namespace nf {

class Linear : public Module {
 public:
  // Weights ~ N(0, init_std²), bias 0 (GPT-2's initialisation).
  Linear(int64_t in, int64_t out, bool bias, Generator& gen, double init_std = 0.02) {
    weight = register_parameter("weight", mul(randn({out, in}, gen), init_std));
    if (bias) this->bias = register_parameter("bias", zeros({out}));
  }
  // x (..., in) -> (..., out)
  Tensor forward(const Tensor& x) const {
    ModuleScope scope(this);
    return linear(x, weight, bias);
  }

  Tensor weight, bias;
};

}  // namespace nf
