// Neural-network ops: the softmax family, cross-entropy, the normalisations, embedding and
// dropout. Each is one fused kernel over rows of the last dim (rows run in parallel when the
// work is large) plus a backward kernel of the same shape; the comment above each op derives
// its backward. Inputs of any layout are accepted: a non-contiguous input is copied into a
// contiguous one first, and an op over another dim moves that dim last.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "autograd/dim_order.h"
#include "autograd/node.h"
#include "tensor/fast_math.h"
#include "autograd/ops.h"

namespace nf {
namespace {

// Below this many elements a kernel runs on one thread: starting a team costs more than it saves.
// (Row kernels do more work per element than a copy — exp, two passes — hence half the
// elementwise threshold of tensor/strided.h.)
constexpr int64_t kParallelWork = 1 << 16;

// f(i) for every i in [0, count); in parallel when `work` (elements touched in all) is large.
// f must not throw (validate before calling).
template <class F>
void parallel_for(int64_t count, int64_t work, F&& f) {
  if (count > 1 && work >= kParallelWork) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < count; ++i) f(i);
  } else {
    for (int64_t i = 0; i < count; ++i) f(i);
  }
}
// f(r) for every row r of `rows` rows of `n` elements.
template <class F>
void for_rows(int64_t rows, int64_t n, F&& f) {
  parallel_for(rows, rows * n, f);
}

void check_float_cpu(const char* op, const Tensor& t, const char* what) {
  if (!t.defined()) op_error(op, std::string(what) + " is undefined");
  if (t.device() != Device::CPU)
    op_error(op, std::string(what) + " is on " + device_name(t.device()) + "; this kernel runs on the cpu");
  if (!is_floating(t.dtype()))
    op_error(op, std::string("expected a floating ") + what + ", got " + dtype_name(t.dtype()) +
                     shape_str(t.shape()));
}

void check_ids(const char* op, const Tensor& t, const char* what) {
  if (!t.defined()) op_error(op, std::string(what) + " is undefined");
  if (t.device() != Device::CPU)
    op_error(op, std::string(what) + " is on " + device_name(t.device()) + "; this kernel runs on the cpu");
  if (t.dtype() != DType::I64)
    op_error(op, std::string("expected int64 ") + what + ", got " + dtype_name(t.dtype()) + shape_str(t.shape()));
}

// ---- row kernels (x, y, g: one contiguous row of n) ------------------------------------------
template <class T>
T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// y = softmax(x) = exp(x - max) / Σ exp(x - max)   (fexp: tensor/fast_math.h, exact in float64)
template <class T>
void softmax_row(const T* x, T* y, int64_t n) {
  const T m = row_max(x, n);
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) {
    const T e = fexp(x[i] - m);
    y[i] = e;
    s += e;
  }
  const T inv = 1 / s;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] *= inv;
}

// y = x - logsumexp(x), logsumexp(x) = max + log Σ exp(x - max); returns logsumexp.
template <class T>
T log_softmax_row(const T* x, T* y, int64_t n) {
  const T m = row_max(x, n);
  T s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += fexp(x[i] - m);
  const T lse = m + std::log(s);
  if (y) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = x[i] - lse;
  }
  return lse;
}

// dx = y ⊙ (g − Σ g ⊙ y), times `scale`
template <class T>
void softmax_backward_row(const T* y, const T* g, T* dx, int64_t n, T scale) {
  T dot = 0;
#pragma omp simd reduction(+ : dot)
  for (int64_t i = 0; i < n; ++i) dot += g[i] * y[i];
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) dx[i] = scale * y[i] * (g[i] - dot);
}

// Runs kernel(x_row, y_row, n) over the rows of `a` along `dim`, returning y in a's layout.
template <class K>
Tensor rowwise(const char* op, const Tensor& a, int64_t dim, K kernel) {
  Tensor x = a.dim() == 0 ? a.detach().reshape({1}) : dim_last(a, dim);
  if (a.dim() == 0) dim = 0;
  Tensor y = empty(x.shape(), x.dtype());
  const int64_t n = x.size(-1), rows = n ? x.numel() / n : 0;
  dispatch_float(x.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* py = y.data<scalar_t>();
    for_rows(rows, n, [&](int64_t r) { kernel(px + r * n, py + r * n, n); });
  });
  return undo_dim_last(y, dim).view(a.shape());
}

