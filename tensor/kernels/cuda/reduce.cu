// CUDA kernels of the reduce family (tensor/kernels/reduce.h): sum over any set of dims of a
// strided input (and its sum_rows / sum_cols cases), max and first argmax over the last dim and
// max's backward, and cumsum. Launched by the twins of tensor/kernels/cuda/reduce.cpp
// (nf::kernels::gpu); each kernel mirrors the CPU loop of tensor/kernels/cpu/reduce.cpp. Every
// reduction is a fixed tree or a fixed sequence (no atomics). See tensor/kernels/cuda/cuda_ops.h
// for the contracts and docs/cuda.md for how each one is checked.
#include <cuda_runtime.h>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

// ==== reductions ========================================================================================
namespace {

// One row group (warp or block) per output element: sums its R inputs with a fixed tree.
// kept: (out offset, in offset) over the kept dims; red: in offset over the reduced dims.
template <class T, bool W>
__global__ void sum_inner_kernel(T* out, const T* in, int64_t O, int64_t R, OffsetCalc<2> kept, OffsetCalc<1> red) {
  __shared__ T smem[32];
  const int64_t o = RowGroup<W>::row();
  if (o >= O) return;  // whole warp (warp mode) or whole block (block mode: o < O always)
  int64_t ko[2];
  kept.get(o, ko);
  T acc = 0;
  for (int64_t r = RowGroup<W>::rank(); r < R; r += RowGroup<W>::size()) {
    int64_t ro[1];
    red.get(r, ro);
    acc += in[ko[1] + ro[0]];
  }
  acc = RowGroup<W>::sum(acc, smem);
  if (RowGroup<W>::rank() == 0) out[ko[0]] = acc;
}

// One thread per output element and chunk of the reduced range (outputs innermost, so threads
// read neighbouring inputs): partial[chunk * O + o]; with one chunk, straight into out.
template <class T>
__global__ void sum_outer_kernel(T* out, T* partial, const T* in, int64_t O, int64_t R, int64_t chunk,
                                 OffsetCalc<2> kept, OffsetCalc<1> red) {
  const int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (o >= O) return;
  int64_t ko[2];
  kept.get(o, ko);
  const int64_t r0 = blockIdx.y * chunk, r1 = r0 + chunk < R ? r0 + chunk : R;
  T acc = 0;
  for (int64_t r = r0; r < r1; ++r) {
    int64_t ro[1];
    red.get(r, ro);
    acc += in[ko[1] + ro[0]];
  }
  if (partial) partial[blockIdx.y * O + o] = acc;
  else out[ko[0]] = acc;
}
template <class T>
__global__ void sum_partials_kernel(T* out, const T* partial, int64_t O, int64_t chunks, OffsetCalc<2> kept) {
  const int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (o >= O) return;
  T acc = 0;
  for (int64_t c = 0; c < chunks; ++c) acc += partial[c * O + o];
  int64_t ko[2];
  kept.get(o, ko);
  out[ko[0]] = acc;
}

}  // namespace

