#include "train/step.h"

#include <chrono>

#include "autograd/ops.h"
#include "dist/collective.h"

namespace nf {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// This rank's micro-batches rank, rank+W, …; gradients summed by the reducer during the last
// backward. A failure here is kept until every rank has finished the reduction (so no rank waits
// for buckets that would never come), then agreed on.
void data_parallel_micro_batches(const StepOptions& opt, const std::function<Tensor(int64_t micro)>& micro_loss,
                                 StepTimes& times) {
  GradReducer& reducer = *opt.reducer;
  Communicator& comm = reducer.communicator();
  const int64_t W = comm.size();
  if (opt.grad_accum % W != 0)
    throw std::invalid_argument("data parallelism: " + std::to_string(opt.grad_accum) +
                                " micro-batches per step cannot be shared equally by " + std::to_string(W) + " ranks");
  std::exception_ptr failure;
  try {
    for (int64_t micro = comm.rank(); micro < opt.grad_accum; micro += W) {
      auto t = Clock::now();
      Tensor loss = micro_loss(micro);
      times.forward += seconds_since(t);
      t = Clock::now();
      if (opt.grad_accum > 1) loss = mul(loss, 1.0 / static_cast<double>(opt.grad_accum));
      if (micro + W >= opt.grad_accum) reducer.begin();  // the last one: buckets start during its backward
      loss.backward();
      times.backward += seconds_since(t);
    }
  } catch (...) {
    failure = std::current_exception();
  }
  const auto t = Clock::now();
  reducer.finish();
  times.comm_wait = seconds_since(t);
  times.comm = reducer.timing().comm_seconds;
  times.backward -= times.comm - times.comm_wait;  // the reducer's work inside backward is counted as comm
  agree(comm, failure);
}

}  // namespace

StepTimes train_step(Module& model, Optimizer& optimizer, const StepOptions& opt,
                     const std::function<Tensor(int64_t micro)>& micro_loss) {
  StepTimes times;
  if (opt.reducer) {
    data_parallel_micro_batches(opt, micro_loss, times);
  } else {
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
  }
  const auto t = Clock::now();
  if (opt.grad_clip > 0) clip_grad_norm(model.parameters(), opt.grad_clip);
  optimizer.step(opt.lr);
  optimizer.zero_grad();
  times.optimizer = seconds_since(t);
  return times;
}

}  // namespace nf
