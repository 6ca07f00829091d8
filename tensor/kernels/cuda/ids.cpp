// CUDA id checks (tensor/kernels/ids.h), through tensor/kernels/cuda/ids.cu.
#include "tensor/kernels/cuda/ids.h"

#include "tensor/device_hooks.h"
#include "tensor/kernels/cuda/cuda_ops.h"

namespace nf {
namespace kernels {
namespace gpu {

int64_t first_invalid_id(const Tensor& ids, int64_t V, std::optional<int64_t> ignore, int64_t* bad_value) {
  const int64_t n = ids.numel();
  const auto* p = static_cast<const int64_t*>(ids.device_data());
  if (ignore) return cuda::first_invalid_id(p, n, V, *ignore, bad_value);
  // The launcher always skips one id. With no id to ignore, skip 0, which is valid whenever
  // any id is; with V == 0 no id is valid and the first one is the answer.
  if (V > 0) return cuda::first_invalid_id(p, n, V, 0, bad_value);
  if (n == 0) return -1;
  if (bad_value) device_hooks().copy_to_host(bad_value, p, sizeof(int64_t));
  return 0;
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
