// CPU random fills (tensor/kernels/random.h): element i from counter base + i, in parallel over
// fixed chunks. float32 normals use a vectorisable Box–Muller (log1m, cos2pi below).
#include "tensor/kernels/random.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "tensor/fast_math.h"
#include "tensor/kernels/cpu/parallel_rows.h"
#include "tensor/kernels/cuda/random.h"
#include "tensor/kernels/route.h"
#include "tensor/random.h"

namespace nf {
namespace kernels {
namespace {

// Box–Muller in float32, vectorisable: z = sqrt(−2 log(1 − u1)) · cos(2π u2) on the generator's
// own draws u1 = uniform_at(2·pair), u2 = uniform_at(2·pair + 1) — the numbers normal_at
// computes in double, to within ~3e-7 · (1 + |z|) (tests/autograd/test_random.cpp). The noise attentions
// draw B·H·T² of them per layer per step, where the double library calls cost more than the
// attention itself. float64 tensors keep normal_at exactly.

// log(1 − u) for u in [0, 1): Cephes's logf on (1 − u) = m·2^e, except that for u ≤ 1 − √½ the
// reduced argument is −u itself (so log1p(−u) keeps its relative accuracy as u → 0).
NF_ALWAYS_INLINE float log1m(double u) {
  const float uf = static_cast<float>(u);
  const float w = static_cast<float>(1.0 - u);  // in (2^-53, 1]
  int32_t bits;
  std::memcpy(&bits, &w, sizeof bits);
  const int32_t mbits = (bits & 0x007fffff) | 0x3f000000;  // w = m · 2^e, m in [0.5, 1)
  float m;
  std::memcpy(&m, &mbits, sizeof m);
  // Selections as 0/1 factors (exact), so the loop stays branch-free and vectorises.
  const float low = m < 0.707106781186547524f ? 1.0f : 0.0f;
  const float small = uf <= 0.29289321881345248f ? 1.0f : 0.0f;  // 1 − u ≥ √½: x = −u exactly
  const float e = static_cast<float>(((bits >> 23) & 0xff) - 126) - low;
  const float x = small * -uf + (1.0f - small) * (m * (1.0f + low) - 1.0f);
  const float fe = (1.0f - small) * e;
  const float z = x * x;
  float y = 7.0376836292e-2f;
  y = y * x - 1.1514610310e-1f;
  y = y * x + 1.1676998740e-1f;
  y = y * x - 1.2420140846e-1f;
  y = y * x + 1.4249322787e-1f;
  y = y * x - 1.6668057665e-1f;
  y = y * x + 2.0000714765e-1f;
  y = y * x - 2.4999993993e-1f;
  y = y * x + 3.3333331174e-1f;
  y = y * x * z;
  y += -2.12194440e-4f * fe;
  y += -0.5f * z;
  return x + y + 0.693359375f * fe;
}

// cos(2π u) for u in [0, 1): reduced in double to s = |u − round(u)| in [0, ½], then to an
// argument within ±π/4 of a cos or sin Taylor series (degree 10 / 11, error < 1e-9).
NF_ALWAYS_INLINE float cos2pi(double u) {
  const double t = u >= 0.5 ? u - 1.0 : u;
  const double s = t < 0 ? -t : t;
  const bool mid = s > 0.125 && s <= 0.375, high = s > 0.375;
  const double r = mid ? 0.25 - s : (high ? 0.5 - s : s);  // |r| ≤ 1/8
  const float a = static_cast<float>(6.283185307179586 * r), a2 = a * a;
  float c = -2.7557319224e-7f;  // cos: 1 − a²/2! + a⁴/4! − … − a¹⁰/10!
  c = c * a2 + 2.4801587302e-5f;
  c = c * a2 - 1.3888888889e-3f;
  c = c * a2 + 4.1666666667e-2f;
  c = c * a2 - 0.5f;
  c = c * a2 + 1.0f;
  float sn = -2.5052108385e-8f;  // sin: a − a³/3! + … − a¹¹/11!
  sn = sn * a2 + 2.7557319224e-6f;
  sn = sn * a2 - 1.9841269841e-4f;
  sn = sn * a2 + 8.3333333333e-3f;
  sn = sn * a2 - 1.6666666667e-1f;
  sn = sn * a2 * a + a;
  return mid ? sn : (high ? -c : c);
}

}  // namespace

void rand_uniform(const Tensor& out, uint64_t seed, uint64_t base) {
  NF_ON_GPU(out, rand_uniform(out, seed, base));
  const Generator gen(seed);
  const int64_t n = out.numel();
  dispatch_float(out.dtype(), "rand", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* p = out.data<scalar_t>();
    const scalar_t below_one = std::nextafter(scalar_t(1), scalar_t(0));
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) {
      // A double just below 1 rounds to 1.0f in float32: keep the result in [0, 1).
      const scalar_t u = static_cast<scalar_t>(gen.uniform_at(base + i));
      p[i] = u < scalar_t(1) ? u : below_one;
    }
  });
}

void randn(const Tensor& out, uint64_t seed, uint64_t pair0) {
  NF_ON_GPU(out, randn(out, seed, pair0));
  const Generator gen(seed);
  const int64_t n = out.numel();
  if (out.dtype() == DType::F32) {
    float* p = out.data<float>();
    constexpr int64_t chunk = 512;
    const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t c = 0; c < chunks; ++c) {
      const int64_t i0 = c * chunk, len = std::min(chunk, n - i0);
      double u1[chunk], u2[chunk];
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) {
        const uint64_t pair = pair0 + static_cast<uint64_t>(i0 + i);
        u1[i] = gen.uniform_at(2 * pair);
        u2[i] = gen.uniform_at(2 * pair + 1);
      }
#pragma omp simd
      for (int64_t i = 0; i < len; ++i) p[i0 + i] = std::sqrt(-2.0f * log1m(u1[i])) * cos2pi(u2[i]);
    }
    return;
  }
  dispatch_float(out.dtype(), "randn", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* p = out.data<scalar_t>();
#pragma omp parallel for schedule(static) if (n > (1 << 16))
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<scalar_t>(gen.normal_at(pair0 + i));
  });
}

void dropout(const Tensor& out, const Tensor& mask, const Tensor& x, double p, uint64_t seed, uint64_t base) {
  NF_ON_GPU(out, dropout(out, mask, x, p, seed, base));
  const Generator gen(seed);
  const int64_t n = x.numel();
  dispatch_float(x.dtype(), "dropout", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* pm = mask.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    const scalar_t scale = p < 1.0 ? static_cast<scalar_t>(1.0 / (1.0 - p)) : scalar_t(0);
    const int64_t chunk = 4096, chunks = (n + chunk - 1) / chunk;
    cpu::for_rows(chunks, chunk, [&](int64_t c) {
      for (int64_t i = c * chunk; i < std::min(n, (c + 1) * chunk); ++i) {
        pm[i] = gen.uniform_at(base + static_cast<uint64_t>(i)) >= p ? scale : scalar_t(0);
        po[i] = px[i] * pm[i];
      }
    });
  });
}

}  // namespace kernels
}  // namespace nf