void sum(DType dt, const Dims& shape, void* out, const Dims& out_strides, const void* in, const Dims& in_strides) {
  if (out_strides.size() != shape.size() || in_strides.size() != shape.size())
    throw std::invalid_argument("cuda sum: strides do not match the shape");
  // Split the dims into kept (out stride != 0) and reduced (out stride 0); size-1 dims drop out.
  Dims ks, kos, kis, rs, ris;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (out_strides[d] != 0) {
      ks.push_back(shape[d]);
      kos.push_back(out_strides[d]);
      kis.push_back(in_strides[d]);
    } else {
      rs.push_back(shape[d]);
      ris.push_back(in_strides[d]);
    }
  }
  const int64_t O = numel_of(ks), R = numel_of(rs);
  if (O == 0) return;
  const OffsetCalc<2> kept = make_offset_calc<2>("sum", ks, {&kos, &kis});
  const OffsetCalc<1> red = make_offset_calc<1>("sum", rs, {&ris});
  dispatch(dt, "sum", [&](auto zero) {
    using T = decltype(zero);
    T* po = static_cast<T*>(out);
    const T* pi = static_cast<const T*>(in);
    const unsigned out_blocks = static_cast<unsigned>((O + kThreads - 1) / kThreads);  // one thread per output
    if (R == 0) {  // an empty reduction: zeros
      sum_outer_kernel<T><<<dim3(out_blocks, 1), kThreads, 0, stream()>>>(po, nullptr, pi, O, 0, 1, kept, red);
      check_launch("sum");
      return;
    }
    // Reduced elements contiguous in memory (the innermost reduced dim has stride 1) and at least
    // a warp's worth of them, or too few outputs to spread: a row group per output. Otherwise
    // (e.g. a bias gradient, summing the rows of (N, C)) one thread per output and chunk of the
    // reduced range, then a sum over the chunks.
    const bool inner_contig = red.ndim > 0 && red.strides[red.ndim - 1][0] == 1;
    if ((inner_contig && R >= 32) || O < 64) {
      const bool warp = R <= kWarpRowMax;
      if (warp) sum_inner_kernel<T, true><<<row_blocks(O, true), kThreads, 0, stream()>>>(po, pi, O, R, kept, red);
      else sum_inner_kernel<T, false><<<row_blocks(O, false), kThreads, 0, stream()>>>(po, pi, O, R, kept, red);
      check_launch("sum");
      return;
    }
    // Enough chunks for ~64K threads, each summing at least 16 elements.
    int64_t chunks = (65536 + O - 1) / O;
    const int64_t max_chunks = (R + 15) / 16;
    if (chunks > max_chunks) chunks = max_chunks;
    if (chunks > 65535) chunks = 65535;
    if (chunks < 1) chunks = 1;
    const int64_t chunk = (R + chunks - 1) / chunks;
    chunks = (R + chunk - 1) / chunk;
    if (chunks == 1) {
      sum_outer_kernel<T><<<dim3(out_blocks, 1), kThreads, 0, stream()>>>(po, nullptr, pi, O, R, chunk, kept, red);
    } else {
      Scratch part(sizeof(T) * O * chunks);
      sum_outer_kernel<T><<<dim3(out_blocks, static_cast<unsigned>(chunks)), kThreads, 0, stream()>>>(
          po, part.as<T>(), pi, O, R, chunk, kept, red);
      check_launch("sum");
      sum_partials_kernel<T><<<out_blocks, kThreads, 0, stream()>>>(po, part.as<T>(), O, chunks, kept);
    }
    check_launch("sum");
  });
}

void sum_rows(DType dt, void* out, const void* in, int64_t rows, int64_t n) {
  sum(dt, {rows, n}, out, {1, 0}, in, {n, 1});
}
void sum_cols(DType dt, void* out, const void* in, int64_t rows, int64_t n) {
  sum(dt, {rows, n}, out, {0, 1}, in, {n, 1});
}

