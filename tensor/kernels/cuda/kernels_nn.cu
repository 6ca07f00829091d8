// CUDA kernels, part 2: the kernels under the neural-network ops of autograd/ops_nn.cpp —
// softmax, log_softmax and the fused causal softmax, cross-entropy, layer_norm / rms_norm,
// embedding — forward and backward (their CPU loops: tensor/kernels/cpu/{softmax,cross_entropy,
// norm,embedding}.cpp). Row kernels give each row to one warp (rows up to 1024) or one block
// (longer rows); every reduction is a fixed tree, so results do not change from run to run.
#include <cuda_runtime.h>

#include <cub/cub.cuh>

#include <climits>
#include <cstdint>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

namespace {

// Launches KERNEL<T, warp?> over `rows` rows of n, one row group each.
#define NF_ROW_LAUNCH(KERNEL, T, rows, n, ...)                                                        \
  do {                                                                                                \
    if ((n) <= kWarpRowMax)                                                                           \
      KERNEL<T, true><<<row_blocks(rows, true), kThreads, 0, stream()>>>(__VA_ARGS__);               \
    else                                                                                              \
      KERNEL<T, false><<<row_blocks(rows, false), kThreads, 0, stream()>>>(__VA_ARGS__);             \
  } while (0)

// ---- softmax family -------------------------------------------------------------------------------
// y = softmax(scale · x) over the first `visible` elements of the row, 0 after (visible = n for
// a plain softmax): max, then Σ exp, then y = exp · (1/Σ) — the CPU's softmax_row.
template <class T, bool W>
__device__ void softmax_row(T* yr, const T* xr, int64_t n, int64_t visible, T sc, T* smem) {
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  T m = -Limits<T>::inf();
  for (int64_t j = t; j < visible; j += S) {
    const T z = sc * xr[j];
    m = z > m ? z : m;
  }
  m = RowGroup<W>::max(m, smem, -Limits<T>::inf());
  T s = 0;
  for (int64_t j = t; j < visible; j += S) s += m_exp(sc * xr[j] - m);
  s = RowGroup<W>::sum(s, smem);
  const T inv = 1 / s;
  for (int64_t j = t; j < n; j += S) yr[j] = j < visible ? m_exp(sc * xr[j] - m) * inv : T(0);
}

template <class T, bool W>
__global__ void softmax_kernel(T* y, const T* x, int64_t rows, int64_t n) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  softmax_row<T, W>(y + r * n, x + r * n, n, n, T(1), smem);
}

template <class T, bool W>
__global__ void causal_softmax_kernel(T* y, const T* x, int64_t rows, int64_t Tq, int64_t Tk, T sc) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const int64_t visible = r % Tq + (Tk - Tq) + 1;
  softmax_row<T, W>(y + r * Tk, x + r * Tk, Tk, visible, sc, smem);
}

// dx = scale · y ⊙ (g − Σ_visible g ⊙ y) on the visible part, 0 after.
template <class T, bool W>
__device__ void softmax_backward_row(T* dr, const T* yr, const T* gr, int64_t n, int64_t visible, T sc, T* smem) {
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  T dot = 0;
  for (int64_t j = t; j < visible; j += S) dot += gr[j] * yr[j];
  dot = RowGroup<W>::sum(dot, smem);
  for (int64_t j = t; j < n; j += S) dr[j] = j < visible ? sc * yr[j] * (gr[j] - dot) : T(0);
}

template <class T, bool W>
__global__ void softmax_backward_kernel(T* dx, const T* y, const T* g, int64_t rows, int64_t n, T sc) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  softmax_backward_row<T, W>(dx + r * n, y + r * n, g + r * n, n, n, sc, smem);
}

template <class T, bool W>
__global__ void causal_softmax_backward_kernel(T* dx, const T* y, const T* g, int64_t rows, int64_t Tq, int64_t Tk,
                                               T sc) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const int64_t visible = r % Tq + (Tk - Tq) + 1;
  softmax_backward_row<T, W>(dx + r * Tk, y + r * Tk, g + r * Tk, Tk, visible, sc, smem);
}

