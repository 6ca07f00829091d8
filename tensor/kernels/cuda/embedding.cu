// CUDA kernels of the embedding family (tensor/kernels/embedding.h): the gather, and a backward
// that is deterministic without atomics: positions sorted by id with CUB's stable radix sort, then
// each id's gradient rows summed in position order (the CPU's order, so the same float sums).
// Launched by the twins of tensor/kernels/cuda/embedding.cpp (nf::kernels::gpu); the CPU loops are
// tensor/kernels/cpu/embedding.cpp. See tensor/kernels/cuda/cuda_ops.h for the contracts and
// docs/cuda.md for how each one is checked.
#include <cuda_runtime.h>

#include <cub/cub.cuh>

#include <cstdint>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

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
