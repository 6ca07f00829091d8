#pragma once
// The GPT-2 feed-forward block: Linear C -> 4C, GELU (tanh form), Linear 4C -> C, dropout.
#include <cmath>

#include "nn/dropout.h"
#include "nn/linear.h"

namespace nf {

class MLP : public Module {
 public:
  MLP(int64_t C, bool bias, double dropout_p, int64_t n_layer, Generator& gen)
  {
    c_fc = register_module("c_fc", std::make_shared<Linear>(C, 4 * C, bias, gen));
    // Residual projections start smaller, N(0, 0.02/sqrt(2L)), so the residual stream's
    // variance does not grow with depth (GPT-2).
    c_proj = register_module("c_proj", std::make_shared<Linear>(4 * C, C, bias, gen, 0.02 / std::sqrt(2.0 * n_layer)));
    drop = register_module("drop", std::make_shared<Dropout>(dropout_p));
  }
  // x (B,T,C) -> (B,T,C)
  Tensor forward(const Tensor& x, Generator& gen) const {
    ModuleScope scope(this);
    return drop->forward(c_proj->forward(gelu(c_fc->forward(x))), gen);
  }

  std::shared_ptr<Linear> c_fc, c_proj;
  std::shared_ptr<Dropout> drop;
};

}  // namespace nf
