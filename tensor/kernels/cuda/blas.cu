// Matrix products through cuBLAS, with the CPU's row-major conventions (tensor/kernels/matmul.h,
// tensor/kernels/cpu/matmul.cpp).
// cuBLAS is column-major; a row-major matrix with leading dimension ld is the column-major
// transpose with the same ld, so row-major C = op(A) op(B) is computed as the column-major
// Cᵀ = op(B)ᵀ op(A)ᵀ: the operands swap places and each keeps its own transpose flag.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <atomic>
#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#include <type_traits>

#include "tensor/kernels/cuda/common.cuh"

namespace nf {
namespace cuda {

namespace {

std::atomic<bool> g_tf32{[] {
  const char* e = std::getenv("NOISEFORMER_TF32");
  return e && std::string(e) == "1";
}()};

void check_blas(cublasStatus_t s, const char* what) {
  if (s != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuda: cuBLAS ") + what + " failed (status " + std::to_string(static_cast<int>(s)) +
                             ")");
}

struct Handle {
  cublasHandle_t h = nullptr;
  bool tf32 = false;
};
// One handle for the process (never destroyed: it may be needed by tensors freed at exit).
cublasHandle_t handle() {
  static std::mutex mu;
  static Handle* hd = nullptr;
  std::lock_guard<std::mutex> lock(mu);
  if (!hd) {
    require_device("cuBLAS");
    auto* n = new Handle();
    check_blas(cublasCreate(&n->h), "create");
    check_blas(cublasSetStream(n->h, stream()), "set stream");
    check_blas(cublasSetMathMode(n->h, CUBLAS_DEFAULT_MATH), "set math mode");
    hd = n;
  }
  const bool want = g_tf32.load();
  if (want != hd->tf32) {
    check_blas(cublasSetMathMode(hd->h, want ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH), "set math mode");
    hd->tf32 = want;
  }
  return hd->h;
}

int as_int(int64_t v, const char* what) {
  if (v < 0 || v > INT_MAX) throw std::invalid_argument(std::string("cuda gemm: ") + what + " out of cuBLAS's int range");
  return static_cast<int>(v);
}

// One strided-batched product (batch >= 1) in row-major terms.
template <class T>
void gemm_strided(int64_t M, int64_t N, int64_t K, T alpha, const T* A, bool ta, int64_t lda, int64_t sa, const T* B,
                  bool tb, int64_t ldb, int64_t sb, T beta, T* C, int64_t ldc, int64_t sc, int64_t batch) {
  cublasHandle_t h = handle();
  const cublasOperation_t opA = ta ? CUBLAS_OP_T : CUBLAS_OP_N, opB = tb ? CUBLAS_OP_T : CUBLAS_OP_N;
  const int m = as_int(N, "N"), n = as_int(M, "M"), k = as_int(K, "K");
  const int ld_b = as_int(ldb, "ldb"), ld_a = as_int(lda, "lda"), ld_c = as_int(ldc, "ldc");
  const int nb = as_int(batch, "batch");
  if constexpr (std::is_same<T, float>::value) {
    if (nb == 1)
      check_blas(cublasSgemm(h, opB, opA, m, n, k, &alpha, B, ld_b, A, ld_a, &beta, C, ld_c), "sgemm");
    else
      check_blas(cublasSgemmStridedBatched(h, opB, opA, m, n, k, &alpha, B, ld_b, sb, A, ld_a, sa, &beta, C, ld_c, sc,
                                           nb),
                 "sgemm strided batched");
  } else {
    if (nb == 1)
      check_blas(cublasDgemm(h, opB, opA, m, n, k, &alpha, B, ld_b, A, ld_a, &beta, C, ld_c), "dgemm");
    else
      check_blas(cublasDgemmStridedBatched(h, opB, opA, m, n, k, &alpha, B, ld_b, sb, A, ld_a, sa, &beta, C, ld_c, sc,
                                           nb),
                 "dgemm strided batched");
  }
}

}  // namespace

void set_allow_tf32(bool on) { g_tf32.store(on); }
bool allow_tf32() { return g_tf32.load(); }

void gemm(DType dt, int64_t M, int64_t N, int64_t K, double alpha, const void* A, bool trans_a, int64_t lda,
          const void* B, bool trans_b, int64_t ldb, double beta, void* C, int64_t ldc, const Dims& batch_shape,
          const Dims& a_batch_strides, const Dims& b_batch_strides, const Dims& c_batch_strides) {
  const size_t nb = batch_shape.size();
  if (a_batch_strides.size() != nb || b_batch_strides.size() != nb || c_batch_strides.size() != nb)
    throw std::invalid_argument("cuda gemm: batch strides do not match the batch shape");
  const int64_t batch = numel_of(batch_shape);
  if (M == 0 || N == 0 || batch == 0) return;
  // K == 0 is C = beta·C, which cuBLAS computes as such.
  // Merge the batch dims (as the elementwise kernels do); the innermost merged dim becomes the
  // strided batch, any outer ones a host loop.
  const OffsetCalc<3> calc = make_offset_calc<3>("gemm", batch_shape, {&a_batch_strides, &b_batch_strides, &c_batch_strides});
  int64_t inner = 1, sa = 0, sb = 0, sc = 0;
  int64_t outer = 1;
  OffsetCalc<3> outer_calc;
  outer_calc.ndim = 0;
  if (calc.ndim > 0) {
    const int d = calc.ndim - 1;
    inner = calc.sizes[d];
    sa = calc.strides[d][0];
    sb = calc.strides[d][1];
    sc = calc.strides[d][2];
    outer_calc.ndim = d;
    for (int k = 0; k < d; ++k) {
      outer_calc.sizes[k] = calc.sizes[k];
      for (int o = 0; o < 3; ++o) outer_calc.strides[k][o] = calc.strides[k][o];
      outer *= calc.sizes[k];
    }
  }
  if (sc == 0 && inner > 1)
    throw std::invalid_argument("cuda gemm: the output may not be broadcast over a batch dim");
  dispatch(dt, "gemm", [&](auto zero) {
    using T = decltype(zero);
    const T* pa = static_cast<const T*>(A);
    const T* pb = static_cast<const T*>(B);
    T* pc = static_cast<T*>(C);
    for (int64_t o = 0; o < outer; ++o) {
      int64_t off[3];
      outer_calc.get(o, off);
      gemm_strided<T>(M, N, K, static_cast<T>(alpha), pa + off[0], trans_a, lda, sa, pb + off[1], trans_b, ldb, sb,
                      static_cast<T>(beta), pc + off[2], ldc, sc, inner);
    }
  });
}

}  // namespace cuda
}  // namespace nf