// Backward over rows: kernel(y_row, g_row, dx_row, n) with y the saved output (in a's layout).
template <class K>
Tensor rowwise_backward(const char* op, const Tensor& y, const Tensor& g, int64_t dim, K kernel) {
  const bool scalar = y.dim() == 0;
  Tensor ym = scalar ? y.reshape({1}) : dim_last(y, dim);
  Tensor gm = scalar ? g.detach().reshape({1}) : dim_last(g, dim);
  Tensor dx = empty(ym.shape(), ym.dtype());
  const int64_t n = ym.size(-1), rows = n ? ym.numel() / n : 0;
  dispatch_float(ym.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* py = ym.data<scalar_t>();
    const scalar_t* pg = gm.data<scalar_t>();
    scalar_t* pd = dx.data<scalar_t>();
    for_rows(rows, n, [&](int64_t r) { kernel(py + r * n, pg + r * n, pd + r * n, n); });
  });
  return undo_dim_last(dx, scalar ? 0 : dim).view(y.shape());
}

// A row-wise op along `dim` whose backward needs only its output and the incoming gradient:
// forward(x_row, y_row, n), backward(y_row, g_row, dx_row, n).
template <class F, class B>
Tensor rowwise_op(const char* op, const char* backward_op, const Tensor& a, int64_t dim, F forward, B backward) {
  check_float_cpu(op, a, "input");
  dim = normalize_dim(op, dim, a.dim());
  Tensor out = rowwise(op, a, dim, forward);
  if (needs_grad({&a})) {
    Tensor y = out.detach();
    record(out, op, {a}, [y, dim, backward_op, backward](const Tensor& g) {
      return std::vector<Tensor>{rowwise_backward(backward_op, y, g, dim, backward)};
    });
  }
  return out;
}

}  // namespace

// ---- softmax / log_softmax ------------------------------------------------------------------------
// y = softmax(x) along dim.  dy_i/dx_j = y_i (δ_ij − y_j)  =>  dx_j = Σ_i g_i y_i (δ_ij − y_j)
//                                                              = y_j (g_j − Σ_i g_i y_i)
Tensor softmax(const Tensor& a, int64_t dim) {
  return rowwise_op(
      "softmax", "softmax_backward", a, dim, [](auto* x, auto* y, int64_t n) { softmax_row(x, y, n); },
      [](auto* yr, auto* gr, auto* dr, int64_t n) { softmax_backward_row(yr, gr, dr, n, decltype(dr[0] * 1)(1)); });
}

// y = x − logsumexp(x).  dy_i/dx_j = δ_ij − softmax_j  =>  dx_j = g_j − exp(y_j) Σ_i g_i
Tensor log_softmax(const Tensor& a, int64_t dim) {
  return rowwise_op(
      "log_softmax", "log_softmax_backward", a, dim, [](auto* x, auto* y, int64_t n) { log_softmax_row(x, y, n); },
      [](auto* yr, auto* gr, auto* dr, int64_t n) {
        decltype(dr[0] * 1) sg = 0;
#pragma omp simd reduction(+ : sg)
        for (int64_t i = 0; i < n; ++i) sg += gr[i];
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) dr[i] = gr[i] - fexp(yr[i]) * sg;
      });
}

