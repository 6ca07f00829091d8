#pragma once
// One optimizer step, taken the same way by every training loop of the project (`noiseformer
// train`, GLUE fine-tuning, bench_train), so the three cannot drift apart:
//   for each of grad_accum micro-batches: loss = micro_loss(m); backward of loss / grad_accum
//   clip the global gradient norm of model's parameters to grad_clip (when > 0)
//   optimizer step at lr; zero the gradients
// The caller's closure runs the forward pass and reads whatever it logs (loss values, KL) off its
// own outputs, so the floats it accumulates are computed exactly as before.
#include <cstdint>
#include <functional>

#include "nn/module.h"
#include "optim/optim.h"

namespace nf {

struct StepOptions {
  int64_t grad_accum = 1;  // micro-batches per step; each loss is scaled by 1/grad_accum when > 1
  double grad_clip = 0;    // max global gradient norm (0: no clipping)
  double lr = 0;
};

// Wall seconds of each phase, summed over the micro-batches (bench_train reports them).
struct StepTimes {
  double forward = 0;    // the micro_loss calls
  double backward = 0;   // scaling and backward
  double optimizer = 0;  // clipping, the optimizer step and zero_grad
};

// micro_loss(m) runs micro-batch m (0 ≤ m < grad_accum) and returns its unscaled loss.
StepTimes train_step(Module& model, Optimizer& optimizer, const StepOptions& opt,
                     const std::function<Tensor(int64_t micro)>& micro_loss);

}  // namespace nf
