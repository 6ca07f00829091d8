#pragma once
// The CUDA kernels, as raw-pointer functions (no CUDA headers: the CUDA twins of the kernels,
// nf::kernels::gpu in tensor/kernels/cuda/*.cpp, call these from plain C++ when a tensor lives on
// Device::CUDA; tensor/kernels/route.h says how a kernel reaches its twin). Every pointer is a
// device pointer unless a comment says otherwise; every function enqueues work on the backend's
// one stream and returns without waiting, except those documented as synchronising.
//
// Semantics follow the CPU kernels of tensor/kernels/cpu/ exactly (same formulas, same masks,
// same counter based random numbers); docs/cuda.md lists each kernel and how it is checked
// (tests/tensor/test_cuda.cpp).
//
// Each launcher is defined in the .cu file of its family, tensor/kernels/cuda/<family>.cu, beside
// the twin <family>.cpp that calls it: unary, binary, masked_fill, where in elementwise.cu; copy,
// fill in copy.cu; sum, sum_rows, sum_cols, max_lastdim, max_backward, cumsum in reduce.cu;
// sum_squares_accumulate and adamw_step in optim.cu; gemm in blas.cu; the host twins in random.cu
// (generator) and elementwise.cu (GELU); the other sections in the file of their name.
//
// Conventions
//   dt        F32 or F64 (the floating dtype of every floating pointer in the call)
//   shape     the logical shape an elementwise kernel walks (at most kMaxDims dims after
//             merging contiguous dims); `*_strides` the element strides of each operand seen
//             through that shape (0 for a broadcast dim, as broadcast_strides() gives)
//   rows, n   a contiguous (rows, n) matrix: a row kernel works on each row of n elements
#include <cstdint>
#include <vector>

#include "tensor/dtype.h"

namespace nf {
namespace cuda {

using Dims = std::vector<int64_t>;
constexpr int kMaxDims = 8;

// ---- elementwise ----------------------------------------------------------------------------------
enum class UnaryOp {
  AddScalar,  // x + s
  MulScalar,  // x * s
  RSub,       // s - x
  RDiv,       // s / x
  Neg, Pow /* x^s */, Exp, Log, Sqrt, Rsqrt, Tanh, Sigmoid, Relu,
  Gelu,       // tanh form, as GPT-2
};
// out = f(a)
void unary(DType dt, UnaryOp op, double s, const Dims& shape, void* out, const Dims& out_strides, const void* a,
           const Dims& a_strides);

enum class BinaryOp {
  Add, Sub, Mul, Div,
  // Backward of a unary op, g * f'(x): a = g, b = the saved input x (or output y where noted).
  PowBackward,      // g * s * x^(s-1)
  SqrtBackward,     // g * 0.5 / y
  RsqrtBackward,    // g * -0.5 * y^3
  TanhBackward,     // g * (1 - y^2)
  SigmoidBackward,  // g * y (1 - y)
  ReluBackward,     // g * [x > 0]
  GeluBackward,     // g * gelu'(x)
};
// out = f(a, b) over `shape` (a and b broadcast to it through their strides).
void binary(DType dt, BinaryOp op, double s, const Dims& shape, void* out, const Dims& out_strides, const void* a,
            const Dims& a_strides, const void* b, const Dims& b_strides);

// dst = convert(src) over `shape` (src broadcast through its strides); any dtypes (F32, F64, I64,
// Bool). This is contiguous() / clone() / to(dtype) / copy_ between two device tensors.
void copy(const Dims& shape, DType dst_dt, void* dst, const Dims& dst_strides, DType src_dt, const void* src,
          const Dims& src_strides);
// n contiguous elements of any dtype set to `value` (converted as a static_cast would).
void fill(DType dt, void* dst, int64_t n, double value);

// out = mask ? value : a   (mask: bool)
void masked_fill(DType dt, const Dims& shape, void* out, const Dims& out_strides, const void* a,
                 const Dims& a_strides, const bool* mask, const Dims& mask_strides, double value);
// out = cond ? a : b.  Either of a, b may be null, meaning 0 (where's backward:
// da = cond ? g : 0 is where(cond, g, null), db = where(cond, null, g)).
void where(DType dt, const Dims& shape, void* out, const Dims& out_strides, const bool* cond,
           const Dims& cond_strides, const void* a, const Dims& a_strides, const void* b, const Dims& b_strides);

// ---- reductions ------------------------------------------------------------------------------------
// out = sum of `in` over the dims of `shape` where out_strides is 0 (out is written, not added
// to; out_strides as broadcast_strides(out_keepdim, shape) gives). Deterministic: fixed
// reduction trees, no atomics.
void sum(DType dt, const Dims& shape, void* out, const Dims& out_strides, const void* in, const Dims& in_strides);
// out[r] = Σ_j in[r, j]: the trailing-dims case of sum, for a contiguous (rows, n).
void sum_rows(DType dt, void* out, const void* in, int64_t rows, int64_t n);
// out[j] = Σ_r in[r, j] for a contiguous (rows, n): the leading-dims case (e.g. a bias gradient).
void sum_cols(DType dt, void* out, const void* in, int64_t rows, int64_t n);
// *out += Σ_i x[i]² in double (out: one device double); for clip_grad_norm over many tensors
// with one read-back at the end.
void sum_squares_accumulate(DType dt, double* out, const void* x, int64_t n);

// values[r], indices[r] = max and first argmax of row r of a contiguous (rows, n), n >= 1.
// A NaN wins over numbers (the first NaN), as max_lastdim on the CPU. indices may be null.
void max_lastdim(DType dt, void* values, int64_t* indices, const void* in, int64_t rows, int64_t n);
// gx (rows, n) = 0 except gx[r, indices[r]] = g[r]: max's backward.
void max_backward(DType dt, void* gx, const void* g, const int64_t* indices, int64_t rows, int64_t n);

// Inclusive prefix sums along the middle dim of a contiguous (outer, n, inner); reverse: suffix
// sums (cumsum's backward). inner = 1 is the last dim.
void cumsum(DType dt, void* out, const void* in, int64_t outer, int64_t n, int64_t inner, bool reverse);

// ---- softmax family (rows of a contiguous (rows, n)) -------------------------------------------
void softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t n);
// dx = scale · y ⊙ (g − Σ g ⊙ y)
void softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t n, double scale);
void log_softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t n);
// dx = g − exp(y) Σ g
void log_softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t n);
// x: rows = (batch · Tq) rows of Tk scores; row r is query q = r % Tq, which sees keys
// j <= q + (Tk − Tq). y = softmax(scale · x) over the visible keys, exactly 0 elsewhere.
void causal_softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t Tq, int64_t Tk, double scale);
// dx = scale · y ⊙ (g − Σ_visible g ⊙ y) on the visible keys, 0 elsewhere.
void causal_softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t Tq, int64_t Tk,
                             double scale);

