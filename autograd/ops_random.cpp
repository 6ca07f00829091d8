// Random tensors from the counter-based Generator (tensor/random.h). Each op reserves the
// generator's counters and hands the seed and the first counter to a fill kernel
// (tensor/kernels/random.h): element i uses counter base + i, so the result depends on neither
// the thread count nor the device.
#include <string>

#include "autograd/ops.h"
#include "tensor/kernels/random.h"

namespace nf {
namespace {

// Checked before any counter is reserved: a refused call leaves the generator as it was.
void check_floating(const char* op, DType dtype) {
  if (!is_floating(dtype)) op_error(op, std::string("expected a floating tensor, got ") + dtype_name(dtype));
}

}  // namespace

Tensor rand(Shape shape, Generator& gen, DType dtype, Device device) {
  check_floating("rand", dtype);
  Tensor t = empty(std::move(shape), dtype, device);
  const uint64_t base = gen.reserve(t.numel());
  kernels::rand_uniform(t, gen.seed(), base);
  return t;
}

// One normal per Box–Muller pair of draws (2·pair, 2·pair + 1): the pairs start at an even
// counter, so a normal never straddles two pairs.
Tensor randn(Shape shape, Generator& gen, DType dtype, Device device) {
  check_floating("randn", dtype);
  Tensor t = empty(std::move(shape), dtype, device);
  if (gen.counter() & 1) gen.reserve(1);  // keep Box–Muller pairs aligned
  const uint64_t pair0 = gen.reserve(2 * t.numel()) / 2;
  kernels::randn(t, gen.seed(), pair0);
  return t;
}

}  // namespace nf
