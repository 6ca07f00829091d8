#pragma once
// Shared helpers of the CUDA kernels (internal to tensor/kernels/cuda/): error checks, launch sizes,
// dtype dispatch, the strided offset calculator every elementwise kernel uses, warp/block
// reductions, and the row kernels' launch (NF_ROW_LAUNCH) and logsumexp, used by several of the
// per-family .cu files. Nothing here is visible outside the .cu files. Header-safe, as every .cu
// file includes it: inline functions, templates, classes defined inline, constexpr constants and
// one macro; no non-inline definition.
#include <cuda_runtime.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tensor/kernels/cuda/cuda_backend.h"
#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/kernels/cuda/device_math.cuh"
#include "tensor/dtype.h"

namespace nf {
namespace cuda {

// Throws std::runtime_error("cuda: <what>: <error string>") on a CUDA error.
inline void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    cudaGetLastError();  // clear a sticky launch error so the next call reports its own
    throw std::runtime_error(std::string("cuda: ") + what + ": " + cudaGetErrorString(e));
  }
}
// After a kernel launch: reports launch-configuration errors (asynchronous faults surface at the
// next synchronising call, e.g. the copy back to the host).
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

// Every kernel and copy runs on this stream (the legacy default stream: implicitly ordered with
// cudaMemcpy, so host reads after kernels need no extra synchronisation).
inline cudaStream_t stream() { return 0; }

constexpr int kThreads = 256;
// Blocks for a grid-stride loop over n items.
inline unsigned blocks_for(int64_t n, int threads = kThreads) {
  const int64_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b < 1 ? 1 : (b > (1 << 20) ? (1 << 20) : b));
}

// Runs f(T{}) for a floating dtype (the device-side twin of nf::dispatch_float).
template <class F>
void dispatch(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); break;
    case DType::F64: f(double{}); break;
    default:
      throw std::invalid_argument(std::string("cuda ") + op + ": expected a floating dtype, got " + dtype_name(dt));
  }
}

// ---- strided offsets ----------------------------------------------------------------------------
// Element offsets of N operands for a linear index over a (coalesced) shape, as StridedLoop does
// on the CPU: size-1 dims are dropped and dims contiguous with each other in every operand merged.
template <int N>
struct OffsetCalc {
  int ndim = 0;
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxDims][N];

  // (The k loops have a constant trip count N: the compiler unrolls them.)
  __host__ __device__ void get(int64_t linear, int64_t (&off)[N]) const {
    for (int k = 0; k < N; ++k) off[k] = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      const int64_t i = linear % sizes[d];
      linear /= sizes[d];
      for (int k = 0; k < N; ++k) off[k] += i * strides[d][k];
    }
  }
  // True when every operand walks the (single) dim with stride 1 or 0.
  bool flat() const {
    if (ndim > 1) return false;
    for (int k = 0; k < N; ++k)
      if (ndim == 1 && strides[0][k] != 1 && strides[0][k] != 0) return false;
    return true;
  }
};

template <int N>
OffsetCalc<N> make_offset_calc(const char* op, const Dims& shape, const std::array<const Dims*, N>& strides) {
  for (int k = 0; k < N; ++k)
    if (strides[k]->size() != shape.size())
      throw std::invalid_argument(std::string("cuda ") + op + ": operand " + std::to_string(k) + " has " +
                                  std::to_string(strides[k]->size()) + " strides for a " +
                                  std::to_string(shape.size()) + "-d shape");
  std::vector<int64_t> cs;
  std::vector<std::array<int64_t, N>> cst;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    bool merge = !cs.empty();
    for (int k = 0; k < N && merge; ++k) merge = cst.back()[k] == (*strides[k])[d] * shape[d];
    if (merge) {
      cs.back() *= shape[d];
      for (int k = 0; k < N; ++k) cst.back()[k] = (*strides[k])[d];
    } else {
      cs.push_back(shape[d]);
      std::array<int64_t, N> s;
      for (int k = 0; k < N; ++k) s[k] = (*strides[k])[d];
      cst.push_back(s);
    }
  }
  if (static_cast<int>(cs.size()) > kMaxDims)
    throw std::invalid_argument(std::string("cuda ") + op + ": more than " + std::to_string(kMaxDims) +
                                " non-mergeable dims");
  OffsetCalc<N> c;
  c.ndim = static_cast<int>(cs.size());
  for (int d = 0; d < c.ndim; ++d) {
    c.sizes[d] = cs[d];
    for (int k = 0; k < N; ++k) c.strides[d][k] = cst[d][k];
  }
  return c;
}

