#include "train/optim.h"

#include <cmath>
#include <stdexcept>

#include "autograd/node.h"

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

namespace {
// One fused pass over a parameter: moments, bias correction, decoupled decay, update.
template <class T>
void adamw_kernel(T* w, const T* g, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps, double wd,
                  double bc1, double bc2) {
  const T lr_t = static_cast<T>(lr), b1_t = static_cast<T>(b1), b2_t = static_cast<T>(b2);
  const T decay = static_cast<T>(1.0 - lr * wd), step = static_cast<T>(lr / bc1), rbc2 = static_cast<T>(1.0 / std::sqrt(bc2));
  const T eps_t = static_cast<T>(eps);
  (void)lr_t;
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1_t * m[i] + (1 - b1_t) * g[i];
    v[i] = b2_t * v[i] + (1 - b2_t) * g[i] * g[i];
    w[i] = w[i] * decay - step * m[i] / (std::sqrt(v[i]) * rbc2 + eps_t);
  }
}
}  // namespace

void AdamW::step(double lr) {
  NoGradGuard ng;
  ++steps;
  const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(steps));
  const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(steps));
  size_t k = 0;
  for (auto& group : groups_) {
    for (auto& p : group.params) {
      Tensor g = p.grad();
      Tensor& m = m_[k];
      Tensor& v = v_[k];
      ++k;
      if (!g.defined()) continue;
      if (!p.is_contiguous()) throw std::runtime_error("AdamW: parameters must be contiguous");
      Tensor gc = g.contiguous();
      dispatch_float(p.dtype(), "adamw", [&](auto zero) {
        using T = decltype(zero);
        adamw_kernel<T>(p.data<T>(), gc.data<T>(), m.data<T>(), v.data<T>(), p.numel(), lr, beta1_, beta2_, eps_,
                        group.weight_decay, bc1, bc2);
      });
    }
  }
}

void SGD::step(double lr) {
  NoGradGuard ng;
  for (auto& group : groups_)
    for (auto& p : group.params)
      if (p.grad().defined()) p.add_(p.grad(), -lr);
}

double clip_grad_norm(const std::vector<Tensor>& params, double max_norm) {
  NoGradGuard ng;
  double total = 0;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    Tensor gc = g.contiguous();
    dispatch_float(gc.dtype(), "clip_grad_norm", [&](auto zero) {
      using T = decltype(zero);
      const T* x = gc.data<T>();
      double s = 0;
      const int64_t n = gc.numel();
#pragma omp parallel for reduction(+ : s) if (n > (1 << 15))
      for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]) * x[i];
      total += s;
    });
  }
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
