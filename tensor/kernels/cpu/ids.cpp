// CPU id checks (tensor/kernels/ids.h): one serial scan, stopping at the first bad id.
#include "tensor/kernels/ids.h"

#include "tensor/kernels/cuda/ids.h"
#include "tensor/kernels/route.h"

namespace nf {
namespace kernels {

int64_t first_invalid_id(const Tensor& ids, int64_t V, std::optional<int64_t> ignore, int64_t* bad_value) {
  NF_ON_GPU(ids, first_invalid_id(ids, V, ignore, bad_value));
  const int64_t* p = ids.data<int64_t>();
  const int64_t n = ids.numel();
  for (int64_t i = 0; i < n; ++i) {
    if (ignore && p[i] == *ignore) continue;
    if (p[i] < 0 || p[i] >= V) {
      if (bad_value) *bad_value = p[i];
      return i;
    }
  }
  return -1;
}

}  // namespace kernels
}  // namespace nf
