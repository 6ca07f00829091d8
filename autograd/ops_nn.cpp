// Neural-network ops: the softmax family, cross-entropy, the normalisations, embedding and
// dropout. Each is one fused kernel over rows of the last dim (tensor/kernels/: softmax.h,
// cross_entropy.h, norm.h, embedding.h, random.h) plus a backward kernel of the same shape; the
// comment above each op derives its backward. Inputs of any layout are accepted: a
// non-contiguous input is copied into a contiguous one first, and an op over another dim moves
// that dim last. Outputs live on the inputs' device.
#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "autograd/dim_order.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/kernels/cross_entropy.h"
#include "tensor/kernels/embedding.h"
#include "tensor/kernels/ids.h"
#include "tensor/kernels/norm.h"
#include "tensor/kernels/random.h"
#include "tensor/kernels/softmax.h"

namespace nf {
namespace {

void check_float(const char* op, const Tensor& t, const char* what) {
  if (!t.defined()) op_error(op, std::string(what) + " is undefined");
  if (!is_floating(t.dtype()))
    op_error(op, std::string("expected a floating ") + what + ", got " + dtype_name(t.dtype()) +
                     shape_str(t.shape()));
}

void check_ids(const char* op, const Tensor& t, const char* what) {
  if (!t.defined()) op_error(op, std::string(what) + " is undefined");
  if (t.dtype() != DType::I64)
    op_error(op, std::string("expected int64 ") + what + ", got " + dtype_name(t.dtype()) + shape_str(t.shape()));
}

// The forward of a row-wise op along `dim`: kernel(y, x) on a with `dim` moved last (contiguous),
// the result returned in a's layout.
template <class K>
Tensor rowwise(const Tensor& a, int64_t dim, K kernel) {
  Tensor x = a.dim() == 0 ? a.detach().reshape({1}) : dim_last(a, dim);
  if (a.dim() == 0) dim = 0;
  Tensor y = empty(x.shape(), x.dtype(), x.device());
  kernel(y, x);
  return undo_dim_last(y, dim).view(a.shape());
}

// Its backward: kernel(dx, y, g) with y the saved output (in a's layout) and g its gradient.
template <class K>
Tensor rowwise_backward(const Tensor& y, const Tensor& g, int64_t dim, K kernel) {
  const bool scalar = y.dim() == 0;
  Tensor ym = scalar ? y.reshape({1}) : dim_last(y, dim);
  Tensor gm = scalar ? g.detach().reshape({1}) : dim_last(g, dim);
  Tensor dx = empty(ym.shape(), ym.dtype(), ym.device());
  kernel(dx, ym, gm);
  return undo_dim_last(dx, scalar ? 0 : dim).view(y.shape());
}

// A row-wise op along `dim` whose backward needs only its output and the incoming gradient:
// forward(y, x), backward(dx, y, g) are the kernels.
template <class F, class B>
Tensor rowwise_op(const char* op, const Tensor& a, int64_t dim, F forward, B backward) {
  check_float(op, a, "input");
  dim = normalize_dim(op, dim, a.dim());
  Tensor out = rowwise(a, dim, forward);
  if (needs_grad({&a})) {
    Tensor y = out.detach();
    record(out, op, {a}, [y, dim, backward](const Tensor& g) {
      return std::vector<Tensor>{rowwise_backward(y, g, dim, backward)};
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
      "softmax", a, dim, [](const Tensor& y, const Tensor& x) { kernels::softmax_forward(y, x); },
      [](const Tensor& dx, const Tensor& y, const Tensor& g) { kernels::softmax_backward(dx, y, g, 1.0); });
}

// y = x − logsumexp(x).  dy_i/dx_j = δ_ij − softmax_j  =>  dx_j = g_j − exp(y_j) Σ_i g_i
Tensor log_softmax(const Tensor& a, int64_t dim) {
  return rowwise_op(
      "log_softmax", a, dim, [](const Tensor& y, const Tensor& x) { kernels::log_softmax_forward(y, x); },
      [](const Tensor& dx, const Tensor& y, const Tensor& g) { kernels::log_softmax_backward(dx, y, g); });
}

// ---- causal_softmax ---------------------------------------------------------------------------------
// scores s (..., Tq, Tk); query i sees keys j <= i + (Tk − Tq) (the queries are the last Tq of
// the Tk positions, as when decoding with a KV cache). On the visible keys
//   z = scale·s,  A = softmax(z);  masked entries of A are exactly 0.
// Backward: dz = A ⊙ (dA − rowsum(dA ⊙ A)) (the softmax backward; masked A_j = 0 gives dz_j = 0,
// and they add nothing to the rowsum), then ds = scale·dz.
Tensor causal_softmax(const Tensor& scores, double scale) {
  check_float("causal_softmax", scores, "scores");
  if (scores.dim() < 2)
    op_error("causal_softmax", "expected scores of shape (..., Tq, Tk), got " + shape_str(scores.shape()));
  const int64_t Tq = scores.size(-2), Tk = scores.size(-1);
  if (Tq > Tk)
    op_error("causal_softmax", "more queries than keys (Tq = " + std::to_string(Tq) + " > Tk = " +
                                   std::to_string(Tk) + ") in scores " + shape_str(scores.shape()));
  Tensor x = scores.detach().contiguous();
  Tensor out = empty(scores.shape(), scores.dtype(), scores.device());
  kernels::causal_softmax_forward(out, x, scale);
  if (needs_grad({&scores})) {
    Tensor y = out.detach();
    record(out, "causal_softmax", {scores}, [y, scale](const Tensor& g) {
      Tensor dx = empty(y.shape(), y.dtype(), y.device());
      kernels::causal_softmax_backward(dx, y, g.contiguous(), scale);
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
// Per-row losses are summed in double in a fixed order, so the result does not depend on the
// thread count. With every target ignored, K = 0 and the loss is NaN (as in PyTorch); the
// gradient is 0. K stays a tensor on the logits' device: the backward never reads it back.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index) {
  const char* op = "cross_entropy";
  check_float(op, logits, "logits");
  check_ids(op, targets, "targets");
  check_same_device(op, logits, targets);
  if (logits.dim() < 1 || targets.dim() != logits.dim() - 1 ||
      !std::equal(targets.shape().begin(), targets.shape().end(), logits.shape().begin()))
    op_error(op, "logits " + shape_str(logits.shape()) + " and targets " + shape_str(targets.shape()) +
                     " do not match (expected logits (N, V) and targets (N))");
  const int64_t V = logits.size(-1), N = targets.numel();
  Tensor x = logits.detach().contiguous();
  Tensor t = targets.contiguous();
  int64_t bad = 0;
  const int64_t row = kernels::first_invalid_id(t, V, ignore_index, &bad);
  if (row >= 0)
    op_error(op, "target " + std::to_string(bad) + " at row " + std::to_string(row) +
                     " is out of range for V = " + std::to_string(V) + " classes (ignore_index = " +
                     std::to_string(ignore_index) + ")");
  Tensor lse = empty({N}, logits.dtype(), logits.device());
  Tensor count = empty({}, DType::I64, logits.device());
  Tensor out = empty({}, logits.dtype(), logits.device());
  kernels::cross_entropy_forward(out, lse, count, x, t, ignore_index);
  if (needs_grad({&logits})) {
    Shape shape = logits.shape();
    record(out, "cross_entropy", {logits}, [x, t, lse, count, ignore_index, shape](const Tensor& g) {
      Tensor dx = empty(x.shape(), x.dtype(), x.device());
      kernels::cross_entropy_backward(dx, g, x, lse, t, count, ignore_index);
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
  check_float(op, p, what);
  check_same_dtype(op, x, p);
  check_same_device(op, x, p);
  if (p.dim() != 1 || p.size(0) != x.size(-1))
    op_error(op, std::string(what) + " " + shape_str(p.shape()) + " does not match the last dim of input " +
                     shape_str(x.shape()));
}

// Shared backward of layer_norm (centered: mean given) and rms_norm (mean undefined), with
// xhat = (x − μ)·r (μ = 0 for rms) and h = g ⊙ w (w = 1 when absent):
//   layer_norm:  dx = r (h − mean(h) − xhat · mean(h ⊙ xhat))
//   rms_norm:    dx = r (h − xhat · mean(h ⊙ xhat))
//   dw = Σ_rows g ⊙ xhat,  db = Σ_rows g
// Returns {dx, dw, db}, each undefined when not wanted.
std::vector<Tensor> norm_backward(const Tensor& g, const Tensor& x, const Tensor& mean, const Tensor& rstd,
                                  const Tensor& w, bool want_x, bool want_w, bool want_b) {
  const int64_t C = x.size(-1);
  Tensor dx = want_x ? empty(x.shape(), x.dtype(), x.device()) : Tensor();
  Tensor dw = want_w ? empty({C}, x.dtype(), x.device()) : Tensor();
  Tensor db = want_b ? empty({C}, x.dtype(), x.device()) : Tensor();
  kernels::norm_backward(dx, dw, db, g.contiguous(), x, mean, rstd, w);
  return {dx, dw, db};
}

}  // namespace

// y = (x − μ) · r · w + b over the last dim, μ = mean(x), r = 1/sqrt(var(x) + eps) (biased var).
// Backward (with xhat = (x − μ) r, h = g ⊙ w; see norm_backward):
//   dxhat = h;  dx = r (h − mean(h) − xhat · mean(h ⊙ xhat))  — xhat's dependence on x through
//   μ gives the −mean(h) term, through r the −xhat·mean(h ⊙ xhat) term.
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  check_float(op, x, "input");
  if (x.dim() < 1) op_error(op, "expected at least a 1-d input, got " + shape_str(x.shape()));
  check_param(op, weight, x, "weight");
  check_param(op, bias, x, "bias");
  Tensor xc = x.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Shape row_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  Tensor mean = empty(row_shape, x.dtype(), x.device()), rstd = empty(row_shape, x.dtype(), x.device());
  kernels::layer_norm_forward(out, mean, rstd, xc, w, b, eps);
  if (needs_grad({&x, &weight, &bias})) {
    const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad(),
               gb = bias.defined() && bias.requires_grad();
    record(out, "layer_norm", {x, weight, bias}, [xc, w, mean, rstd, gx, gw, gb](const Tensor& g) {
      return norm_backward(g, xc, mean, rstd, w, gx, gw, gb);
    });
  }
  return out;
}

// y = x · r · w over the last dim, r = 1/sqrt(mean(x²) + eps).
// Backward (xhat = x r, h = g ⊙ w): dr/dx_j = −r³ x_j / C, so
//   dx = r h − x r³ mean(h ⊙ x) = r (h − xhat · mean(h ⊙ xhat));  dw = Σ_rows g ⊙ xhat
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps) {
  const char* op = "rms_norm";
  check_float(op, x, "input");
  if (x.dim() < 1) op_error(op, "expected at least a 1-d input, got " + shape_str(x.shape()));
  check_param(op, weight, x, "weight");
  Tensor xc = x.detach().contiguous();
  Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  Shape row_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor out = empty(x.shape(), x.dtype(), x.device()), rstd = empty(row_shape, x.dtype(), x.device());
  kernels::rms_norm_forward(out, rstd, xc, w, eps);
  if (needs_grad({&x, &weight})) {
    const bool gx = x.requires_grad(), gw = weight.defined() && weight.requires_grad();
    record(out, "rms_norm", {x, weight}, [xc, w, rstd, gx, gw](const Tensor& g) {
      std::vector<Tensor> r = norm_backward(g, xc, Tensor(), rstd, w, gx, gw, false);
      r.pop_back();
      return r;
    });
  }
  return out;
}

// ---- embedding --------------------------------------------------------------------------------------------
// out[..., :] = weight[ids[...], :].  Backward: dweight[v, :] = Σ_{positions p with ids[p] = v} g[p, :]
// (a scatter-add, summed in position order whatever the threads or device: see
// tensor/kernels/embedding.h).
Tensor embedding(const Tensor& weight, const Tensor& ids) {
  const char* op = "embedding";
  check_float(op, weight, "weight");
  check_ids(op, ids, "ids");
  check_same_device(op, weight, ids);
  if (weight.dim() != 2) op_error(op, "expected weight [V, C], got " + shape_str(weight.shape()));
  const int64_t V = weight.size(0), C = weight.size(1);
  Tensor idc = ids.contiguous();
  int64_t bad = 0;
  if (kernels::first_invalid_id(idc, V, std::nullopt, &bad) >= 0)
    op_error(op, "id " + std::to_string(bad) + " out of range for V = " + std::to_string(V) + " (weight " +
                     shape_str(weight.shape()) + ")");
  Tensor w = weight.detach().contiguous();
  Shape os = ids.shape();
  os.push_back(C);
  Tensor out = empty(os, weight.dtype(), weight.device());
  kernels::embedding_forward(out, w, idc);
  if (needs_grad({&weight})) {
    record(out, "embedding", {weight}, [idc, V, C](const Tensor& g) {
      Tensor dw = empty({V, C}, g.dtype(), g.device());
      kernels::embedding_backward(dw, g.contiguous(), idc);
      return std::vector<Tensor>{dw};
    });
  }
  return out;
}

// ---- dropout ------------------------------------------------------------------------------------------------
// Inverted dropout: out = a ⊙ m, m_i = [u_i ≥ p] / (1 − p), u_i = gen.uniform_at(base + i) for
// element i in row-major order, base = gen.reserve(numel): the mask is a pure function of the
// generator state, whatever the thread count, device or a's layout. da = g ⊙ m (m saved).
// p == 0 or !training: the identity (a itself, nothing drawn). p == 1: all zeros.
Tensor dropout(const Tensor& a, double p, bool training, Generator& gen) {
  const char* op = "dropout";
  check_float(op, a, "input");
  if (!(p >= 0.0 && p <= 1.0)) op_error(op, "probability p = " + std::to_string(p) + " is not in [0, 1]");
  if (!training || p == 0.0) return a;
  Tensor x = a.detach().contiguous();
  Tensor mask = empty(a.shape(), a.dtype(), a.device()), out = empty(a.shape(), a.dtype(), a.device());
  const uint64_t base = gen.reserve(static_cast<uint64_t>(a.numel()));
  kernels::dropout(out, mask, x, p, gen.seed(), base);
  if (needs_grad({&a})) {
    record(out, "dropout", {a}, [mask](const Tensor& g) { return std::vector<Tensor>{mul(g, mask)}; });
  }
  return out;
}

}  // namespace nf