// logsumexp of a row: max + log Σ exp(x − max).
template <class T, bool W>
__device__ T row_logsumexp(const T* xr, int64_t n, T* smem) {
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  T m = -Limits<T>::inf();
  for (int64_t j = t; j < n; j += S) m = xr[j] > m ? xr[j] : m;
  m = RowGroup<W>::max(m, smem, -Limits<T>::inf());
  T s = 0;
  for (int64_t j = t; j < n; j += S) s += m_exp(xr[j] - m);
  s = RowGroup<W>::sum(s, smem);
  return m + m_log(s);
}

template <class T, bool W>
__global__ void log_softmax_kernel(T* y, const T* x, int64_t rows, int64_t n) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const T* xr = x + r * n;
  T* yr = y + r * n;
  const T lse = row_logsumexp<T, W>(xr, n, smem);
  for (int64_t j = RowGroup<W>::rank(); j < n; j += RowGroup<W>::size()) yr[j] = xr[j] - lse;
}

template <class T, bool W>
__global__ void log_softmax_backward_kernel(T* dx, const T* y, const T* g, int64_t rows, int64_t n) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const T* yr = y + r * n;
  const T* gr = g + r * n;
  T* dr = dx + r * n;
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  T sg = 0;
  for (int64_t j = t; j < n; j += S) sg += gr[j];
  sg = RowGroup<W>::sum(sg, smem);
  for (int64_t j = t; j < n; j += S) dr[j] = gr[j] - m_exp(yr[j]) * sg;
}

}  // namespace

void softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "softmax", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(softmax_kernel, T, rows, n, static_cast<T*>(y), static_cast<const T*>(x), rows, n);
  });
  check_launch("softmax");
}

void softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t n, double scale) {
  if (rows * n == 0) return;
  dispatch(dt, "softmax_backward", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(softmax_backward_kernel, T, rows, n, static_cast<T*>(dx), static_cast<const T*>(y),
                  static_cast<const T*>(g), rows, n, static_cast<T>(scale));
  });
  check_launch("softmax_backward");
}

void log_softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "log_softmax", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(log_softmax_kernel, T, rows, n, static_cast<T*>(y), static_cast<const T*>(x), rows, n);
  });
  check_launch("log_softmax");
}

void log_softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "log_softmax_backward", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(log_softmax_backward_kernel, T, rows, n, static_cast<T*>(dx), static_cast<const T*>(y),
                  static_cast<const T*>(g), rows, n);
  });
  check_launch("log_softmax_backward");
}

void causal_softmax_forward(DType dt, void* y, const void* x, int64_t rows, int64_t Tq, int64_t Tk, double scale) {
  if (rows * Tk == 0) return;
  if (Tq < 1 || Tq > Tk) throw std::invalid_argument("cuda causal_softmax: need 1 <= Tq <= Tk");
  dispatch(dt, "causal_softmax", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(causal_softmax_kernel, T, rows, Tk, static_cast<T*>(y), static_cast<const T*>(x), rows, Tq, Tk,
                  static_cast<T>(scale));
  });
  check_launch("causal_softmax");
}

void causal_softmax_backward(DType dt, void* dx, const void* y, const void* g, int64_t rows, int64_t Tq, int64_t Tk,
                             double scale) {
  if (rows * Tk == 0) return;
  if (Tq < 1 || Tq > Tk) throw std::invalid_argument("cuda causal_softmax_backward: need 1 <= Tq <= Tk");
  dispatch(dt, "causal_softmax_backward", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(causal_softmax_backward_kernel, T, rows, Tk, static_cast<T*>(dx), static_cast<const T*>(y),
                  static_cast<const T*>(g), rows, Tq, Tk, static_cast<T>(scale));
  });
  check_launch("causal_softmax_backward");
}

// ---- cross-entropy ------------------------------------------------------------------------------------
namespace {

template <class T, bool W>
__global__ void ce_rows_kernel(double* row_loss, T* lse, const T* x, const int64_t* targets, int64_t N, int64_t V,
                               int64_t ignore) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= N) return;
  const int64_t t = targets[r];
  if (t == ignore) {
    if (RowGroup<W>::rank() == 0) row_loss[r] = 0.0;
    return;  // the whole group returns together
  }
  const T* xr = x + r * V;
  const T l = row_logsumexp<T, W>(xr, V, smem);
  if (RowGroup<W>::rank() == 0) {
    lse[r] = l;
    row_loss[r] = static_cast<double>(l) - static_cast<double>(xr[t]);
  }
}

