// Matrix products: matmul (2-D and batched, with broadcasting) and linear. The products
// themselves run in one kernel, kernels::gemm (tensor/kernels/matmul.h: BLAS on the CPU, cuBLAS
// on the GPU), which reads a transposed view as a transpose flag with its leading dimension,
// never copied: a matrix view (rows R, cols C, strides sr, sc) is
//   sc == 1  ->  row-major, NoTrans, ld = sr
//   sr == 1  ->  its transpose is row-major: Trans, ld = sc
// and only any other layout (e.g. a strided slice of both dims) is made contiguous first.
#include <algorithm>
#include <numeric>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/kernels/matmul.h"
#include "tensor/strided.h"

namespace nf {
namespace {

// t itself when gemm reads its last two dims in place, else a contiguous copy.
Tensor gemm_ready(const Tensor& t) { return kernels::gemm_operand(t).readable ? t : t.contiguous(); }

// out (batch..., M, N) = a (batch..., M, K) @ b (batch..., K, N), all batch dims equal
// (broadcast dims have stride 0). out's rows must be unit-stride (stride(-1) == 1); its row
// stride is passed as ldc and its batch dims may have any strides (a gradient laid out like
// the tensor it belongs to, see matmul_in_layout). beta = 1 accumulates into out.
void batched_gemm(const Tensor& a, const Tensor& b, Tensor& out, double beta = 0.0) {
  if (b.size(-1) > 1 && out.stride(-1) != 1) op_error("matmul", "internal: output rows are not unit-stride");
  kernels::gemm(out, gemm_ready(a), gemm_ready(b), beta);
}

// An uninitialised tensor shaped like `like` whose memory follows like's dim order (dims sorted
// by stride, largest first) but densely: a gradient made in the layout of the tensor it is the
// gradient of. For q, k, v — strided views of the fused (B, T, 3C) projection seen as
// (B, H, T, d) — that is (B, T, H, d) memory, so the backward of split_heads is a view, not a copy.
Tensor empty_in_layout_of(const Tensor& like) {
  const int64_t nd = like.dim();
  Shape order(nd);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t x, int64_t y) {
    const int64_t sx = like.size(x) == 1 ? 0 : like.stride(x), sy = like.size(y) == 1 ? 0 : like.stride(y);
    return sx > sy;
  });
  Shape base_shape(nd), inverse(nd);
  for (int64_t i = 0; i < nd; ++i) {
    base_shape[i] = like.size(order[i]);
    inverse[order[i]] = i;
  }
  return empty(base_shape, like.dtype(), like.device()).permute(inverse);
}

// a @ b with the result laid out like `like` (same shape as the product, no broadcasting): rows
// unit-stride -> written directly; columns unit-stride -> computed as (bᵀ aᵀ) into the
// transposed view. Otherwise a plain contiguous product. Used for gradients (no recording).
Tensor matmul_in_layout(const Tensor& a, const Tensor& b, const Tensor& like) {
  const int64_t M = a.size(-2), N = b.size(-1);
  if (like.is_contiguous() || a.dim() != like.dim() || b.dim() != like.dim() || a.dim() < 3) return matmul(a, b);
  for (int64_t d = 0; d + 2 < a.dim(); ++d)
    if (a.size(d) != like.size(d) || b.size(d) != like.size(d)) return matmul(a, b);
  if (like.size(-2) != M || like.size(-1) != N) return matmul(a, b);
  Tensor out = empty_in_layout_of(like);
  if (out.stride(-1) == 1 && out.stride(-2) >= N) {
    batched_gemm(a, b, out);
  } else if (out.stride(-2) == 1 && out.stride(-1) >= M) {
    Tensor ot = out.transpose(-1, -2);
    batched_gemm(b.transpose(-1, -2), a.transpose(-1, -2), ot);
  } else {
    return matmul(a, b);
  }
  return out;
}

