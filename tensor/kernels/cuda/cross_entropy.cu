// CUDA kernels of the cross-entropy family (tensor/kernels/cross_entropy.h): the fused forward
// (per-row logsumexp saved, row losses summed in double by one block, mean over rows not ignored,
// count kept on the device) and its backward, which reads the loss gradient and the count on the
// device (no host sync). Launched by the twins of tensor/kernels/cuda/cross_entropy.cpp
// (nf::kernels::gpu); the CPU loops are tensor/kernels/cpu/cross_entropy.cpp. See
// tensor/kernels/cuda/cuda_ops.h for the contracts and docs/cuda.md for how each one is checked.
#include <cuda_runtime.h>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

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

}  // namespace cuda
}  // namespace nf
