// CUDA kernels of the elementwise family (tensor/kernels/elementwise.h): unary maths and binary
// maths with broadcasting over strided operands (and the unary ops' backwards g·f′(x)), and the
// boolean selections masked_fill and where. Launched by the twins of
// tensor/kernels/cuda/elementwise.cpp (nf::kernels::gpu); each kernel mirrors the CPU loop of
// tensor/kernels/cpu/elementwise.cpp. See tensor/kernels/cuda/cuda_ops.h for the contracts and
// docs/cuda.md for how each one is checked.
//
// GELU's host twins (host_gelu, host_gelu_backward) are at the end: each host twin sits in the
// file of the kernels that use the device_math.cuh function it evaluates (the generator's twins
// are in random.cu), so every .cu file stays one op family and no file holds only twins.
#include <cuda_runtime.h>

#include "tensor/kernels/cuda/common.cuh"
#include "tensor/kernels/cuda/device_math.cuh"

namespace nf {
namespace cuda {

// ==== elementwise ================================================================================
namespace {

// Scalars of an op: s, and s − 1 (pow's backward) computed in double as the CPU does.
template <class T>
struct Scalars {
  T s, s_minus_1;
};

template <class T, UnaryOp OP>
__device__ __forceinline__ T unary_f(T x, Scalars<T> c) {
  if constexpr (OP == UnaryOp::AddScalar) return x + c.s;
  else if constexpr (OP == UnaryOp::MulScalar) return x * c.s;
  else if constexpr (OP == UnaryOp::RSub) return c.s - x;
  else if constexpr (OP == UnaryOp::RDiv) return c.s / x;
  else if constexpr (OP == UnaryOp::Neg) return -x;
  else if constexpr (OP == UnaryOp::Pow) return m_pow(x, c.s);
  else if constexpr (OP == UnaryOp::Exp) return m_exp(x);
  else if constexpr (OP == UnaryOp::Log) return m_log(x);
  else if constexpr (OP == UnaryOp::Sqrt) return m_sqrt(x);
  else if constexpr (OP == UnaryOp::Rsqrt) return 1 / m_sqrt(x);
  else if constexpr (OP == UnaryOp::Tanh) return m_tanh(x);
  else if constexpr (OP == UnaryOp::Sigmoid) return 1 / (1 + m_exp(-x));
  else if constexpr (OP == UnaryOp::Relu) return x > 0 ? x : T(0);
  else return gelu_f(x);
}

// g * f'(x) exactly as the CPU lambdas compute it (sqrt/rsqrt backward in double, as there the
// constants are double literals).
template <class T, BinaryOp OP>
__device__ __forceinline__ T binary_f(T a, T b, Scalars<T> c) {
  if constexpr (OP == BinaryOp::Add) return a + b;
  else if constexpr (OP == BinaryOp::Sub) return a - b;
  else if constexpr (OP == BinaryOp::Mul) return a * b;
  else if constexpr (OP == BinaryOp::Div) return a / b;
  else if constexpr (OP == BinaryOp::PowBackward) return a * (c.s * m_pow(b, c.s_minus_1));
  else if constexpr (OP == BinaryOp::SqrtBackward)
    return static_cast<T>(static_cast<double>(a) * (0.5 / static_cast<double>(b)));
  else if constexpr (OP == BinaryOp::RsqrtBackward) {
    const double y = static_cast<double>(b);
    return static_cast<T>(static_cast<double>(a) * (-0.5 * y * y * y));
  } else if constexpr (OP == BinaryOp::TanhBackward) return a * (1 - b * b);
  else if constexpr (OP == BinaryOp::SigmoidBackward) return a * (b * (1 - b));
  else if constexpr (OP == BinaryOp::ReluBackward) return a * (b > 0 ? T(1) : T(0));
  else return a * gelu_df(b);
}

// Flat: out contiguous, each input stride 1 or 0 (a broadcast scalar).
template <class T, UnaryOp OP>
__global__ void unary_flat_kernel(T* out, const T* a, int64_t sa, int64_t n, Scalars<T> c) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    out[i] = unary_f<T, OP>(a[i * sa], c);
}
template <class T, UnaryOp OP>
__global__ void unary_strided_kernel(T* out, const T* a, int64_t n, OffsetCalc<2> calc, Scalars<T> c) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[2];
    calc.get(i, off);
    out[off[0]] = unary_f<T, OP>(a[off[1]], c);
  }
}
template <class T, BinaryOp OP>
__global__ void binary_flat_kernel(T* out, const T* a, int64_t sa, const T* b, int64_t sb, int64_t n, Scalars<T> c) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    out[i] = binary_f<T, OP>(a[i * sa], b[i * sb], c);
}
template <class T, BinaryOp OP>
__global__ void binary_strided_kernel(T* out, const T* a, const T* b, int64_t n, OffsetCalc<3> calc, Scalars<T> c) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[3];
    calc.get(i, off);
    out[off[0]] = binary_f<T, OP>(a[off[1]], b[off[2]], c);
  }
}

// Stride of operand k in a flat calc (ndim 0 means one element: stride 0).
template <int N>
int64_t flat_stride(const OffsetCalc<N>& c, int k) { return c.ndim == 0 ? 0 : c.strides[0][k]; }

template <class T, UnaryOp OP>
void launch_unary(const Dims& shape, void* out, const Dims& os, const void* a, const Dims& as, Scalars<T> c) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const OffsetCalc<2> calc = make_offset_calc<2>("unary", shape, {&os, &as});
  if (calc.flat() && (calc.ndim == 0 || calc.strides[0][0] == 1)) {
    unary_flat_kernel<T, OP><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), static_cast<const T*>(a),
                                                                       flat_stride(calc, 1), n, c);
  } else {
    unary_strided_kernel<T, OP><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out),
                                                                          static_cast<const T*>(a), n, calc, c);
  }
  check_launch("unary");
}

