#include "train/step.h"

#include <chrono>

#include "autograd/ops.h"

namespace nf {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

StepTimes train_step(Module& model, Optimizer& optimizer, const StepOptions& opt,
                     const std::function<Tensor(int64_t micro)>& micro_loss) {
  StepTimes times;
  for (int64_t micro = 0; micro < opt.grad_accum; ++micro) {
    auto t = Clock::now();
    Tensor loss = micro_loss(micro);
    times.forward += seconds_since(t);
    t = Clock::now();
    // Averaging over micro-batches: the sum of their gradients is the gradient of the mean loss.
    if (opt.grad_accum > 1) loss = mul(loss, 1.0 / static_cast<double>(opt.grad_accum));
    loss.backward();
    times.backward += seconds_since(t);
  }
  const auto t = Clock::now();
  if (opt.grad_clip > 0) clip_grad_norm(model.parameters(), opt.grad_clip);
  optimizer.step(opt.lr);
  optimizer.zero_grad();
  times.optimizer = seconds_since(t);
  return times;
}

}  // namespace nf
