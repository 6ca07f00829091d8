// CPU optimizer kernels (tensor/kernels/optim.h).
#include "tensor/kernels/optim.h"

#include <algorithm>
#include <cmath>

#include "tensor/kernels/cuda/optim.h"
#include "tensor/kernels/route.h"

namespace nf {
namespace kernels {
namespace {

// One fused pass over a range of a parameter: moments, bias correction, decoupled decay, update.
template <class T>
void adamw_range(T* w, const T* g, T* m, T* v, int64_t n, double lr, double b1, double b2, double eps, double wd,
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
    adamw_range<T>(static_cast<T*>(p.w), static_cast<const T*>(p.g), static_cast<T*>(p.m), static_cast<T*>(p.v), p.n,
                   lr, b1, b2, eps, p.wd, bc1, bc2);
  }
}

}  // namespace

void adamw_step(const std::vector<AdamWParam>& params, double lr, double beta1, double beta2, double eps, double bc1,
                double bc2) {
  if (params.empty()) return;
  NF_ON_GPU(params.front().w, adamw_step(params, lr, beta1, beta2, eps, bc1, bc2));
  std::vector<Piece> pieces[2];  // float32, float64
  int64_t total[2] = {0, 0};
  for (const AdamWParam& p : params) {
    const int t = p.w.dtype() == DType::F32 ? 0 : 1;
    const size_t es = dtype_size(p.w.dtype());
    char* pw = static_cast<char*>(p.w.raw_data());
    const char* pg = static_cast<const char*>(p.g.raw_data());
    char* pm = static_cast<char*>(p.m.raw_data());
    char* pv = static_cast<char*>(p.v.raw_data());
    const int64_t n = p.w.numel();
    for (int64_t off = 0; off < n; off += kPiece) {
      const size_t b = static_cast<size_t>(off) * es;
      pieces[t].push_back({pw + b, pg + b, pm + b, pv + b, std::min(kPiece, n - off), p.weight_decay});
    }
    total[t] += n;
  }
  if (!pieces[0].empty()) run_pieces<float>(pieces[0], total[0], lr, beta1, beta2, eps, bc1, bc2);
  if (!pieces[1].empty()) run_pieces<double>(pieces[1], total[1], lr, beta1, beta2, eps, bc1, bc2);
}

void add_sum_of_squares(const Tensor& acc, const Tensor& x) {
  NF_ON_GPU(x, add_sum_of_squares(acc, x));
  dispatch_float(x.dtype(), "clip_grad_norm", [&](auto zero) {
    using T = decltype(zero);
    const T* px = x.data<T>();
    double s = 0;
    const int64_t n = x.numel();
#pragma omp parallel for reduction(+ : s) if (n > (1 << 15))
    for (int64_t i = 0; i < n; ++i) s += static_cast<double>(px[i]) * px[i];
    *acc.data<double>() += s;
  });
}

}  // namespace kernels
}  // namespace nf