inline int64_t numel_of(const Dims& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// ---- reductions ---------------------------------------------------------------------------------
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
template <class T>
__device__ __forceinline__ T warp_max(T v) {
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const T u = __shfl_xor_sync(0xffffffffu, v, o);
    v = u > v ? u : v;
  }
  return v;
}

// Block-wide sum/max, result in every thread. `smem` holds 32 values of T; the leading
// __syncthreads makes back-to-back calls with the same smem safe.
template <class T>
__device__ T block_sum(T v, T* smem) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  T r = lane < warps ? smem[lane] : T(0);
  return warp_sum(r);
}
template <class T>
__device__ T block_max(T v, T* smem, T lowest) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  T r = lane < warps ? smem[lane] : lowest;
  return warp_max(r);
}

// A group of threads that owns one row: a warp (short rows, several rows per block) or the whole
// block (long rows). Kernels are written once against it.
template <bool kWarp>
struct RowGroup {
  static constexpr int kRowsPerBlock = kWarp ? kThreads / 32 : 1;
  __device__ static int64_t row() {
    return kWarp ? static_cast<int64_t>(blockIdx.x) * kRowsPerBlock + (threadIdx.x >> 5) : blockIdx.x;
  }
  __device__ static int rank() { return kWarp ? (threadIdx.x & 31) : threadIdx.x; }
  __device__ static int size() { return kWarp ? 32 : blockDim.x; }
  template <class T>
  __device__ static T sum(T v, T* smem) {
    if constexpr (kWarp) return warp_sum(v);
    else return block_sum(v, smem);
  }
  template <class T>
  __device__ static T max(T v, T* smem, T lowest) {
    if constexpr (kWarp) return warp_max(v);
    else return block_max(v, smem, lowest);
  }
};
// Rows up to this long are handled by one warp each.
constexpr int64_t kWarpRowMax = 1024;
inline unsigned row_blocks(int64_t rows, bool warp) {
  return static_cast<unsigned>(warp ? (rows + RowGroup<true>::kRowsPerBlock - 1) / RowGroup<true>::kRowsPerBlock : rows);
}

// Launches KERNEL<T, warp?> over `rows` rows of n, one row group each (used inside nf::cuda: the
// names in it are unqualified).
#define NF_ROW_LAUNCH(KERNEL, T, rows, n, ...)                                                        \
  do {                                                                                                \
    if ((n) <= kWarpRowMax)                                                                           \
      KERNEL<T, true><<<row_blocks(rows, true), kThreads, 0, stream()>>>(__VA_ARGS__);               \
    else                                                                                              \
      KERNEL<T, false><<<row_blocks(rows, false), kThreads, 0, stream()>>>(__VA_ARGS__);             \
  } while (0)

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

// ---- device temporaries -----------------------------------------------------------------------
// A scratch buffer from the caching allocator, returned to it when the scope ends (safe: later
// work on the one stream is ordered after the kernels that use it).
class Scratch {
 public:
  explicit Scratch(size_t nbytes) : n_(nbytes), p_(nbytes ? device_alloc(nbytes) : nullptr) {}
  ~Scratch() {
    if (p_) device_free(p_, n_);
  }
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  template <class T> T* as() const { return static_cast<T*>(p_); }
  size_t size() const { return n_; }

 private:
  size_t n_;
  void* p_;
};

}  // namespace cuda
}  // namespace nf