// One block: loss = Σ row_loss / count (NaN when count = 0), count = rows not ignored.
template <class T>
__global__ void ce_total_kernel(T* loss, int64_t* count_out, const double* row_loss, const int64_t* targets, int64_t N,
                                int64_t ignore) {
  __shared__ double sd[32];
  __shared__ long long sc[32];
  double total = 0;
  long long count = 0;
  for (int64_t r = threadIdx.x; r < N; r += blockDim.x) {
    if (targets[r] == ignore) continue;
    total += row_loss[r];
    ++count;
  }
  total = block_sum(total, sd);
  count = block_sum(count, sc);
  if (threadIdx.x == 0) {
    *count_out = count;
    *loss = count ? static_cast<T>(total / static_cast<double>(count)) : Limits<T>::nan();
  }
}

template <class T>
__global__ void ce_backward_kernel(T* dx, const T* g, const T* x, const T* lse, const int64_t* targets,
                                   const int64_t* count, int64_t N, int64_t V, int64_t ignore) {
  const int64_t cnt = *count;
  const T c = cnt ? static_cast<T>(static_cast<double>(*g) / static_cast<double>(cnt)) : T(0);
  const int64_t total = N * V;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t r = k / V, j = k - r * V;
    const int64_t t = targets[r];
    if (t == ignore) {
      dx[k] = T(0);
      continue;
    }
    T d = c * m_exp(x[k] - lse[r]);
    if (j == t) d -= c;
    dx[k] = d;
  }
}

// Lowest index i with ids[i] outside [0, V) and != ignore.
__global__ void first_invalid_kernel(unsigned long long* first, const int64_t* ids, int64_t n, int64_t V,
                                     int64_t ignore) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t v = ids[i];
    if (v != ignore && (v < 0 || v >= V)) atomicMin(first, static_cast<unsigned long long>(i));
  }
}

}  // namespace

void cross_entropy_forward(DType dt, void* loss, void* lse, int64_t* count, const void* logits,
                           const int64_t* targets, int64_t N, int64_t V, int64_t ignore_index) {
  Scratch row_loss(sizeof(double) * (N > 0 ? N : 1));
  dispatch(dt, "cross_entropy", [&](auto zero) {
    using T = decltype(zero);
    if (N > 0 && V > 0)
      NF_ROW_LAUNCH(ce_rows_kernel, T, N, V, row_loss.as<double>(), static_cast<T*>(lse),
                    static_cast<const T*>(logits), targets, N, V, ignore_index);
    check_launch("cross_entropy");
    ce_total_kernel<T><<<1, 1024, 0, stream()>>>(static_cast<T*>(loss), count, row_loss.as<double>(), targets, N,
                                                 ignore_index);
  });
  check_launch("cross_entropy");
}

void cross_entropy_backward(DType dt, void* dx, const void* g, const void* logits, const void* lse,
                            const int64_t* targets, const int64_t* count, int64_t N, int64_t V, int64_t ignore_index) {
  if (N * V == 0) return;
  dispatch(dt, "cross_entropy_backward", [&](auto zero) {
    using T = decltype(zero);
    ce_backward_kernel<T><<<blocks_for(N * V), kThreads, 0, stream()>>>(
        static_cast<T*>(dx), static_cast<const T*>(g), static_cast<const T*>(logits), static_cast<const T*>(lse),
        targets, count, N, V, ignore_index);
  });
  check_launch("cross_entropy_backward");
}

int64_t first_invalid_id(const int64_t* ids, int64_t n, int64_t V, int64_t ignore, int64_t* bad_value) {
  if (n == 0) return -1;
  Scratch first(sizeof(unsigned long long));
  check(cudaMemsetAsync(first.as<void>(), 0xff, sizeof(unsigned long long), stream()), "first_invalid_id");
  first_invalid_kernel<<<blocks_for(n), kThreads, 0, stream()>>>(first.as<unsigned long long>(), ids, n, V, ignore);
  check_launch("first_invalid_id");
  unsigned long long idx = 0;
  check(cudaMemcpy(&idx, first.as<void>(), sizeof idx, cudaMemcpyDeviceToHost), "first_invalid_id");
  if (idx == ULLONG_MAX) return -1;
  if (bad_value) check(cudaMemcpy(bad_value, ids + idx, sizeof(int64_t), cudaMemcpyDeviceToHost), "first_invalid_id");
  return static_cast<int64_t>(idx);
}

