// Random tensors from the counter-based Generator (tensor/random.h). Element i of a fill uses
// counter base+i, so the result does not depend on how many threads filled it.
#include <cmath>

#include "tensor/ops.h"

namespace nf {

Tensor rand(Shape shape, Generator& gen, DType dtype) {
  Tensor t = empty(std::move(shape), dtype);
  const int64_t n = t.numel();
  const uint64_t base = gen.reserve(n);
  dispatch_float(dtype, "rand", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* p = t.data<scalar_t>();
    const scalar_t below_one = std::nextafter(scalar_t(1), scalar_t(0));
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) {
      // A double just below 1 rounds to 1.0f in float32: keep the result in [0, 1).
      const scalar_t u = static_cast<scalar_t>(gen.uniform_at(base + i));
      p[i] = u < scalar_t(1) ? u : below_one;
    }
  });
  return t;
}

Tensor randn(Shape shape, Generator& gen, DType dtype) {
  Tensor t = empty(std::move(shape), dtype);
  const int64_t n = t.numel();
  if (gen.counter() & 1) gen.reserve(1);  // keep Box–Muller pairs aligned
  const uint64_t pair0 = gen.reserve(2 * n) / 2;
  dispatch_float(dtype, "randn", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* p = t.data<scalar_t>();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<scalar_t>(gen.normal_at(pair0 + i));
  });
  return t;
}

Tensor randn_like(const Tensor& t, Generator& gen) { return randn(t.shape(), gen, t.dtype()); }

}  // namespace nf
