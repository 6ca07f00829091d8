#pragma once
// Copies and fills: the kernels under contiguous(), clone(), to(dtype), copy_() and the
// factories. Both tensors of a copy are on the same device (Tensor::copy_ moves bytes between
// devices itself, through the DeviceHooks).
#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// dst = convert(src), src broadcast to dst's shape; any dtypes (F32, F64, I64, Bool), any
// strides. Conversions are C++ static_casts (float -> int64 truncates, nonzero -> true).
void copy(const Tensor& dst, const Tensor& src);
// Every element of dst (any strides) = value, converted as a static_cast would.
void fill(const Tensor& dst, double value);

}  // namespace kernels
}  // namespace nf
