// CUDA kernel of the ids family (tensor/kernels/ids.h): first_invalid_id, the first id outside
// [0, V) that is not the ignore value (for the range errors of cross-entropy and embedding). It
// SYNCHRONISES: the index is read back to the host. Launched by the twin of
// tensor/kernels/cuda/ids.cpp (nf::kernels::gpu); the CPU loop is tensor/kernels/cpu/ids.cpp. See
// tensor/kernels/cuda/cuda_ops.h for the contract and docs/cuda.md for how it is checked.
#include <cuda_runtime.h>

#include <climits>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

// ---- id checks -----------------------------------------------------------------------------------------
namespace {

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

}  // namespace cuda
}  // namespace nf