// ---- causal_softmax ---------------------------------------------------------------------------------
// scores s (..., Tq, Tk); query i sees keys j <= i + (Tk − Tq) (the queries are the last Tq of
// the Tk positions, as when decoding with a KV cache). On the visible keys
//   z = scale·s,  A = softmax(z);  masked entries of A are exactly 0.
// Backward: dz = A ⊙ (dA − rowsum(dA ⊙ A)) (the softmax backward; masked A_j = 0 gives dz_j = 0,
// and they add nothing to the rowsum), then ds = scale·dz.
Tensor causal_softmax(const Tensor& scores, double scale) {
  check_float_cpu("causal_softmax", scores, "scores");
  if (scores.dim() < 2)
    op_error("causal_softmax", "expected scores of shape (..., Tq, Tk), got " + shape_str(scores.shape()));
  const int64_t Tq = scores.size(-2), Tk = scores.size(-1);
  if (Tq > Tk)
    op_error("causal_softmax", "more queries than keys (Tq = " + std::to_string(Tq) + " > Tk = " +
                                   std::to_string(Tk) + ") in scores " + shape_str(scores.shape()));
  const int64_t offset = Tk - Tq;
  Tensor x = scores.detach().contiguous();
  Tensor out = empty(scores.shape(), scores.dtype());
  const int64_t rows = Tk ? x.numel() / Tk : 0;
  dispatch_float(x.dtype(), "causal_softmax", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* py = out.data<scalar_t>();
    const scalar_t sc = static_cast<scalar_t>(scale);
    for_rows(rows, Tk, [&](int64_t r) {
      const scalar_t* xr = px + r * Tk;
      scalar_t* yr = py + r * Tk;
      const int64_t visible = r % Tq + offset + 1;  // keys 0 .. visible-1
      scalar_t m = -std::numeric_limits<scalar_t>::infinity();
#pragma omp simd reduction(max : m)
      for (int64_t j = 0; j < visible; ++j) m = sc * xr[j] > m ? sc * xr[j] : m;
      scalar_t s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < visible; ++j) {
        const scalar_t e = fexp(sc * xr[j] - m);
        yr[j] = e;
        s += e;
      }
      const scalar_t inv = 1 / s;
#pragma omp simd
      for (int64_t j = 0; j < visible; ++j) yr[j] *= inv;
      std::fill(yr + visible, yr + Tk, scalar_t(0));
    });
  });
  if (needs_grad({&scores})) {
    Tensor y = out.detach();
    record(out, "causal_softmax", {scores}, [y, scale, Tq, Tk, offset](const Tensor& g) {
      Tensor gc = g.contiguous();
      Tensor dx = empty(y.shape(), y.dtype());
      const int64_t rows = Tk ? y.numel() / Tk : 0;
      dispatch_float(y.dtype(), "causal_softmax_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
        const scalar_t* py = y.data<scalar_t>();
        const scalar_t* pg = gc.data<scalar_t>();
        scalar_t* pd = dx.data<scalar_t>();
        for_rows(rows, Tk, [&](int64_t r) {
          const int64_t visible = r % Tq + offset + 1;
          softmax_backward_row(py + r * Tk, pg + r * Tk, pd + r * Tk, visible, static_cast<scalar_t>(scale));
          std::fill(pd + r * Tk + visible, pd + (r + 1) * Tk, scalar_t(0));
        });
      });
      return std::vector<Tensor>{dx};
    });
  }
  return out;
}