// ---- layer_norm / rms_norm ----------------------------------------------------------------------------------
namespace {

template <class T, bool W>
__global__ void layer_norm_kernel(T* y, T* mean, T* rstd, const T* x, const T* w, const T* b, int64_t R, int64_t C,
                                  T eps) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= R) return;
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  const T* xr = x + r * C;
  T* yr = y + r * C;
  T s = 0;
  for (int64_t j = t; j < C; j += S) s += xr[j];
  const T mu = RowGroup<W>::sum(s, smem) / static_cast<T>(C);
  T v = 0;
  for (int64_t j = t; j < C; j += S) v += (xr[j] - mu) * (xr[j] - mu);
  v = RowGroup<W>::sum(v, smem);
  const T rs = 1 / m_sqrt(v / static_cast<T>(C) + eps);
  if (t == 0) {
    mean[r] = mu;
    rstd[r] = rs;
  }
  for (int64_t j = t; j < C; j += S) {
    T o = (xr[j] - mu) * rs;
    if (w) o *= w[j];
    if (b) o += b[j];
    yr[j] = o;
  }
}

template <class T, bool W>
__global__ void rms_norm_kernel(T* y, T* rstd, const T* x, const T* w, int64_t R, int64_t C, T eps) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= R) return;
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  const T* xr = x + r * C;
  T* yr = y + r * C;
  T ss = 0;
  for (int64_t j = t; j < C; j += S) ss += xr[j] * xr[j];
  ss = RowGroup<W>::sum(ss, smem);
  const T rs = 1 / m_sqrt(ss / static_cast<T>(C) + eps);
  if (t == 0) rstd[r] = rs;
  for (int64_t j = t; j < C; j += S) yr[j] = w ? xr[j] * rs * w[j] : xr[j] * rs;
}

// dx for one row: r (h − mh − xhat · mhx), h = g w, xhat = (x − μ) r.
template <class T, bool W>
__global__ void norm_dx_kernel(T* dx, const T* g, const T* x, const T* mean, const T* rstd, const T* w, int64_t R,
                               int64_t C, bool centered) {
  __shared__ T smem[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= R) return;
  const int t = RowGroup<W>::rank(), S = RowGroup<W>::size();
  const T* xr = x + r * C;
  const T* gr = g + r * C;
  const T mu = centered ? mean[r] : T(0), rs = rstd[r];
  T sh = 0, shx = 0;
  for (int64_t j = t; j < C; j += S) {
    const T h = w ? gr[j] * w[j] : gr[j];
    sh += h;
    shx += h * ((xr[j] - mu) * rs);
  }
  sh = RowGroup<W>::sum(sh, smem);
  shx = RowGroup<W>::sum(shx, smem);
  const T mh = centered ? sh / static_cast<T>(C) : T(0);
  const T mhx = shx / static_cast<T>(C);
  T* dr = dx + r * C;
  for (int64_t j = t; j < C; j += S) {
    const T h = w ? gr[j] * w[j] : gr[j];
    dr[j] = rs * (h - mh - ((xr[j] - mu) * rs) * mhx);
  }
}

// Per (row block, column): partial dw = Σ_rows g xhat and db = Σ_rows g over the block's rows.
template <class T>
__global__ void norm_dwdb_partial_kernel(T* pw, T* pb, const T* g, const T* x, const T* mean, const T* rstd,
                                         int64_t R, int64_t C, int64_t rows_per_block, bool centered) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= C) return;
  const int64_t b = blockIdx.y, r0 = b * rows_per_block;
  const int64_t r1 = r0 + rows_per_block < R ? r0 + rows_per_block : R;
  T aw = 0, ab = 0;
  for (int64_t r = r0; r < r1; ++r) {
    const T gv = g[r * C + j];
    if (pw) aw += gv * ((x[r * C + j] - (centered ? mean[r] : T(0))) * rstd[r]);
    ab += gv;
  }
  if (pw) pw[b * C + j] = aw;
  if (pb) pb[b * C + j] = ab;
}

