#pragma once
// The scope of every evaluation pass (loss estimates, window evaluation, prediction, attention
// statistics): nothing is recorded for backward, the module runs in eval mode (no dropout, noise
// at its eval setting), and its training flag is restored when the scope ends — on an exception
// too, so a failed evaluation never leaves a training run in eval mode.
#include "autograd/node.h"
#include "nn/module.h"

namespace nf {

class EvalScope {
 public:
  explicit EvalScope(Module& m) : module_(m), was_training_(m.is_training()) { module_.eval(); }
  ~EvalScope() { module_.train(was_training_); }
  EvalScope(const EvalScope&) = delete;
  EvalScope& operator=(const EvalScope&) = delete;

 private:
  NoGradGuard no_grad_;  // first member: switched on before eval(), off after train(was)
  Module& module_;
  bool was_training_;
};

}  // namespace nf
