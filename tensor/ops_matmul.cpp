// Matrix products through BLAS. A transposed view is passed to BLAS as a transpose flag with
// its leading dimension, never copied: a matrix view (rows R, cols C, strides sr, sc) is
//   sc == 1  ->  row-major, NoTrans, ld = sr
//   sr == 1  ->  its transpose is row-major: Trans, ld = sc
// and only any other layout (e.g. a strided slice of both dims) is made contiguous first.
#include <cblas.h>
#include <omp.h>

#include <algorithm>

#include "autograd/node.h"
#include "tensor/ops.h"
#include "tensor/strided.h"

namespace nf {
namespace {

struct MatLayout {
  bool ok = false;
  CBLAS_TRANSPOSE trans = CblasNoTrans;
  int64_t ld = 0;
};

MatLayout layout_of(int64_t rows, int64_t cols, int64_t sr, int64_t sc) {
  MatLayout m;
  if ((sc == 1 || cols == 1) && (sr >= std::max<int64_t>(cols, 1) || rows == 1)) {
    m = {true, CblasNoTrans, std::max<int64_t>(rows == 1 ? cols : sr, 1)};
  } else if ((sr == 1 || rows == 1) && (sc >= std::max<int64_t>(rows, 1) || cols == 1)) {
    m = {true, CblasTrans, std::max<int64_t>(cols == 1 ? rows : sc, 1)};
  }
  return m;
}

inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, float alpha,
                 const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, double alpha,
                 const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

// A tensor whose last two dims form a BLAS-readable matrix (copied only if they do not).
Tensor blas_ready(const Tensor& t, MatLayout& lay) {
  const int64_t r = t.size(-2), c = t.size(-1);
  lay = layout_of(r, c, t.stride(-2), t.stride(-1));
  if (lay.ok) return t;
  Tensor cc = t.contiguous();
  lay = layout_of(r, c, cc.stride(-2), cc.stride(-1));
  return cc;
}

// out (batch..., M, N) = a (batch..., M, K) @ b (batch..., K, N), all batch dims equal
// (broadcast dims have stride 0), out contiguous. beta = 1 accumulates into out.
void batched_gemm(const Tensor& a, const Tensor& b, Tensor& out, double beta = 0.0) {
  MatLayout la, lb;
  Tensor A = blas_ready(a, la), B = blas_ready(b, lb);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const int64_t nb = A.dim() - 2;
  int64_t batch = 1;
  for (int64_t d = 0; d < nb; ++d) batch *= out.size(d);
  auto batch_offset = [&](const Tensor& t, int64_t i) {
    int64_t off = 0;
    for (int64_t d = nb - 1; d >= 0; --d) {
      off += (i % t.size(d)) * t.stride(d);
      i /= t.size(d);
    }
    return off;
  };
  dispatch_float(out.dtype(), "matmul", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pa = A.data<scalar_t>();
    const scalar_t* pb = B.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    auto one = [&](int64_t i) {
      gemm(la.trans, lb.trans, M, N, K, scalar_t(1), pa + batch_offset(A, i), la.ld,
           pb + batch_offset(B, i), lb.ld, static_cast<scalar_t>(beta), po + i * M * N, N);
    };
    // Many small products (attention heads): one product per thread, BLAS single-threaded
    // inside (the OpenMP OpenBLAS runs serially when called from a parallel region).
    // Few large products: a serial loop, BLAS threads each one.
    if (batch > 1 && M * N * K < (1 << 22)) {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < batch; ++i) one(i);
    } else {
      for (int64_t i = 0; i < batch; ++i) one(i);
    }
  });
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
      Tensor gA, gB;
      if (ga) gA = sum_to(matmul(g, db.transpose(-1, -2)), da.shape());
      if (gb) {
        if (db.dim() == 2 && da.dim() > 2) {
          const int64_t K = da.size(-1), N = db.size(-1);
          gB = matmul(da.reshape({-1, K}).t(), g.reshape({-1, N}));
        } else {
          gB = sum_to(matmul(da.transpose(-1, -2), g), db.shape());
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
