#pragma once
// Checking ids (class targets, token ids) against a range before a kernel indexes with them:
// the ops name the first bad id in their error, and a kernel never reads out of bounds.
#include <cstdint>
#include <optional>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// ids (n) int64, contiguous -> the index of the first id outside [0, V) that is not `ignore`
// (-1 when every id is valid), and that id in *bad_value. Returns a host value: on a device it
// reads one value back (synchronises).
int64_t first_invalid_id(const Tensor& ids, int64_t V, std::optional<int64_t> ignore, int64_t* bad_value);

}  // namespace kernels
}  // namespace nf