// ---- cross-entropy (logits (N, V) contiguous, targets int64 (N)) ------------------------------
// loss (one element) = mean over rows with target != ignore_index of lse_r − x_r[t_r] (NaN when
// every row is ignored); lse (N) = per-row logsumexp (rows ignored: unspecified); count (one
// device int64) = rows counted. Row losses are summed in double by one fixed tree.
// Targets must be valid (check with first_invalid_id first when they are untrusted).
void cross_entropy_forward(DType dt, void* loss, void* lse, int64_t* count, const void* logits,
                           const int64_t* targets, int64_t N, int64_t V, int64_t ignore_index);
// dx (N, V) = g/count · (softmax(x_r) − onehot(t_r)); ignored rows 0. g: the loss gradient (one
// device element); count from the forward. Nothing is read back to the host.
void cross_entropy_backward(DType dt, void* dx, const void* g, const void* logits, const void* lse,
                            const int64_t* targets, const int64_t* count, int64_t N, int64_t V, int64_t ignore_index);
// Index of the first id outside [0, V) that is not `ignore` (-1 when all are valid), and its value
// in *bad_value (host). SYNCHRONISES (reads one value back). Pass ignore = INT64_MIN for none.
int64_t first_invalid_id(const int64_t* ids, int64_t n, int64_t V, int64_t ignore, int64_t* bad_value);

