#pragma once
// Embedding: a lookup table [num, dim]; row i is the vector of token (or position) i.
#include "nn/module.h"
#include "autograd/ops.h"

namespace nf {

class Embedding : public Module {
 public:
  Embedding(int64_t num, int64_t dim, Generator& gen, double init_std = 0.02) {
    weight = register_parameter("weight", mul(randn({num, dim}, gen), init_std));
  }
  // ids int64 (...) -> (..., dim)
  Tensor forward(const Tensor& ids) const {
    ModuleScope scope(this);
    return embedding(weight, ids);
  }

  Tensor weight;
};

}  // namespace nf