// ---- cross_entropy ----------------------------------------------------------------------------------
// Over the K rows whose target t_r is not ignore_index:
//   L = (1/K) Σ_r [logsumexp(x_r) − x_r[t_r]]
//   dL/dx_rj = (softmax(x_r)_j − [j == t_r]) / K;  ignored rows get 0.
// The softmax is rebuilt in backward from the saved per-row logsumexp: exp(x_rj − lse_r).
// Per-row losses are summed serially in double, so the result does not depend on thread count.
// With every target ignored, K = 0 and the loss is NaN (as in PyTorch); the gradient is 0.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  const char* op = "cross_entropy";
  check_float_cpu(op, logits, "logits");
  check_ids(op, targets, "targets");
  if (logits.dim() < 1 || targets.dim() != logits.dim() - 1 ||
      !std::equal(targets.shape().begin(), targets.shape().end(), logits.shape().begin()))
    op_error(op, "logits " + shape_str(logits.shape()) + " and targets " + shape_str(targets.shape()) +
                     " do not match (expected logits (N, V) and targets (N))");
  const int64_t V = logits.size(-1), N = targets.numel();
  Tensor x = logits.detach().contiguous();
  Tensor t = targets.contiguous();
  const int64_t* pt = t.data<int64_t>();
  int64_t count = 0;
  for (int64_t r = 0; r < N; ++r) {
    if (pt[r] == ignore_index) continue;
    if (pt[r] < 0 || pt[r] >= V)
      op_error(op, "target " + std::to_string(pt[r]) + " at row " + std::to_string(r) +
                       " is out of range for V = " + std::to_string(V) + " classes (ignore_index = " +
                       std::to_string(ignore_index) + ")");
    ++count;
  }
  Tensor lse = empty({N}, logits.dtype());
  Tensor out = empty({}, logits.dtype());
  dispatch_float(x.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* pl = lse.data<scalar_t>();
    std::vector<double> row_loss(N, 0.0);
    for_rows(N, V, [&](int64_t r) {
      if (pt[r] == ignore_index) return;
      const scalar_t* xr = px + r * V;
      pl[r] = log_softmax_row<scalar_t>(xr, nullptr, V);
      row_loss[r] = static_cast<double>(pl[r]) - static_cast<double>(xr[pt[r]]);
    });
    double total = 0;
    for (int64_t r = 0; r < N; ++r) total += row_loss[r];
    *out.data<scalar_t>() = count ? static_cast<scalar_t>(total / static_cast<double>(count))
                                  : std::numeric_limits<scalar_t>::quiet_NaN();
  });
  if (needs_grad({&logits})) {
    Shape shape = logits.shape();
    record(out, "cross_entropy", {logits}, [x, t, lse, ignore_index, count, V, N, shape](const Tensor& g) {
      Tensor dx = empty(x.shape(), x.dtype());
      const double coef = count ? g.item() / static_cast<double>(count) : 0.0;
      const int64_t* pt = t.data<int64_t>();
      dispatch_float(x.dtype(), "cross_entropy_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
        const scalar_t* px = x.data<scalar_t>();
        const scalar_t* pl = lse.data<scalar_t>();
        scalar_t* pd = dx.data<scalar_t>();
        const scalar_t c = static_cast<scalar_t>(coef);
        for_rows(N, V, [&](int64_t r) {
          scalar_t* dr = pd + r * V;
          if (pt[r] == ignore_index) {
            std::fill(dr, dr + V, scalar_t(0));
            return;
          }
          const scalar_t* xr = px + r * V;
          const scalar_t l = pl[r];
#pragma omp simd
          for (int64_t j = 0; j < V; ++j) dr[j] = c * fexp(xr[j] - l);
          dr[pt[r]] -= c;
        });
      });
      return std::vector<Tensor>{dx.view(shape)};
    });
  }
  return out;
}

