#pragma once
// Dropout: active only in training mode; draws its mask from the generator it is given, so a
// run (and a resumed run) is reproducible.
#include "nn/module.h"
#include "autograd/ops.h"

namespace nf {

class Dropout : public Module {
 public:
  explicit Dropout(double p) : p(p) {}
  Tensor forward(const Tensor& x, Generator& gen) const {
    ModuleScope scope(this);
    return dropout(x, p, is_training(), gen);
  }
  double p;
};

}  // namespace nf