// out[j] = Σ_b partial[b, j], blocks in order.
template <class T>
__global__ void sum_blocks_kernel(T* out, const T* partial, int64_t blocks, int64_t C) {
  const int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (j >= C) return;
  T acc = 0;
  for (int64_t b = 0; b < blocks; ++b) acc += partial[b * C + j];
  out[j] = acc;
}

}  // namespace

void layer_norm_forward(DType dt, void* y, void* mean, void* rstd, const void* x, const void* w, const void* b,
                        int64_t R, int64_t C, double eps) {
  if (R * C == 0) return;
  dispatch(dt, "layer_norm", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(layer_norm_kernel, T, R, C, static_cast<T*>(y), static_cast<T*>(mean), static_cast<T*>(rstd),
                  static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(b), R, C,
                  static_cast<T>(eps));
  });
  check_launch("layer_norm");
}

void rms_norm_forward(DType dt, void* y, void* rstd, const void* x, const void* w, int64_t R, int64_t C, double eps) {
  if (R * C == 0) return;
  dispatch(dt, "rms_norm", [&](auto zero) {
    using T = decltype(zero);
    NF_ROW_LAUNCH(rms_norm_kernel, T, R, C, static_cast<T*>(y), static_cast<T*>(rstd), static_cast<const T*>(x),
                  static_cast<const T*>(w), R, C, static_cast<T>(eps));
  });
  check_launch("rms_norm");
}

void norm_backward(DType dt, bool centered, void* dx, void* dw, void* db, const void* g, const void* x,
                   const void* mean, const void* rstd, const void* w, int64_t R, int64_t C) {
  if (C == 0) return;
  dispatch(dt, "norm_backward", [&](auto zero) {
    using T = decltype(zero);
    if (dx && R > 0) {
      NF_ROW_LAUNCH(norm_dx_kernel, T, R, C, static_cast<T*>(dx), static_cast<const T*>(g), static_cast<const T*>(x),
                    static_cast<const T*>(mean), static_cast<const T*>(rstd), static_cast<const T*>(w), R, C,
                    centered);
      check_launch("norm_backward");
    }
    if (!dw && !db) return;
    if (R == 0) {
      if (dw) fill(dt, dw, C, 0.0);
      if (db) fill(dt, db, C, 0.0);
      return;
    }
    // Row blocks: about 256 of them (at least 16 rows each) — a fixed function of R.
    int64_t rows_per_block = (R + 255) / 256;
    if (rows_per_block < 16) rows_per_block = 16;
    const int64_t blocks = (R + rows_per_block - 1) / rows_per_block;
    Scratch pw(dw ? sizeof(T) * blocks * C : 0), pb(db ? sizeof(T) * blocks * C : 0);
    const unsigned cblocks = static_cast<unsigned>((C + kThreads - 1) / kThreads);
    norm_dwdb_partial_kernel<T><<<dim3(cblocks, static_cast<unsigned>(blocks)), kThreads, 0, stream()>>>(
        pw.as<T>(), pb.as<T>(), static_cast<const T*>(g), static_cast<const T*>(x), static_cast<const T*>(mean),
        static_cast<const T*>(rstd), R, C, rows_per_block, centered);
    check_launch("norm_backward");
    if (dw) sum_blocks_kernel<T><<<cblocks, kThreads, 0, stream()>>>(static_cast<T*>(dw), pw.as<T>(), blocks, C);
    if (db) sum_blocks_kernel<T><<<cblocks, kThreads, 0, stream()>>>(static_cast<T*>(db), pb.as<T>(), blocks, C);
    check_launch("norm_backward");
  });
}

// ---- embedding ---------------------------------------------------------------------------------------------
namespace {

template <class T>
__global__ void embedding_kernel(T* out, const T* w, const int64_t* ids, int64_t N, int64_t C) {
  const int64_t total = N * C;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t i = k / C, j = k - i * C;
    out[k] = w[ids[i] * C + j];
  }
}