// ---- layer_norm / rms_norm ----------------------------------------------------------------------------
namespace {

// Checks an optional per-channel parameter (weight or bias) against x's last dim.
void check_param(const char* op, const Tensor& p, const Tensor& x, const char* what) {
  if (!p.defined()) return;
  check_float_cpu(op, p, what);
  check_same_dtype(op, x, p);
  if (p.dim() != 1 || p.size(0) != x.size(-1))
    op_error(op, std::string(what) + " " + shape_str(p.shape()) + " does not match the last dim of input " +
                     shape_str(x.shape()));
}

// Rows per block when summing dweight/dbias over rows: each block sums its rows into its own
// partial vector, then the partials are added in block order. Fixed blocks (not one per thread)
// keep the result independent of the thread count.
constexpr int64_t kRowBlock = 32;

// Shared backward of layer_norm (centered) and rms_norm (!centered), with xhat = (x − μ)·r
// (μ = 0 for rms) and h = g ⊙ w (w = 1 when absent):
//   layer_norm:  dx = r (h − mean(h) − xhat · mean(h ⊙ xhat))
//   rms_norm:    dx = r (h − xhat · mean(h ⊙ xhat))
//   dw = Σ_rows g ⊙ xhat,  db = Σ_rows g
std::vector<Tensor> norm_backward(const char* op, bool centered, const Tensor& g, const Tensor& x,
                                  const Tensor& mean, const Tensor& rstd, const Tensor& w,
                                  bool want_x, bool want_w, bool want_b) {
  Tensor gc = g.contiguous();
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  const int64_t blocks = (R + kRowBlock - 1) / kRowBlock;
  Tensor dx = want_x ? empty(x.shape(), x.dtype()) : Tensor();
  Tensor dw, db;
  dispatch_float(x.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    const scalar_t* pg = gc.data<scalar_t>();
    const scalar_t* pm = centered ? mean.data<scalar_t>() : nullptr;
    const scalar_t* pr = rstd.data<scalar_t>();
    const scalar_t* pw = w.defined() ? w.data<scalar_t>() : nullptr;
    scalar_t* pdx = want_x ? dx.data<scalar_t>() : nullptr;
    std::vector<scalar_t> part_w(want_w ? blocks * C : 0, 0), part_b(want_b ? blocks * C : 0, 0);
    auto block = [&](int64_t b) {
      std::vector<scalar_t> h(C), xh(C);
      for (int64_t r = b * kRowBlock; r < std::min(R, (b + 1) * kRowBlock); ++r) {
        const scalar_t* xr = px + r * C;
        const scalar_t* gr = pg + r * C;
        const scalar_t mu = pm ? pm[r] : scalar_t(0), rs = pr[r];
        scalar_t sh = 0, shx = 0;
        for (int64_t j = 0; j < C; ++j) {
          xh[j] = (xr[j] - mu) * rs;
          h[j] = pw ? gr[j] * pw[j] : gr[j];
          sh += h[j];
          shx += h[j] * xh[j];
        }
        if (pdx) {
          const scalar_t mh = centered ? sh / static_cast<scalar_t>(C) : scalar_t(0);
          const scalar_t mhx = shx / static_cast<scalar_t>(C);
          scalar_t* dr = pdx + r * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) dr[j] = rs * (h[j] - mh - xh[j] * mhx);
        }
        if (want_w) {
          scalar_t* acc = part_w.data() + b * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) acc[j] += gr[j] * xh[j];
        }
        if (want_b) {
          scalar_t* acc = part_b.data() + b * C;
#pragma omp simd
          for (int64_t j = 0; j < C; ++j) acc[j] += gr[j];
        }
      }
    };
    parallel_for(blocks, R * C, block);
    auto reduce = [&](const std::vector<scalar_t>& part) {
      Tensor s = zeros({C}, x.dtype());
      scalar_t* ps = s.data<scalar_t>();
      for (int64_t b = 0; b < blocks; ++b)
        for (int64_t j = 0; j < C; ++j) ps[j] += part[b * C + j];
      return s;
    };
    if (want_w) dw = reduce(part_w);
    if (want_b) db = reduce(part_b);
  });
  return {dx, dw, db};
}

}  // namespace

// y = (x − μ) · r · w + b over the last dim, μ = mean(x), r = 1/sqrt(var(x) + eps) (biased var).
// Backward (with xhat = (x − μ) r, h = g ⊙ w; see norm_backward):
//   dxhat = h;  dx = r (h − mean(h) − xhat · mean(h ⊙ xhat))  — xhat's dependence on x through
//   μ gives the −mean(h) term, through r the −xhat·mean(h ⊙ xhat) term.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_float_cpu(op, x, "input");
  if (x.dim() < 1) op_error(op, "expected at least a 1-d input, got " + shape_str(x.shape()));
  check_param(op, weight, x, "weight");
  check_param(op, bias, x, "bias");
  Tensor xc = x.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  Shape row_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor out = empty(x.shape(), x.dtype()), mean = empty(row_shape, x.dtype()), rstd = empty(row_shape, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = xc.data<scalar_t>();
    const scalar_t* pw = w.defined() ? w.data<scalar_t>() : nullptr;
    const scalar_t* pb = b.defined() ? b.data<scalar_t>() : nullptr;
    scalar_t* py = out.data<scalar_t>();
    scalar_t* pm = mean.data<scalar_t>();
    scalar_t* pr = rstd.data<scalar_t>();
    const scalar_t e = static_cast<scalar_t>(eps);
    for_rows(R, C, [&](int64_t r) {
      const scalar_t* xr = px + r * C;
      scalar_t* yr = py + r * C;
      scalar_t s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t j = 0; j < C; ++j) s += xr[j];
      const scalar_t mu = s / static_cast<scalar_t>(C);
      scalar_t v = 0;
#pragma omp simd reduction(+ : v)
      for (int64_t j = 0; j < C; ++j) v += (xr[j] - mu) * (xr[j] - mu);
      const scalar_t rs = 1 / std::sqrt(v / static_cast<scalar_t>(C) + e);
      pm[r] = mu;
      pr[r] = rs;
      if (pw && pb) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) yr[j] = (xr[j] - mu) * rs * pw[j] + pb[j];
      } else {
        for (int64_t j = 0; j < C; ++j) {
          scalar_t y = (xr[j] - mu) * rs;
          if (pw) y *= pw[j];
          if (pb) y += pb[j];
          yr[j] = y;
        }
      }
    });
  });
  if (needs_grad({&x, &weight, &bias})) {
    const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
               gb = bias.defined() && bias.requires_grad();
    record(out, "layer_norm", {x, weight, bias}, [xc, w, mean, rstd, gx, gw, gb](const Tensor& g) {
      return norm_backward("layer_norm_backward", true, g, xc, mean, rstd, w, gx, gw, gb);
    });
  }
  return out;
}

