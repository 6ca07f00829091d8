#pragma once
// Vectorisable float32 exp for the memory-bound kernels (softmax, cross-entropy, GELU via
// σ(2u), randn). std::exp is a library call the compiler cannot vectorise without -ffast-math;
// fexp is branch-free straight-line code that GCC turns into AVX-512 / AVX2 loops.
// float64 keeps the exact library function (the gradient checks run in float64):
//   fexp(double) == std::exp.
// Accuracy of the float version (tests/tensor/test_tensor.cpp checks it over a dense grid): relative
// error ≤ 2e-7 (measured 8e-8, ≈ 1 ulp) up to ln FLT_MAX ≈ 88.72 (inf beyond); 0 below −87.33
// (so exp(−inf) = 0 and masked entries vanish; true values there are < 1.2e-38); NaN propagates.
#include <cmath>
#include <cstdint>
#include <cstring>

// Forced inline: the kernels' `#pragma omp simd` loops vectorise only if the call disappears.
#if defined(__GNUC__)
#define NF_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define NF_ALWAYS_INLINE inline
#endif

namespace nf {

// exp(x) = 2^n · exp(r), n = round(x / ln 2), r = x − n ln 2 (Cody–Waite split of ln 2),
// exp(r) by Cephes's degree-6 polynomial; 2^n built in the exponent bits as 2^h · 2^(n−h),
// h = n/2, so n = 128 (x up to ln FLT_MAX ≈ 88.72, and overflow to inf past it) is exact too.
NF_ALWAYS_INLINE float fexp(float x) {
  const float hi = 88.8f, lo = -87.33f;
  const float xc = x > hi ? hi : (x >= lo ? x : lo);  // NaN -> lo: no float->int UB below
  // round to nearest by the 1.5·2^23 trick (std::floor / nearbyint do not vectorise here)
  const float shift = 12582912.0f;
  const float n = (xc * 1.44269504088896341f + shift) - shift;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  const float y = p * r * r + r + 1.0f;
  const int32_t ni = static_cast<int32_t>(n), h = ni >> 1;
  const uint32_t b1 = static_cast<uint32_t>(h + 127) << 23, b2 = static_cast<uint32_t>(ni - h + 127) << 23;
  float s1, s2;
  std::memcpy(&s1, &b1, sizeof s1);
  std::memcpy(&s2, &b2, sizeof s2);
  const float e = y * s1 * s2;
  return x < lo ? 0.0f : (x != x ? x : e);
}
inline double fexp(double x) { return std::exp(x); }

}  // namespace nf
