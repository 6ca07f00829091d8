#pragma once
// Scalar maths shared by the kernels and their host twins (cuda_ops.h's host_* functions):
// the counter-based generator of tensor/random.h, GELU, and precise float/double overloads.
// Everything is __host__ __device__, so the formulas the GPU runs can be checked on any host.
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

namespace nf {
namespace cuda {

// ---- precise maths (no fast-math intrinsics: the kernels match the CPU to a few ulp) ----------
__host__ __device__ __forceinline__ float m_exp(float x) { return expf(x); }
__host__ __device__ __forceinline__ double m_exp(double x) { return exp(x); }
__host__ __device__ __forceinline__ float m_log(float x) { return logf(x); }
__host__ __device__ __forceinline__ double m_log(double x) { return log(x); }
__host__ __device__ __forceinline__ float m_sqrt(float x) { return sqrtf(x); }
__host__ __device__ __forceinline__ double m_sqrt(double x) { return sqrt(x); }
__host__ __device__ __forceinline__ float m_tanh(float x) { return tanhf(x); }
__host__ __device__ __forceinline__ double m_tanh(double x) { return tanh(x); }
__host__ __device__ __forceinline__ float m_pow(float x, float p) { return powf(x, p); }
__host__ __device__ __forceinline__ double m_pow(double x, double p) { return pow(x, p); }
__host__ __device__ __forceinline__ bool m_isnan(float x) { return x != x; }
__host__ __device__ __forceinline__ bool m_isnan(double x) { return x != x; }

template <class T> struct Limits;
template <> struct Limits<float> {
  __device__ static float inf() { return __int_as_float(0x7f800000); }
  __device__ static float nan() { return __int_as_float(0x7fc00000); }
};
template <> struct Limits<double> {
  __device__ static double inf() { return __longlong_as_double(0x7ff0000000000000LL); }
  __device__ static double nan() { return __longlong_as_double(0x7ff8000000000000LL); }
};

// ---- the generator (tensor/random.h) ----------------------------------------------------------
__host__ __device__ __forceinline__ uint64_t splitmix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
// Draw n of `seed`, as a double in [0, 1): the top 53 bits times 2^-53.
__host__ __device__ __forceinline__ double uniform_at(uint64_t seed, uint64_t n) {
  return static_cast<double>(splitmix64(seed * 0x9E3779B97F4A7C15ULL + n) >> 11) * (1.0 / 9007199254740992.0);
}
// Box–Muller on draws 2·pair and 2·pair+1, in double (tensor/random.cpp's normal_at).
__host__ __device__ __forceinline__ double normal_at(uint64_t seed, uint64_t pair) {
  const double u1 = uniform_at(seed, 2 * pair), u2 = uniform_at(seed, 2 * pair + 1);
  return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586 * u2);
}

// ---- GELU, tanh form (the CPU's: tensor/kernels/cpu/elementwise.cpp) -------------------------------
template <class T>
__host__ __device__ __forceinline__ T gelu_f(T x) {
  const T k = static_cast<T>(0.7978845608028654), c = static_cast<T>(0.044715);
  return static_cast<T>(0.5) * x * (1 + m_tanh(k * (x + c * x * x * x)));
}
template <class T>
__host__ __device__ __forceinline__ T gelu_df(T x) {
  const T k = static_cast<T>(0.7978845608028654), c = static_cast<T>(0.044715);
  const T t = m_tanh(k * (x + c * x * x * x));
  return static_cast<T>(0.5) * (1 + t) + static_cast<T>(0.5) * x * (1 - t * t) * k * (1 + 3 * c * x * x);
}

}  // namespace cuda
}  // namespace nf
