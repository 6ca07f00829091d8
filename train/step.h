#pragma once
// One optimizer step, taken the same way by every training loop of the project (`noiseformer
// train`, GLUE fine-tuning, bench_train), so the three cannot drift apart:
//   for each of grad_accum micro-batches: loss = micro_loss(m); backward of loss / grad_accum
//   clip the global gradient norm of model's parameters to grad_clip (when > 0)
//   optimizer step at lr; zero the gradients
// The caller's closure runs the forward pass and reads whatever it logs (loss values, KL) off its
// own outputs, so the floats it accumulates are computed exactly as before.
//
// Data parallel (a GradReducer given): the grad_accum micro-batches are those of the whole job;
// this rank runs micro-batches rank, rank+W, rank+2W, … (W ranks), each loss still scaled by
// 1/grad_accum, the reducer sums the gradients over the ranks during the last backward pass,
// and every rank clips and steps on the same sum (docs/distributed.md).
#include <cstdint>
#include <functional>

#include "dist/grad_reducer.h"
#include "nn/module.h"
#include "optim/optim.h"

namespace nf {

struct StepOptions {
  int64_t grad_accum = 1;  // micro-batches per step; each loss is scaled by 1/grad_accum when > 1
  double grad_clip = 0;    // max global gradient norm (0: no clipping)
  double lr = 0;
  // Data parallelism: sums the gradients over its communicator's ranks; grad_accum is then the
  // job's count, a multiple of the number of ranks. null: this process runs every micro-batch.
  GradReducer* reducer = nullptr;
};

// Wall seconds of each phase, summed over the micro-batches (bench_train reports them).
struct StepTimes {
  double forward = 0;    // the micro_loss calls
  double backward = 0;   // scaling and backward
  double optimizer = 0;  // clipping, the optimizer step and zero_grad
  double comm = 0;       // data parallel: the reducer's share of backward and of the wait after it
  double comm_wait = 0;  // data parallel: the wait for the sums after backward (not overlapped)
};

// micro_loss(m) runs micro-batch m (0 ≤ m < grad_accum) and returns its unscaled loss. Data
// parallel, an exception on one rank reaches every rank as the same CollectiveError
// (dist/collective.h) once all of them finished their share of the step.
StepTimes train_step(Module& model, Optimizer& optimizer, const StepOptions& opt,
                     const std::function<Tensor(int64_t micro)>& micro_loss);

}  // namespace nf