// ---- max over the last dim --------------------------------------------------------------------------
namespace {

// Is (v, i) a better max than (bv, bi)? A NaN beats numbers; ties (and two NaNs) go to the lower
// index — the CPU's sequential rule (row[i] > row[best] || isnan(row[i]) && !isnan(row[best])).
template <class T>
__device__ __forceinline__ bool better(T v, int64_t i, T bv, int64_t bi) {
  const bool vn = m_isnan(v), bn = m_isnan(bv);
  if (vn != bn) return vn;
  if (!vn && v != bv) return v > bv;
  return i < bi;
}

template <class T, bool W>
__global__ void max_lastdim_kernel(T* values, int64_t* indices, const T* in, int64_t rows, int64_t n) {
  __shared__ T sv[32];
  __shared__ int64_t si[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const T* x = in + r * n;
  T bv = x[0];
  int64_t bi = 0;
  for (int64_t i = RowGroup<W>::rank(); i < n; i += RowGroup<W>::size())
    if (better(x[i], i, bv, bi)) {
      bv = x[i];
      bi = i;
    }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const T v = __shfl_xor_sync(0xffffffffu, bv, o);
    const int64_t i = __shfl_xor_sync(0xffffffffu, bi, o);
    if (better(v, i, bv, bi)) {
      bv = v;
      bi = i;
    }
  }
  if constexpr (!W) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) {
      sv[warp] = bv;
      si[warp] = bi;
    }
    __syncthreads();
    if (warp == 0) {
      bv = lane < warps ? sv[lane] : sv[0];
      bi = lane < warps ? si[lane] : si[0];
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) {
        const T v = __shfl_xor_sync(0xffffffffu, bv, o);
        const int64_t i = __shfl_xor_sync(0xffffffffu, bi, o);
        if (better(v, i, bv, bi)) {
          bv = v;
          bi = i;
        }
      }
    }
  }
  if (threadIdx.x % (W ? 32 : blockDim.x) == 0) {
    values[r] = bv;
    if (indices) indices[r] = bi;
  }
}

template <class T>
__global__ void max_backward_kernel(T* gx, const T* g, const int64_t* indices, int64_t rows, int64_t n) {
  const int64_t total = rows * n;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t r = k / n, j = k - r * n;
    gx[k] = j == indices[r] ? g[r] : T(0);
  }
}

}  // namespace

void max_lastdim(DType dt, void* values, int64_t* indices, const void* in, int64_t rows, int64_t n) {
  if (rows == 0) return;
  if (n < 1) throw std::invalid_argument("cuda max: reduction over an empty dim");
  dispatch(dt, "max", [&](auto zero) {
    using T = decltype(zero);
    const bool warp = n <= kWarpRowMax;
    if (warp)
      max_lastdim_kernel<T, true><<<row_blocks(rows, true), kThreads, 0, stream()>>>(
          static_cast<T*>(values), indices, static_cast<const T*>(in), rows, n);
    else
      max_lastdim_kernel<T, false><<<row_blocks(rows, false), kThreads, 0, stream()>>>(
          static_cast<T*>(values), indices, static_cast<const T*>(in), rows, n);
  });
  check_launch("max");
}

void max_backward(DType dt, void* gx, const void* g, const int64_t* indices, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "max_backward", [&](auto zero) {
    using T = decltype(zero);
    max_backward_kernel<T><<<blocks_for(rows * n), kThreads, 0, stream()>>>(static_cast<T*>(gx),
                                                                            static_cast<const T*>(g), indices, rows, n);
  });
  check_launch("max_backward");
}

// ---- cumsum ---------------------------------------------------------------------------------------------
namespace {
// One thread per (outer, inner) line, summing along n in order: the CPU's sequential order, so
// the sums are the same floats. Neighbouring threads read neighbouring inner elements.
template <class T>
__global__ void cumsum_kernel(T* out, const T* in, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  const int64_t lines = outer * inner;
  for (int64_t l = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; l < lines;
       l += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t o = l / inner, k = l - o * inner;
    const int64_t base = o * n * inner + k;
    T acc = 0;
    if (!reverse) {
      for (int64_t i = 0; i < n; ++i) out[base + i * inner] = acc += in[base + i * inner];
    } else {
      for (int64_t i = n - 1; i >= 0; --i) out[base + i * inner] = acc += in[base + i * inner];
    }
  }
}
}  // namespace

void cumsum(DType dt, void* out, const void* in, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  if (outer * n * inner == 0) return;
  dispatch(dt, "cumsum", [&](auto zero) {
    using T = decltype(zero);
    cumsum_kernel<T><<<blocks_for(outer * inner, 128), 128, 0, stream()>>>(
        static_cast<T*>(out), static_cast<const T*>(in), outer, n, inner, reverse);
  });
  check_launch("cumsum");
}

}  // namespace cuda
}  // namespace nf