Shape batch_shape_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  if (!a.defined() || !b.defined()) op_error("matmul", "undefined operand");
  check_same_device("matmul", a, b);
  check_same_dtype("matmul", a, b);
  if (a.dim() < 2 || b.dim() < 2)
    op_error("matmul", "needs at least 2-d operands, got " + shape_str(a.shape()) + " and " + shape_str(b.shape()));
  if (a.size(-1) != b.size(-2))
    op_error("matmul", "inner dimensions differ: " + shape_str(a.shape()) + " @ " + shape_str(b.shape()));
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  Tensor out;
  if (b.dim() == 2 && a.dim() > 2) {
    // (..., M, K) @ (K, N): fold the batch into M when a's rows allow it — one big GEMM.
    Shape bs = batch_shape_of(a);
    Shape os = bs;
    os.push_back(M);
    os.push_back(N);
    Tensor a2 = a.detach().reshape({-1, K});
    out = empty({a2.size(0), N}, a.dtype(), a.device());
    batched_gemm(a2, b.detach(), out);
    out = out.view(os);
  } else {
    Shape bs = broadcast_shapes("matmul", batch_shape_of(a), batch_shape_of(b));
    Shape sa = bs, sb = bs, os = bs;
    sa.insert(sa.end(), {M, K});
    sb.insert(sb.end(), {K, N});
    os.insert(os.end(), {M, N});
    out = empty(os, a.dtype(), a.device());
    batched_gemm(a.detach().expand(sa), b.detach().expand(sb), out);
  }
  if (needs_grad({&a, &b})) {
    Tensor da = a.detach(), db = b.detach();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record(out, "matmul", {a, b}, [da, db, ga, gb](const Tensor& g) {
      // C = A B  =>  dA = dC Bᵀ,  dB = Aᵀ dC   (transposes are views -> BLAS flags)
      // Batched (attention): each gradient comes out in its input's memory layout.
      Tensor gA, gB;
      if (ga) gA = sum_to(matmul_in_layout(g, db.transpose(-1, -2), da), da.shape());
      if (gb) {
        if (db.dim() == 2 && da.dim() > 2) {
          const int64_t K = da.size(-1), N = db.size(-1);
          gB = matmul(da.reshape({-1, K}).t(), g.reshape({-1, N}));
        } else {
          gB = sum_to(matmul_in_layout(da.transpose(-1, -2), g, db), db.shape());
        }
      }
      return std::vector<Tensor>{gA, gB};
    });
  }
  return out;
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  if (!x.defined() || !weight.defined()) op_error("linear", "undefined operand");
  check_same_dtype("linear", x, weight);
  check_same_device("linear", x, weight);
  if (weight.dim() != 2 || x.dim() < 1 || x.size(-1) != weight.size(1))
    op_error("linear", "input " + shape_str(x.shape()) + " does not match weight " + shape_str(weight.shape()) +
                           " ([out, in])");
  const int64_t in = weight.size(1), outf = weight.size(0);
  if (bias.defined()) check_same_device("linear", x, bias);
  if (bias.defined() && (bias.dim() != 1 || bias.size(0) != outf))
    op_error("linear", "bias " + shape_str(bias.shape()) + " does not match weight " + shape_str(weight.shape()));
  Shape os = x.shape();
  os.back() = outf;
  // x2 (R, in) @ Wᵀ (in, out) -> (R, out); bias copied into every row first, GEMM adds (beta=1).
  Tensor x2 = x.detach().reshape({-1, in});
  Tensor out = empty({x2.size(0), outf}, x.dtype(), x.device());
  double beta = 0.0;
  if (bias.defined()) {
    out.copy_(bias.detach());
    beta = 1.0;
  }
  batched_gemm(x2, weight.detach().t(), out, beta);
  out = out.view(os);
  if (needs_grad({&x, &weight, &bias})) {
    Tensor dx2 = x2, dw = weight.detach();
    Shape xs = x.shape();
    const bool gx = x.requires_grad(), gw = weight.requires_grad(), gbias = bias.defined() && bias.requires_grad();
    std::vector<Tensor> inputs{x, weight};
    if (bias.defined()) inputs.push_back(bias);
    record(out, "linear", inputs, [dx2, dw, xs, gx, gw, gbias, outf](const Tensor& g) {
      // y = x Wᵀ + b  =>  dx = dy W,  dW = dyᵀ x,  db = Σ_rows dy
      Tensor g2 = g.reshape({-1, outf});
      std::vector<Tensor> grads(3);
      if (gx) grads[0] = matmul(g2, dw).view(xs);
      if (gw) grads[1] = matmul(g2.t(), dx2);
      if (gbias) grads[2] = sum(g2, {0});
      return grads;
    });
  }
  return out;
}

}  // namespace nf
