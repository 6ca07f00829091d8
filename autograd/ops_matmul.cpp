// Matrix products through BLAS. A transposed view is passed to BLAS as a transpose flag with
// its leading dimension, never copied: a matrix view (rows R, cols C, strides sr, sc) is
//   sc == 1  ->  row-major, NoTrans, ld = sr
//   sr == 1  ->  its transpose is row-major: Trans, ld = sc
// and only any other layout (e.g. a strided slice of both dims) is made contiguous first.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <numeric>

#include "autograd/node.h"
#include "tensor/gemm_trace.h"
#include "autograd/ops.h"
#include "tensor/strided.h"

namespace nf {
namespace {

std::vector<GemmCall>* g_gemm_trace = nullptr;

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

// One product C = op(A)·op(B) with the threads sharing out C themselves, as a grid of
// pm × pn blocks: block (i, j) = rows [m0, m1) × columns [n0, n1) of C needs only rows
// [m0, m1) of op(A) (they start at A + m·lda, or A + m when A is transposed) and columns
// [n0, n1) of op(B) (B + n, or B + n·ldb when transposed). Each thread calls BLAS on its block,
// and the OpenMP build of OpenBLAS runs serially inside a parallel region.
// Why not OpenBLAS's own threads: they split one product too, but synchronise with each other
// while packing (spinning on sched_yield), which on this project's small shapes costs a large
// part of the time (docs/performance.md, "One threading owner per region").
// The price is that each block packs its own rows of A and columns of B: a grid of pm × pn
// packs A pn times and B pm times, so the grid is chosen to keep pn·M + pm·N smallest (with
// 2 threads: a split along the longer of M and N). Blocks are at least 32 wide and cut at
// multiples of 16 (the kernels' unroll); a product too small to cut goes to BLAS as one call.
template <class T>
void gemm_shared(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A,
                 int64_t lda, const T* B, int64_t ldb, T beta, T* C, int64_t ldc) {
  const int64_t threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  int64_t pm = 1, pn = 1, best = -1;
  for (int64_t a = threads; a >= 1; --a)  // on a tie, more row blocks (a) win
    for (int64_t b = 1; a * b <= threads; ++b) {
      if (M < 32 * a || N < 32 * b) continue;
      const int64_t cost = b * M + a * N;  // elements of A and B packed, in units of K
      // more blocks first (every thread busy), then less packing
      if (a * b > pm * pn || (a * b == pm * pn && (best < 0 || cost < best))) pm = a, pn = b, best = cost;
    }
  if (pm * pn < 2 || K == 0) {
    gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  auto cut = [](int64_t len, int64_t parts, int64_t p) { return p == parts ? len : (len * p / parts) / 16 * 16; };
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(pm * pn))
  for (int64_t blk = 0; blk < pm * pn; ++blk) {
    const int64_t i = blk / pn, j = blk % pn;
    const int64_t m0 = cut(M, pm, i), m1 = cut(M, pm, i + 1), n0 = cut(N, pn, j), n1 = cut(N, pn, j + 1);
    gemm(ta, tb, m1 - m0, n1 - n0, K, alpha, ta == CblasTrans ? A + m0 : A + m0 * lda, lda,
         tb == CblasTrans ? B + n0 * ldb : B + n0, ldb, beta, C + m0 * ldc + n0, ldc);
  }
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
// (broadcast dims have stride 0). out's rows must be unit-stride (stride(-1) == 1); its row
// stride is passed as ldc and its batch dims may have any strides (a gradient laid out like
// the tensor it belongs to, see matmul_in_layout). beta = 1 accumulates into out.
void batched_gemm(const Tensor& a, const Tensor& b, Tensor& out, double beta = 0.0) {
  MatLayout la, lb;
  Tensor A = blas_ready(a, la), B = blas_ready(b, lb);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const int64_t nb = A.dim() - 2;
  const int64_t ldc = M > 1 ? out.stride(-2) : N;
  if (N > 1 && out.stride(-1) != 1) op_error("matmul", "internal: output rows are not unit-stride");
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
  if (g_gemm_trace) {
    GemmCall c;
    c.f64 = out.dtype() == DType::F64;
    c.trans_a = la.trans == CblasTrans;
    c.trans_b = lb.trans == CblasTrans;
    c.M = M, c.N = N, c.K = K, c.batch = batch, c.accumulate = beta != 0.0;
    g_gemm_trace->push_back(c);
  }
  // Threading, one owner per region (docs/performance.md):
  //  - a batch the threads can share evenly (attention: B·H heads): OpenMP over the batch, one
  //    whole product per thread, BLAS single-threaded inside (the OpenMP build of OpenBLAS runs
  //    serially when called from a parallel region), no barrier per product;
  //  - one product, or a batch too small to share: a serial loop, the threads sharing out each
  //    product in blocks of C (gemm_shared above), BLAS serial inside each block.
  const int threads = omp_get_max_threads();
  const bool over_batch = batch > 1 && threads > 1 && !omp_in_parallel() &&
                          (batch % threads == 0 || batch >= 4 * threads) &&
                          M * N * K <= (int64_t{1} << 27);
  dispatch_float(out.dtype(), "matmul", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pa = A.data<scalar_t>();
    const scalar_t* pb = B.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    if (over_batch) {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < batch; ++i)
        gemm(la.trans, lb.trans, M, N, K, scalar_t(1), pa + batch_offset(A, i), la.ld, pb + batch_offset(B, i), lb.ld,
             static_cast<scalar_t>(beta), po + batch_offset(out, i), ldc);
    } else {
      for (int64_t i = 0; i < batch; ++i)
        gemm_shared(la.trans, lb.trans, M, N, K, scalar_t(1), pa + batch_offset(A, i), la.ld, pb + batch_offset(B, i),
                    lb.ld, static_cast<scalar_t>(beta), po + batch_offset(out, i), ldc);
    }
  });
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

void set_gemm_trace(std::vector<GemmCall>* sink) { g_gemm_trace = sink; }

void sgemm_threads_shared(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_shared(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, M, N, K, alpha, A, lda, B, ldb,
              beta, C, ldc);
}

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
