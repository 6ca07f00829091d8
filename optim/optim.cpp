#include "optim/optim.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "tensor/kernels/optim.h"

namespace nf {

void Optimizer::zero_grad() {
  for (auto& g : groups_)
    for (auto& p : g.params) p.zero_grad();
}

AdamW::AdamW(std::vector<ParamGroup> groups, double beta1, double beta2, double eps)
    : Optimizer(std::move(groups)), beta1_(beta1), beta2_(beta2), eps_(eps) {
  for (auto& g : groups_)
    for (auto& p : g.params) {
      m_.push_back(zeros(p.shape(), p.dtype(), p.device()));
      v_.push_back(zeros(p.shape(), p.dtype(), p.device()));
    }
}

void AdamW::step(double lr) {
  NoGradGuard ng;
  ++steps;
  const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(steps));
  const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(steps));
  // One fused kernel call per device over all of its parameters (tensor/kernels/optim.h).
  std::vector<kernels::AdamWParam> by_device[2];  // Device::CPU, Device::CUDA
  size_t k = 0;
  for (auto& group : groups_) {
    for (auto& p : group.params) {
      Tensor g = p.grad();
      Tensor& m = m_[k];
      Tensor& v = v_[k];
      ++k;
      if (!g.defined()) continue;
      if (!p.is_contiguous()) throw std::runtime_error("AdamW: parameters must be contiguous");
      if (p.dtype() != DType::F32 && p.dtype() != DType::F64)
        throw std::invalid_argument(std::string("adamw: expected a floating tensor, got ") + dtype_name(p.dtype()));
      check_same_device("adamw", p, g);
      by_device[static_cast<int>(p.device())].push_back({p, g.contiguous(), m, v, group.weight_decay});
    }
  }
  for (const auto& params : by_device) kernels::adamw_step(params, lr, beta1_, beta2_, eps_, bc1, bc2);
}

void SGD::step(double lr) {
  NoGradGuard ng;
  for (auto& group : groups_)
    for (auto& p : group.params)
      if (p.grad().defined()) p.add_(p.grad(), -lr);
}

// The squares of every gradient are summed on its own device (one float64 accumulator per
// device) and read back once at the end, not once per tensor.
double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard ng;
  Tensor acc[2];  // Device::CPU, Device::CUDA
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (!is_floating(g.dtype()))
      throw std::invalid_argument(std::string("clip_grad_norm: expected a floating tensor, got ") +
                                  dtype_name(g.dtype()));
    Tensor& a = acc[static_cast<int>(g.device())];
    if (!a.defined()) a = zeros({}, DType::F64, g.device());
    kernels::add_sum_of_squares(a, g.contiguous());
  }
  double total = 0;
  for (const Tensor& a : acc)
    if (a.defined()) total += a.item();
  const double norm = std::sqrt(total);
  if (max_norm > 0 && norm > max_norm) {
    const double s = max_norm / (norm + 1e-6);
    for (const Tensor& p : params)
      if (p.grad().defined()) p.grad().mul_(s);
  }
  return norm;
}

double learning_rate(int64_t it, double lr, double min_lr, int64_t warmup_iters, int64_t lr_decay_iters) {
  if (it < warmup_iters) return lr * static_cast<double>(it + 1) / static_cast<double>(warmup_iters + 1);
  if (it > lr_decay_iters) return min_lr;
  if (lr_decay_iters <= warmup_iters) return lr;
  const double ratio = static_cast<double>(it - warmup_iters) / static_cast<double>(lr_decay_iters - warmup_iters);
  const double coeff = 0.5 * (1.0 + std::cos(M_PI * ratio));
  return min_lr + coeff * (lr - min_lr);
}

}  // namespace nf
