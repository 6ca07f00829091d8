// CUDA kernels of the optimizer family (tensor/kernels/optim.h): the fused AdamW step over one
// parameter, and the sum of squares in double under clip_grad_norm (accumulated on the device
// over all parameters, read back once). Launched by the twins of tensor/kernels/cuda/optim.cpp
// (nf::kernels::gpu); the CPU loops are tensor/kernels/cpu/optim.cpp. See
// tensor/kernels/cuda/cuda_ops.h for the contracts and docs/cuda.md for how each one is checked.
#include <cuda_runtime.h>

#include <cmath>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

// ==== AdamW ==============================================================================================
namespace {
template <class T>
__global__ void adamw_kernel(T* w, const T* g, T* m, T* v, int64_t n, T b1, T b2, T decay, T step, T rbc2, T eps) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const T gi = g[i];
    const T mi = b1 * m[i] + (1 - b1) * gi;
    const T vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * decay - step * mi / (m_sqrt(vi) * rbc2 + eps);
  }
}
}  // namespace

void adamw_step(DType dt, void* w, const void* g, void* m, void* v, int64_t n, double lr, double b1, double b2,
                double eps, double wd, double bc1, double bc2) {
  if (n == 0) return;
  dispatch(dt, "adamw", [&](auto zero) {
    using T = decltype(zero);
    adamw_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        static_cast<T*>(w), static_cast<const T*>(g), static_cast<T*>(m), static_cast<T*>(v), n, static_cast<T>(b1),
        static_cast<T>(b2), static_cast<T>(1.0 - lr * wd), static_cast<T>(lr / bc1),
        static_cast<T>(1.0 / std::sqrt(bc2)), static_cast<T>(eps));
  });
  check_launch("adamw");
}

// ==== clip_grad_norm's sum of squares =====================================================================
namespace {
template <class T>
__global__ void sum_squares_partial_kernel(double* partial, const T* x, int64_t n) {
  __shared__ double smem[32];
  double acc = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const double v = static_cast<double>(x[i]);
    acc += v * v;
  }
  acc = block_sum(acc, smem);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
__global__ void add_partials_kernel(double* out, const double* partial, int64_t n) {
  __shared__ double smem[32];
  double acc = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc, smem);
  if (threadIdx.x == 0) *out += acc;
}
}  // namespace

void sum_squares_accumulate(DType dt, double* out, const void* x, int64_t n) {
  if (n == 0) return;
  const unsigned blocks = blocks_for(n) < 1024 ? blocks_for(n) : 1024;
  Scratch part(sizeof(double) * blocks);
  dispatch(dt, "sum_squares", [&](auto zero) {
    using T = decltype(zero);
    sum_squares_partial_kernel<T><<<blocks, kThreads, 0, stream()>>>(part.as<double>(), static_cast<const T*>(x), n);
  });
  check_launch("sum_squares");
  add_partials_kernel<<<1, kThreads, 0, stream()>>>(out, part.as<double>(), blocks);
  check_launch("sum_squares");
}

}  // namespace cuda
}  // namespace nf