template <class T, BinaryOp OP>
void launch_binary(const Dims& shape, void* out, const Dims& os, const void* a, const Dims& as, const void* b,
                   const Dims& bs, Scalars<T> c) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const OffsetCalc<3> calc = make_offset_calc<3>("binary", shape, {&os, &as, &bs});
  if (calc.flat() && (calc.ndim == 0 || calc.strides[0][0] == 1)) {
    binary_flat_kernel<T, OP><<<blocks_for(n), kThreads, 0, stream()>>>(
        static_cast<T*>(out), static_cast<const T*>(a), flat_stride(calc, 1), static_cast<const T*>(b),
        flat_stride(calc, 2), n, c);
  } else {
    binary_strided_kernel<T, OP><<<blocks_for(n), kThreads, 0, stream()>>>(
        static_cast<T*>(out), static_cast<const T*>(a), static_cast<const T*>(b), n, calc, c);
  }
  check_launch("binary");
}

}  // namespace

void unary(DType dt, UnaryOp op, double s, const Dims& shape, void* out, const Dims& out_strides, const void* a,
           const Dims& a_strides) {
  dispatch(dt, "unary", [&](auto zero) {
    using T = decltype(zero);
    const Scalars<T> c{static_cast<T>(s), static_cast<T>(s - 1)};
#define NF_UNARY(NAME) \
  case UnaryOp::NAME: launch_unary<T, UnaryOp::NAME>(shape, out, out_strides, a, a_strides, c); break;
    switch (op) {
      NF_UNARY(AddScalar) NF_UNARY(MulScalar) NF_UNARY(RSub) NF_UNARY(RDiv) NF_UNARY(Neg) NF_UNARY(Pow)
      NF_UNARY(Exp) NF_UNARY(Log) NF_UNARY(Sqrt) NF_UNARY(Rsqrt) NF_UNARY(Tanh) NF_UNARY(Sigmoid)
      NF_UNARY(Relu) NF_UNARY(Gelu)
    }
#undef NF_UNARY
  });
}

void binary(DType dt, BinaryOp op, double s, const Dims& shape, void* out, const Dims& out_strides, const void* a,
            const Dims& a_strides, const void* b, const Dims& b_strides) {
  dispatch(dt, "binary", [&](auto zero) {
    using T = decltype(zero);
    const Scalars<T> c{static_cast<T>(s), static_cast<T>(s - 1)};
#define NF_BINARY(NAME)                                                                           \
  case BinaryOp::NAME:                                                                            \
    launch_binary<T, BinaryOp::NAME>(shape, out, out_strides, a, a_strides, b, b_strides, c); \
    break;
    switch (op) {
      NF_BINARY(Add) NF_BINARY(Sub) NF_BINARY(Mul) NF_BINARY(Div) NF_BINARY(PowBackward)
      NF_BINARY(SqrtBackward) NF_BINARY(RsqrtBackward) NF_BINARY(TanhBackward) NF_BINARY(SigmoidBackward)
      NF_BINARY(ReluBackward) NF_BINARY(GeluBackward)
    }
#undef NF_BINARY
  });
}

// ==== masks ===========================================================================================
namespace {

template <class T>
__global__ void masked_fill_kernel(T* out, const T* a, const bool* mask, int64_t n, OffsetCalc<3> calc, T v) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[3];
    calc.get(i, off);
    out[off[0]] = mask[off[2]] ? v : a[off[1]];
  }
}

// a or b null: 0 there.
template <class T>
__global__ void where_kernel(T* out, const bool* cond, const T* a, const T* b, int64_t n, OffsetCalc<4> calc) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[4];
    calc.get(i, off);
    out[off[0]] = cond[off[1]] ? (a ? a[off[2]] : T(0)) : (b ? b[off[3]] : T(0));
  }
}

}  // namespace

void masked_fill(DType dt, const Dims& shape, void* out, const Dims& out_strides, const void* a,
                 const Dims& a_strides, const bool* mask, const Dims& mask_strides, double value) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const OffsetCalc<3> calc = make_offset_calc<3>("masked_fill", shape, {&out_strides, &a_strides, &mask_strides});
  dispatch(dt, "masked_fill", [&](auto zero) {
    using T = decltype(zero);
    masked_fill_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), static_cast<const T*>(a),
                                                                    mask, n, calc, static_cast<T>(value));
  });
  check_launch("masked_fill");
}

void where(DType dt, const Dims& shape, void* out, const Dims& out_strides, const bool* cond,
           const Dims& cond_strides, const void* a, const Dims& a_strides, const void* b, const Dims& b_strides) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const Dims zeros(shape.size(), 0);
  const Dims& as = a ? a_strides : zeros;
  const Dims& bs = b ? b_strides : zeros;
  const OffsetCalc<4> calc = make_offset_calc<4>("where", shape, {&out_strides, &cond_strides, &as, &bs});
  dispatch(dt, "where", [&](auto zero) {
    using T = decltype(zero);
    where_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), cond, static_cast<const T*>(a),
                                                              static_cast<const T*>(b), n, calc);
  });
  check_launch("where");
}

// ==== host twins (GELU) ====================================================================================
double host_gelu(double x) { return gelu_f(x); }
double host_gelu_backward(double x) { return gelu_df(x); }

}  // namespace cuda
}  // namespace nf
