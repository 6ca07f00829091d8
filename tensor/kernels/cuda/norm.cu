// CUDA kernels of the norm family (tensor/kernels/norm.h): layer_norm and rms_norm forward (rstd,
// and layer_norm's mean, saved) and their shared backward: dx per row, dw/db as fixed row-block
// partials then a fixed sum over blocks (deterministic, no atomics). Launched by the twins of
// tensor/kernels/cuda/norm.cpp (nf::kernels::gpu); the CPU loops are tensor/kernels/cpu/norm.cpp.
// See tensor/kernels/cuda/cuda_ops.h for the contracts and docs/cuda.md for how each one is checked.
#include <cuda_runtime.h>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

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

}  // namespace cuda
}  // namespace nf
