#include "optim/optim.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

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
// One fused pass over a range of a parameter: moments, bias correction, decoupled decay, update.
template <class T>
void adamw_kernel(T* w, const T* g, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps, double wd,
                  double bc1, double bc2) {
  const T b1_t = static_cast<T>(b1), b2_t = static_cast<T>(b2);
  const T decay = static_cast<T>(1.0 - lr * wd), step = static_cast<T>(lr / bc1), rbc2 = static_cast<T>(1.0 / std::sqrt(bc2));
  const T eps_t = static_cast<T>(eps);
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    m[i] = b1_t * m[i] + (1 - b1_t) * g[i];
    v[i] = b2_t * v[i] + (1 - b2_t) * g[i] * g[i];
    w[i] = w[i] * decay - step * m[i] / (std::sqrt(v[i]) * rbc2 + eps_t);
  }
}

// A piece of one parameter's update: every parameter is cut into pieces of at most kPiece
// elements and all pieces of all parameters are shared by the threads in one parallel region
// (one team start per step, not one per tensor; the small biases and gains ride along).
struct Piece {
  void* w;
  const void* g;
  void* m;
  void* v;
  int64_t n;
  double wd;
};
constexpr int64_t kPiece = 1 << 14;

template <class T>
void run_pieces(const std::vector<Piece>& pieces, int64_t total, double lr, double b1, double b2, double eps,
                double bc1, double bc2) {
  const int64_t np = static_cast<int64_t>(pieces.size());
#pragma omp parallel for schedule(static) if (total > (1 << 16))
  for (int64_t k = 0; k < np; ++k) {
    const Piece& p = pieces[k];
    adamw_kernel<T>(static_cast<T*>(p.w), static_cast<const T*>(p.g), static_cast<T*>(p.m), static_cast<T*>(p.v), p.n,
                    lr, b1, b2, eps, p.wd, bc1, bc2);
  }
}
}  // namespace

void AdamW::step(double lr) {
  NoGradGuard ng;
  ++steps;
  const double bc1 = 1.0 - std::pow(beta1_, static_cast<double>(steps));
  const double bc2 = 1.0 - std::pow(beta2_, static_cast<double>(steps));
  std::vector<Piece> pieces[2];  // float32, float64
  int64_t total[2] = {0, 0};
  std::vector<Tensor> keep;  // contiguous copies of any non-contiguous gradient
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
      Tensor gc = g.contiguous();
      if (!gc.same(g)) keep.push_back(gc);
      const int t = p.dtype() == DType::F32 ? 0 : 1;
      const size_t es = dtype_size(p.dtype());
      char* pw = static_cast<char*>(p.raw_data());
      const char* pg = static_cast<const char*>(gc.raw_data());
      char* pm = static_cast<char*>(m.raw_data());
      char* pv = static_cast<char*>(v.raw_data());
      const int64_t n = p.numel();
      for (int64_t off = 0; off < n; off += kPiece) {
        const size_t b = static_cast<size_t>(off) * es;
        pieces[t].push_back({pw + b, pg + b, pm + b, pv + b, std::min(kPiece, n - off), group.weight_decay});
      }
      total[t] += n;
    }
  }
  if (!pieces[0].empty()) run_pieces<float>(pieces[0], total[0], lr, beta1_, beta2_, eps_, bc1, bc2);
  if (!pieces[1].empty()) run_pieces<double>(pieces[1], total[1], lr, beta1_, beta2_, eps_, bc1, bc2);
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
