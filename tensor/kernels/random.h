#pragma once
// Fills from the counter-based generator (tensor/random.h): element i of a fill uses counter
// base + i of the seed, so the numbers depend on neither the thread count nor the device. The
// ops reserve the counters (Generator::reserve) and pass the seed and the first counter; the
// same seed and counters give the same uniforms and dropout masks on either device, and normals
// equal to within the device's double log/cos (float32 CPU normals: within ~3e-7 · (1 + |z|)).
#include <cstdint>

#include "tensor/tensor.h"

namespace nf {
namespace kernels {

// out (n) contiguous, floating: out[i] = (T) uniform_at(base + i), kept below 1 (a double just
// below 1 rounds to 1.0f in float32).
void rand_uniform(const Tensor& out, uint64_t seed, uint64_t base);
// out (n) contiguous, floating: out[i] = a standard normal from Box–Muller on the draws
// 2(pair0 + i) and 2(pair0 + i) + 1 (normal_at(pair0 + i); float32 evaluates it in float).
void randn(const Tensor& out, uint64_t seed, uint64_t pair0);
// Inverted dropout, x (n) contiguous -> mask (n) = [uniform_at(base + i) >= p] / (1 − p)
// (all 0 when p = 1), out (n) = x ⊙ mask.
void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, uint64_t seed, uint64_t base);

}  // namespace kernels
}  // namespace nf
