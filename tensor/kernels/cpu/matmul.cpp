// CPU matrix products (tensor/kernels/matmul.h) through OpenBLAS, and the engine's GEMM trace
// (tensor/gemm_trace.h).
#include "tensor/kernels/matmul.h"

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <vector>

#include "tensor/gemm_trace.h"
#include "tensor/kernels/cuda/matmul.h"
#include "tensor/kernels/route.h"

namespace nf {
namespace {

std::vector<GemmCall>* g_gemm_trace = nullptr;

inline CBLAS_TRANSPOSE blas_trans(bool trans) { return trans ? CblasTrans : CblasNoTrans; }

inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, float alpha,
                      const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t M, int64_t N, int64_t K, double alpha,
                      const double* A, int64_t lda, const double* B, int64_t ldb, double beta, double* C,
                      int64_t ldc) {
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
    blas_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return;
  }
  auto cut = [](int64_t len, int64_t parts, int64_t p) { return p == parts ? len : (len * p / parts) / 16 * 16; };
#pragma omp parallel for schedule(static) num_threads(static_cast<int>(pm * pn))
  for (int64_t blk = 0; blk < pm * pn; ++blk) {
    const int64_t i = blk / pn, j = blk % pn;
    const int64_t m0 = cut(M, pm, i), m1 = cut(M, pm, i + 1), n0 = cut(N, pn, j), n1 = cut(N, pn, j + 1);
    blas_gemm(ta, tb, m1 - m0, n1 - n0, K, alpha, ta == CblasTrans ? A + m0 : A + m0 * lda, lda,
              tb == CblasTrans ? B + n0 * ldb : B + n0, ldb, beta, C + m0 * ldc + n0, ldc);
  }
}

}  // namespace

void set_gemm_trace(std::vector<GemmCall>* sink) { g_gemm_trace = sink; }

void sgemm_threads_shared(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_shared(blas_trans(trans_a), blas_trans(trans_b), M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

namespace kernels {

void gemm(const Tensor& out, const Tensor& a, const Tensor& b, double beta) {
  NF_ON_GPU(out, gemm(out, a, b, beta));
  const GemmOperand la = gemm_operand(a), lb = gemm_operand(b);
  const CBLAS_TRANSPOSE ta = blas_trans(la.trans), tb = blas_trans(lb.trans);
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  const int64_t nb = a.dim() - 2;
  const int64_t ldc = M > 1 ? out.stride(-2) : N;
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
    c.trans_a = la.trans;
    c.trans_b = lb.trans;
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
    const scalar_t* pa = a.data<scalar_t>();
    const scalar_t* pb = b.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    if (over_batch) {
#pragma omp parallel for schedule(static)
      for (int64_t i = 0; i < batch; ++i)
        blas_gemm(ta, tb, M, N, K, scalar_t(1), pa + batch_offset(a, i), la.ld, pb + batch_offset(b, i), lb.ld,
                  static_cast<scalar_t>(beta), po + batch_offset(out, i), ldc);
    } else {
      for (int64_t i = 0; i < batch; ++i)
        gemm_shared(ta, tb, M, N, K, scalar_t(1), pa + batch_offset(a, i), la.ld, pb + batch_offset(b, i), lb.ld,
                    static_cast<scalar_t>(beta), po + batch_offset(out, i), ldc);
    }
  });
}

}  // namespace kernels
}  // namespace nf