// ---- normalisations over the last dim (x contiguous (R, C)) ------------------------------------
// y = (x − μ) r w + b, r = 1/sqrt(var + eps) (biased var); saves mean (R), rstd (R).
// w, b may be null (absent).
void layer_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t R, int64_t C, double eps);
// y = x r w, r = 1/sqrt(mean(x²) + eps); saves rstd (R). w may be null.
void rms_norm_forward(DType dt, void* y, void* rstd, const void* x, const void* w, int64_t R, int64_t C, double eps);
// Shared backward (kernels::norm_backward, tensor/kernels/norm.h): with xhat = (x − μ) r
// (μ = 0 when !centered) and h = g ⊙ w:  dx = r (h − [centered] mean(h) − xhat · mean(h ⊙ xhat)),
// dw = Σ_rows g ⊙ xhat, db = Σ_rows g. Any of dx, dw, db may be null (not wanted); mean is ignored when !centered.
// dw, db are reduced deterministically (fixed row blocks, then a fixed sum over blocks).
void norm_backward(DType dt, bool centered, void* dx, void* dw, void* db, const void* g, const void* x,
                   const void* mean, const void* rstd, const void* w, int64_t R, int64_t C);

// ---- embedding -------------------------------------------------------------------------------------
// out (N, C) = weight[ids[i], :]. ids must be in [0, V) (first_invalid_id checks).
void embedding_forward(DType dt, void* out, const void* weight, const int64_t* ids, int64_t N, int64_t C);
// dweight (V, C) = Σ_{i: ids[i] = v} g[i, :], every row written (0 where no id). DETERMINISTIC,
// no atomics: the positions are sorted by id with a stable radix sort (CUB), then each id's
// rows are summed in position order — the same order, and so the same float sums, as the CPU.
void embedding_backward(DType dt, void* dweight, const void* g, const int64_t* ids, int64_t N, int64_t V, int64_t C);

// ---- random numbers (tensor/random.h's generator: draw n = splitmix64(seed·φ64 + n)) ----------
// Element i of a fill uses counter base + i, exactly as the CPU kernels: the same seed and counters
// give the same numbers on either device (uniform and dropout bit for bit; normals to the last
// ulp of the device's double log/cos).
// out[i] = (T) uniform_at(base + i), kept below 1 (rand).
void rand_uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t base);
// out[i] = (T) normal_at(pair0 + i): Box–Muller on draws 2(pair0+i), 2(pair0+i)+1 (randn).
void randn(DType dt, void* out, int64_t n, uint64_t seed, uint64_t pair0);
// Inverted dropout of a contiguous x (n): mask[i] = uniform_at(base + i) >= p ? 1/(1−p) : 0
// (all 0 when p == 1), out = x ⊙ mask. mask may be null when not needed.
void dropout(DType dt, void* out, void* mask, const void* x, int64_t n, double p, uint64_t seed, uint64_t base);

// ---- optimizer -------------------------------------------------------------------------------------
// One fused AdamW step over n contiguous elements (one parameter of kernels::adamw_step,
// tensor/kernels/optim.h):
//   m = b1 m + (1−b1) g;  v = b2 v + (1−b2) g²;  w = w (1 − lr wd) − (lr/bc1) m / (√v / √bc2 + eps)
void adamw_step(DType dt, void* w, const void* g, void* m, void* v, int64_t n, double lr, double b1, double b2,
                double eps, double wd, double bc1, double bc2);

// ---- matrix products (cuBLAS) ----------------------------------------------------------------------
// Row-major C (M, N) = alpha · op(A) (M, K) · op(B) (K, N) + beta · C for every batch index, as the
// CPU's kernels::gemm: a matrix is `trans` when its view is a transposed row-major matrix
// (kernels::gemm_operand, tensor/kernels/matmul.h: NoTrans needs column stride 1 and ld = row
// stride; Trans needs row stride 1 and ld = column stride). batch_shape with per-operand batch
// strides (0 = broadcast); batch dims that merge become one strided-batched call, any others a
// loop of them. float32 uses full-precision FP32 unless set_allow_tf32(true).
void gemm(DType dt, int64_t M, int64_t N, int64_t K, double alpha, const void* A, bool trans_a, int64_t lda,
          const void* B, bool trans_b, int64_t ldb, double beta, void* C, int64_t ldc, const Dims& batch_shape = {},
          const Dims& a_batch_strides = {}, const Dims& b_batch_strides = {}, const Dims& c_batch_strides = {});

// ---- host-side twins (for tests on machines without a GPU) ------------------------------------
// The __host__ __device__ functions the kernels use, evaluated on the host: the counter-based
// generator and GELU. tests/tensor/test_cuda.cpp checks them against tensor/random.h and the CPU ops
// even where no device exists.
double host_uniform_at(uint64_t seed, uint64_t n);
double host_normal_at(uint64_t seed, uint64_t pair);
double host_gelu(double x);
double host_gelu_backward(double x);  // gelu'(x)

}  // namespace cuda
}  // namespace nf