// y = x · r · w over the last dim, r = 1/sqrt(mean(x²) + eps).
// Backward (xhat = x r, h = g ⊙ w): dr/dx_j = −r³ x_j / C, so
//   dx = r h − x r³ mean(h ⊙ x) = r (h − xhat · mean(h ⊙ xhat));  dw = Σ_rows g ⊙ xhat
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  const char* op = "rms_norm";
  check_float_cpu(op, x, "input");
  if (x.dim() < 1) op_error(op, "expected at least a 1-d input, got " + shape_str(x.shape()));
  check_param(op, weight, x, "weight");
  Tensor xc = x.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  const int64_t C = x.size(-1), R = C ? x.numel() / C : 0;
  Shape row_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor out = empty(x.shape(), x.dtype()), rstd = empty(row_shape, x.dtype());
  dispatch_float(x.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = xc.data<scalar_t>();
    const scalar_t* pw = w.defined() ? w.data<scalar_t>() : nullptr;
    scalar_t* py = out.data<scalar_t>();
    scalar_t* pr = rstd.data<scalar_t>();
    const scalar_t e = static_cast<scalar_t>(eps);
    for_rows(R, C, [&](int64_t r) {
      const scalar_t* xr = px + r * C;
      scalar_t* yr = py + r * C;
      scalar_t ss = 0;
#pragma omp simd reduction(+ : ss)
      for (int64_t j = 0; j < C; ++j) ss += xr[j] * xr[j];
      const scalar_t rs = 1 / std::sqrt(ss / static_cast<scalar_t>(C) + e);
      pr[r] = rs;
      if (pw) {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] * rs * pw[j];
      } else {
#pragma omp simd
        for (int64_t j = 0; j < C; ++j) yr[j] = xr[j] * rs;
      }
    });
  });
  if (needs_grad({&x, &weight})) {
    const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad();
    record(out, "rms_norm", {x, weight}, [xc, w, rstd, gx, gw](const Tensor& g) {
      std::vector<Tensor> r = norm_backward("rms_norm_backward", false, g, xc, Tensor(), rstd, w, gx, gw, false);
      r.pop_back();
      return r;
    });
  }
  return out;
}

