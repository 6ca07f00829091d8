#pragma once
// A record of the matrix products the engine runs, for the training benchmark's matmul-only
// floor (bench/bench_train.cpp): it turns tracing on for one training step, then replays the
// same GEMM shapes and transpose flags with raw cblas_sgemm. Off (a null sink) by default; the
// engine pays one pointer test per product. Not thread-safe: trace from the thread that runs
// the ops (products are never issued from inside parallel regions).
#include <cstdint>
#include <vector>

namespace nf {

struct GemmCall {
  bool f64 = false;
  bool trans_a = false, trans_b = false;  // as given to BLAS (row-major)
  int64_t M = 0, N = 0, K = 0;
  int64_t batch = 1;    // independent products of this shape
  bool accumulate = false;  // beta = 1 (e.g. bias pre-filled into the output)
};

// Every product the engine runs on the CPU is appended to *sink while it is set (the CUDA gemm
// is not traced); nullptr stops tracing.
void set_gemm_trace(std::vector<GemmCall>* sink);

// One row-major float32 product C = alpha·op(A)·op(B) + beta·C the way the engine runs a single
// product: the OpenMP threads share out C in blocks of rows, columns or both, BLAS serial in each
// (tensor/kernels/cpu/matmul.cpp explains why). Exposed so that the floor can time this way too.
void sgemm_threads_shared(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                          int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

}  // namespace nf
