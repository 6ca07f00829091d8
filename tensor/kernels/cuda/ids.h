#pragma once
// The CUDA twin of tensor/kernels/ids.h (defined in tensor/kernels/cuda/ids.cpp, CUDA builds only;
// reached through NF_ON_GPU, tensor/kernels/route.h).
#include <cstdint>
#include <optional>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {
namespace gpu {

int64_t first_invalid_id(const Tensor& ids, int64_t V, std::optional<int64_t> ignore, int64_t* bad_value);

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