// ---- embedding --------------------------------------------------------------------------------------------
// out[..., :] = weight[ids[...], :].  Backward: dweight[v, :] = Σ_{positions p with ids[p] = v} g[p, :]
// (a scatter-add). The vocabulary is cut into fixed ranges, one task each: a task scans all ids
// in order and adds only rows in its range, so no two threads write a row and the sums do not
// depend on the thread count.
Tensor embedding(const Tensor& weight, const Tensor& ids) {
  const char* op = "embedding";
  check_float_cpu(op, weight, "weight");
  check_ids(op, ids, "ids");
  if (weight.dim() != 2) op_error(op, "expected weight [V, C], got " + shape_str(weight.shape()));
  const int64_t V = weight.size(0), C = weight.size(1), N = ids.numel();
  Tensor idc = ids.contiguous();
  const int64_t* pi = idc.data<int64_t>();
  for (int64_t i = 0; i < N; ++i)
    if (pi[i] < 0 || pi[i] >= V)
      op_error(op, "id " + std::to_string(pi[i]) + " out of range for V = " + std::to_string(V) +
                       " (weight " + shape_str(weight.shape()) + ")");
  Tensor w = weight.detach().contiguous();
  Shape os = ids.shape();
  os.push_back(C);
  Tensor out = empty(os, weight.dtype());
  dispatch_float(weight.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pw = w.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    for_rows(N, C, [&](int64_t i) { std::copy(pw + pi[i] * C, pw + (pi[i] + 1) * C, po + i * C); });
  });
  if (needs_grad({&weight})) {
    record(out, "embedding", {weight}, [idc, V, C, N](const Tensor& g) {
      Tensor gc = g.contiguous();
      Tensor dw = zeros({V, C}, g.dtype());
      const int64_t* pi = idc.data<int64_t>();
      dispatch_float(g.dtype(), "embedding_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
        const scalar_t* pg = gc.data<scalar_t>();
        scalar_t* pd = dw.data<scalar_t>();
        const int64_t tasks = std::min<int64_t>(V, 64), span = (V + tasks - 1) / std::max<int64_t>(tasks, 1);
        auto task = [&](int64_t k) {
          const int64_t lo = k * span, hi = std::min(V, lo + span);
          for (int64_t i = 0; i < N; ++i) {
            const int64_t v = pi[i];
            if (v < lo || v >= hi) continue;
            scalar_t* dr = pd + v * C;
            const scalar_t* gr = pg + i * C;
#pragma omp simd
            for (int64_t j = 0; j < C; ++j) dr[j] += gr[j];
          }
        };
        if (tasks > 1 && N * C >= kParallelWork) {
#pragma omp parallel for schedule(dynamic)
          for (int64_t k = 0; k < tasks; ++k) task(k);
        } else {
          for (int64_t k = 0; k < tasks; ++k) task(k);
        }
      });
      return std::vector<Tensor>{dw};
    });
  }
  return out;
}

// ---- dropout ------------------------------------------------------------------------------------------------
// Inverted dropout: out = a ⊙ m, m_i = [u_i ≥ p] / (1 − p), u_i = gen.uniform_at(base + i) for
// element i in row-major order, base = gen.reserve(numel): the mask is a pure function of the
// generator state, whatever the thread count or a's layout. da = g ⊙ m (m saved).
// p == 0 or !training: the identity (a itself, nothing drawn). p == 1: all zeros.
Tensor dropout(const Tensor& a, double p, bool training, Generator& gen) {
  const char* op = "dropout";
  check_float_cpu(op, a, "input");
  if (!(p >= 0.0 && p <= 1.0)) op_error(op, "probability p = " + std::to_string(p) + " is not in [0, 1]");
  if (!training || p == 0.0) return a;
  Tensor x = a.detach().contiguous();
  Tensor mask = empty(a.shape(), a.dtype()), out = empty(a.shape(), a.dtype());
  const int64_t n = a.numel();
  const uint64_t base = gen.reserve(static_cast<uint64_t>(n));
  dispatch_float(a.dtype(), op, [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* pm = mask.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    const scalar_t scale = p < 1.0 ? static_cast<scalar_t>(1.0 / (1.0 - p)) : scalar_t(0);
    const int64_t chunk = 4096, chunks = (n + chunk - 1) / chunk;
    for_rows(chunks, chunk, [&](int64_t c) {
      for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
        pm[i] = gen.uniform_at(base + static_cast<uint64_t>(i)) >= p ? scale : scalar_t(0);
        po[i] = px[i] * pm[i];
      }
    });
  });
  if (needs_grad({&a})) {
    record(out, "dropout", {a}, [mask](const Tensor& g) { return std::vector<Tensor>{mul(g, mask)}; });
  }
  return out;
}

}  // namespace nf
