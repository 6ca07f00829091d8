// CUDA kernels of the copy family (tensor/kernels/copy.h): the strided/broadcast copy with
// conversion between all four dtypes (contiguous(), clone(), to(dtype), copy_ between two device
// tensors; one cudaMemcpyAsync when both sides are contiguous) and the constant fill. Launched by
// the twins of tensor/kernels/cuda/copy.cpp (nf::kernels::gpu); the CPU loops are
// tensor/kernels/cpu/copy.cpp. See tensor/kernels/cuda/cuda_ops.h for the contracts and
// docs/cuda.md for how each one is checked.
#include <cuda_runtime.h>

#include <type_traits>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

// ==== copies and fills ==============================================================================
namespace {

template <class D, class S>
__global__ void copy_kernel(D* dst, const S* src, int64_t n, OffsetCalc<2> calc) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[2];
    calc.get(i, off);
    dst[off[0]] = static_cast<D>(src[off[1]]);
  }
}

template <class D, class S>
void launch_copy(const Dims& shape, void* dst, const Dims& ds, const void* src, const Dims& ss) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const OffsetCalc<2> calc = make_offset_calc<2>("copy", shape, {&ds, &ss});
  // Same dtype, both contiguous over the whole range: one memcpy.
  if constexpr (std::is_same<D, S>::value) {
    if (calc.ndim <= 1 && (calc.ndim == 0 || (calc.strides[0][0] == 1 && calc.strides[0][1] == 1))) {
      check(cudaMemcpyAsync(dst, src, n * sizeof(D), cudaMemcpyDeviceToDevice, stream()), "copy");
      return;
    }
  }
  copy_kernel<D, S><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<D*>(dst), static_cast<const S*>(src), n,
                                                              calc);
  check_launch("copy");
}

template <class D>
void copy_from(const Dims& shape, void* dst, const Dims& ds, DType src_dt, const void* src, const Dims& ss) {
  switch (src_dt) {
    case DType::F32: launch_copy<D, float>(shape, dst, ds, src, ss); break;
    case DType::F64: launch_copy<D, double>(shape, dst, ds, src, ss); break;
    case DType::I64: launch_copy<D, int64_t>(shape, dst, ds, src, ss); break;
    case DType::Bool: launch_copy<D, bool>(shape, dst, ds, src, ss); break;
  }
}

template <class T>
__global__ void fill_kernel(T* dst, int64_t n, T v) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    dst[i] = v;
}
template <class T>
void launch_fill(void* dst, int64_t n, T v) {
  if (n == 0) return;
  fill_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(dst), n, v);
  check_launch("fill");
}

}  // namespace

void copy(const Dims& shape, DType dst_dt, void* dst, const Dims& dst_strides, DType src_dt, const void* src,
          const Dims& src_strides) {
  switch (dst_dt) {
    case DType::F32: copy_from<float>(shape, dst, dst_strides, src_dt, src, src_strides); break;
    case DType::F64: copy_from<double>(shape, dst, dst_strides, src_dt, src, src_strides); break;
    case DType::I64: copy_from<int64_t>(shape, dst, dst_strides, src_dt, src, src_strides); break;
    case DType::Bool: copy_from<bool>(shape, dst, dst_strides, src_dt, src, src_strides); break;
  }
}

void fill(DType dt, void* dst, int64_t n, double value) {
  switch (dt) {
    case DType::F32: launch_fill<float>(dst, n, static_cast<float>(value)); break;
    case DType::F64: launch_fill<double>(dst, n, value); break;
    case DType::I64: launch_fill<int64_t>(dst, n, static_cast<int64_t>(value)); break;
    case DType::Bool: launch_fill<bool>(dst, n, value != 0.0); break;
  }
}

}  // namespace cuda
}  // namespace nf
