// CUDA kernels of the random family (tensor/kernels/random.h): uniform and normal fills and
// inverted dropout, drawn from the counter-based generator of tensor/random.h (device_math.cuh),
// element i from counter base + i as on the CPU. Launched by the twins of
// tensor/kernels/cuda/random.cpp (nf::kernels::gpu); the CPU loops are tensor/kernels/cpu/random.cpp.
// See tensor/kernels/cuda/cuda_ops.h for the contracts and docs/cuda.md for how each one is checked.
//
// The generator's host twins (host_uniform_at, host_normal_at) are at the end, beside the
// kernels that draw from it (GELU's twins are in elementwise.cu, beside the GELU kernels).
#include <cuda_runtime.h>

#include <cmath>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

// ==== random numbers and dropout =====================================================================
namespace {

template <class T>
__global__ void rand_kernel(T* out, int64_t n, uint64_t seed, uint64_t base, T below_one) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const T u = static_cast<T>(uniform_at(seed, base + static_cast<uint64_t>(i)));
    out[i] = u < T(1) ? u : below_one;
  }
}
template <class T>
__global__ void randn_kernel(T* out, int64_t n, uint64_t seed, uint64_t pair0) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    out[i] = static_cast<T>(normal_at(seed, pair0 + static_cast<uint64_t>(i)));
}
template <class T>
__global__ void dropout_kernel(T* out, T* mask, const T* x, int64_t n, double p, T scale, uint64_t seed,
                               uint64_t base) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const T m = uniform_at(seed, base + static_cast<uint64_t>(i)) >= p ? scale : T(0);
    if (mask) mask[i] = m;
    out[i] = x[i] * m;
  }
}

}  // namespace

void rand_uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t base) {
  if (n == 0) return;
  dispatch(dt, "rand", [&](auto zero) {
    using T = decltype(zero);
    const T below_one = std::nextafter(T(1), T(0));
    rand_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, seed, base, below_one);
  });
  check_launch("rand");
}

void randn(DType dt, void* out, int64_t n, uint64_t seed, uint64_t pair0) {
  if (n == 0) return;
  dispatch(dt, "randn", [&](auto zero) {
    using T = decltype(zero);
    randn_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, seed, pair0);
  });
  check_launch("randn");
}

void dropout(DType dt, void* out, void* mask, const void* x, int64_t n, double p, uint64_t seed, uint64_t base) {
  if (n == 0) return;
  dispatch(dt, "dropout", [&](auto zero) {
    using T = decltype(zero);
    const T scale = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
    dropout_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), static_cast<T*>(mask),
                                                                static_cast<const T*>(x), n, p, scale, seed, base);
  });
  check_launch("dropout");
}

// ==== host twins (the generator) ===========================================================================
double host_uniform_at(uint64_t seed, uint64_t n) { return uniform_at(seed, n); }
double host_normal_at(uint64_t seed, uint64_t pair) { return normal_at(seed, pair); }

}  // namespace cuda
}  // namespace nf