__global__ void sort_inputs_kernel(uint32_t* keys, int32_t* pos, const int64_t* ids, int64_t N) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < N;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    keys[i] = static_cast<uint32_t>(ids[i]);
    pos[i] = static_cast<int32_t>(i);
  }
}

// Block x = sorted position i; the block that starts a run of equal ids sums the run's gradient
// rows in position order (the stable sort kept it) into dweight's row: columns over threads/y.
template <class T>
__global__ void embedding_backward_kernel(T* dw, const T* g, const uint32_t* keys, const int32_t* pos, int64_t N,
                                          int64_t C) {
  const int64_t i = blockIdx.x;
  const uint32_t id = keys[i];
  if (i > 0 && keys[i - 1] == id) return;
  for (int64_t j = blockIdx.y * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < C;
       j += static_cast<int64_t>(blockDim.x) * gridDim.y) {
    T acc = 0;
    for (int64_t k = i; k < N && keys[k] == id; ++k) acc += g[static_cast<int64_t>(pos[k]) * C + j];
    dw[static_cast<int64_t>(id) * C + j] = acc;
  }
}

int bits_for(int64_t V) {
  int b = 1;
  while (b < 32 && (int64_t{1} << b) < V) ++b;
  return b;
}

}  // namespace

void embedding_forward(DType dt, void* out, const void* weight, const int64_t* ids, int64_t N, int64_t C) {
  if (N * C == 0) return;
  dispatch(dt, "embedding", [&](auto zero) {
    using T = decltype(zero);
    embedding_kernel<T><<<blocks_for(N * C), kThreads, 0, stream()>>>(static_cast<T*>(out),
                                                                      static_cast<const T*>(weight), ids, N, C);
  });
  check_launch("embedding");
}

void embedding_backward(DType dt, void* dweight, const void* g, const int64_t* ids, int64_t N, int64_t V, int64_t C) {
  if (V * C == 0) return;
  const size_t elem = dtype_size(dt);
  check(cudaMemsetAsync(dweight, 0, static_cast<size_t>(V * C) * elem, stream()), "embedding_backward");
  if (N == 0) return;
  if (N > INT32_MAX || V > (int64_t{1} << 32))
    throw std::invalid_argument("cuda embedding_backward: more than 2^31 ids or 2^32 rows");
  Scratch keys_in(sizeof(uint32_t) * N), keys_out(sizeof(uint32_t) * N);
  Scratch pos_in(sizeof(int32_t) * N), pos_out(sizeof(int32_t) * N);
  sort_inputs_kernel<<<blocks_for(N), kThreads, 0, stream()>>>(keys_in.as<uint32_t>(), pos_in.as<int32_t>(), ids, N);
  check_launch("embedding_backward");
  // Radix sort is stable: equal ids keep their position order.
  size_t temp_bytes = 0;
  const int nitems = static_cast<int>(N), end_bit = bits_for(V);
  check(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in.as<uint32_t>(), keys_out.as<uint32_t>(),
                                        pos_in.as<int32_t>(), pos_out.as<int32_t>(), nitems, 0, end_bit, stream()),
        "embedding_backward sort");
  Scratch temp(temp_bytes > 0 ? temp_bytes : 1);
  check(cub::DeviceRadixSort::SortPairs(temp.as<void>(), temp_bytes, keys_in.as<uint32_t>(), keys_out.as<uint32_t>(),
                                        pos_in.as<int32_t>(), pos_out.as<int32_t>(), nitems, 0, end_bit, stream()),
        "embedding_backward sort");
  dispatch(dt, "embedding_backward", [&](auto zero) {
    using T = decltype(zero);
    const int64_t ychunks = (C + kThreads - 1) / kThreads;
    const unsigned gy = static_cast<unsigned>(ychunks < 65535 ? ychunks : 65535);
    embedding_backward_kernel<T><<<dim3(static_cast<unsigned>(N), gy), kThreads, 0, stream()>>>(
        static_cast<T*>(dweight), static_cast<const T*>(g), keys_out.as<uint32_t>(), pos_out.as<int32_t>(), N, C);
  });
  check_launch("embedding_backward");
}

}  // namespace cuda
}  // namespace nf
