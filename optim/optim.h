#pragma once
// Optimizers over a list of parameter groups.
//   AdamW (Loshchilov & Hutter): m = β1 m + (1−β1) g;  v = β2 v + (1−β2) g²
//     w ← w − lr·( m̂ / (√v̂ + eps) + wd·w ),  m̂ = m/(1−β1^t), v̂ = v/(1−β2^t)
//   with the decay decoupled from the gradient, applied only to the "decay" group (≥ 2-D).
//   SGD: w ← w − lr·g (no momentum), as docs/formats.md states it.
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nf {

struct ParamGroup {
  std::vector<Tensor> params;
  double weight_decay = 0.0;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  virtual void step(double lr) = 0;
  void zero_grad();
  const std::vector<ParamGroup>& groups() const { return groups_; }

 protected:
  explicit Optimizer(std::vector<ParamGroup> groups) : groups_(std::move(groups)) {}
  std::vector<ParamGroup> groups_;
};

class AdamW : public Optimizer {
 public:
  AdamW(std::vector<ParamGroup> groups, double beta1 = 0.9, double beta2 = 0.95, double eps = 1e-8);
  void step(double lr) override;

  // Moments in parameter order (group by group), for checkpoints.
  std::vector<Tensor>& exp_avg() { return m_; }
  std::vector<Tensor>& exp_avg_sq() { return v_; }
  int64_t steps = 0;  // t, for the bias corrections

 private:
  double beta1_, beta2_, eps_;
  std::vector<Tensor> m_, v_;
};

class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<ParamGroup> groups) : Optimizer(std::move(groups)) {}
  void step(double lr) override;
};

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm);

// nanoGPT's schedule: linear warm-up over warmup_iters (lr·(it+1)/(warmup+1)), then cosine decay
// to min_lr at lr_decay_iters, min_lr after. With warmup_iters = 0, iteration 0 gets exactly lr.
double learning_rate(int64_t it, double lr, double min_lr, int64_t warmup_iters, int64_t lr_decay_iters);

}  // namespace nf
