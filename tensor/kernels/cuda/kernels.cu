// CUDA kernels, part 1: elementwise maths with broadcasting, copies and fills, masks,
// reductions (sum, max, cumsum), random numbers and dropout, and the fused AdamW step.
// Each kernel mirrors the CPU loop of the same kernel (tensor/kernels/cpu/*.cpp); see
// tensor/kernels/cuda/cuda_ops.h for the contracts and docs/cuda.md for how each one is checked.
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <type_traits>

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

// ==== copies and fills ==============================================================================
namespace {

template <class D, class S>
__global__ void copy_kernel(D* dst, const S* src, int64_t n, OffsetCalc<2> calc) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[2];
    calc.get(i, off);
    dst[off[0]] = static_cast<D>(src[off[1]]);
  }
}

template <class D, class S>
void launch_copy(const Dims& shape, void* dst, const Dims& ds, const void* src, const Dims& ss) {
  const int64_t n = numel_of(shape);
  if (n == 0) return;
  const OffsetCalc<2> calc = make_offset_calc<2>("copy", shape, {&ds, &ss});
  // Same dtype, both contiguous over the whole range: one memcpy.
  if constexpr (std::is_same<D, S>::value) {
    if (calc.ndim <= 1 && (calc.ndim == 0 || (calc.strides[0][0] == 1 && calc.strides[0][1] == 1))) {
      check(cudaMemcpyAsync(dst, src, n * sizeof(D), cudaMemcpyDeviceToDevice, stream()), "copy");
      return;
    }
  }
  copy_kernel<D, S><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<D*>(dst), static_cast<const S*>(src), n,
                                                              calc);
  check_launch("copy");
}

template <class D>
void copy_from(const Dims& shape, void* dst, const Dims& ds, DType src_dt, const void* src, const Dims& ss) {
  switch (src_dt) {
    case DType::F32: launch_copy<D, float>(shape, dst, ds, src, ss); break;
    case DType::F64: launch_copy<D, double>(shape, dst, ds, src, ss); break;
    case DType::I64: launch_copy<D, int64_t>(shape, dst, ds, src, ss); break;
    case DType::Bool: launch_copy<D, bool>(shape, dst, ds, src, ss); break;
  }
}

template <class T>
__global__ void fill_kernel(T* dst, int64_t n, T v) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    dst[i] = v;
}
template <class T>
void launch_fill(void* dst, int64_t n, T v) {
  if (n == 0) return;
  fill_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(dst), n, v);
  check_launch("fill");
}

}  // namespace

void copy(const Dims& shape, DType dst_dt, void* dst, const Dims& dst_strides, DType src_dt, const void* src,
          const Dims& src_strides) {
  switch (dst_dt) {
    case DType::F32: copy_from<float>(shape, dst, dst_strides, src_dt, src, src_strides); break;
    case DType::F64: copy_from<double>(shape, dst, dst_strides, src_dt, src, src_strides); break;
    case DType::I64: copy_from<int64_t>(shape, dst, dst_strides, src_dt, src, src_strides); break;
    case DType::Bool: copy_from<bool>(shape, dst, dst_strides, src_dt, src, src_strides); break;
  }
}

void fill(DType dt, void* dst, int64_t n, double value) {
  switch (dt) {
    case DType::F32: launch_fill<float>(dst, n, static_cast<float>(value)); break;
    case DType::F64: launch_fill<double>(dst, n, value); break;
    case DType::I64: launch_fill<int64_t>(dst, n, static_cast<int64_t>(value)); break;
    case DType::Bool: launch_fill<bool>(dst, n, value != 0.0); break;
  }
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

// ==== reductions ========================================================================================
namespace {

// One row group (warp or block) per output element: sums its R inputs with a fixed tree.
// kept: (out offset, in offset) over the kept dims; red: in offset over the reduced dims.
template <class T, bool W>
__global__ void sum_inner_kernel(T* out, const T* in, int64_t O, int64_t R, OffsetCalc<2> kept, OffsetCalc<1> red) {
  __shared__ T smem[32];
  const int64_t o = RowGroup<W>::row();
  if (o >= O) return;  // whole warp (warp mode) or whole block (block mode: o < O always)
  int64_t ko[2];
  kept.get(o, ko);
  T acc = 0;
  for (int64_t r = RowGroup<W>::rank(); r < R; r += RowGroup<W>::size()) {
    int64_t ro[1];
    red.get(r, ro);
    acc += in[ko[1] + ro[0]];
  }
  acc = RowGroup<W>::sum(acc, smem);
  if (RowGroup<W>::rank() == 0) out[ko[0]] = acc;
}

// One thread per output element and chunk of the reduced range (outputs innermost, so threads
// read neighbouring inputs): partial[chunk * O + o]; with one chunk, straight into out.
template <class T>
__global__ void sum_outer_kernel(T* out, T* partial, const T* in, int64_t O, int64_t R, int64_t chunk,
                                 OffsetCalc<2> kept, OffsetCalc<1> red) {
  const int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (o >= O) return;
  int64_t ko[2];
  kept.get(o, ko);
  const int64_t r0 = blockIdx.y * chunk, r1 = r0 + chunk < R ? r0 + chunk : R;
  T acc = 0;
  for (int64_t r = r0; r < r1; ++r) {
    int64_t ro[1];
    red.get(r, ro);
    acc += in[ko[1] + ro[0]];
  }
  if (partial) partial[blockIdx.y * O + o] = acc;
  else out[ko[0]] = acc;
}
template <class T>
__global__ void sum_partials_kernel(T* out, const T* partial, int64_t O, int64_t chunks, OffsetCalc<2> kept) {
  const int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (o >= O) return;
  T acc = 0;
  for (int64_t c = 0; c < chunks; ++c) acc += partial[c * O + o];
  int64_t ko[2];
  kept.get(o, ko);
  out[ko[0]] = acc;
}

}  // namespace

void sum(DType dt, const Dims& shape, void* out, const Dims& out_strides, const void* in, const Dims& in_strides) {
  if (out_strides.size() != shape.size() || in_strides.size() != shape.size())
    throw std::invalid_argument("cuda sum: strides do not match the shape");
  // Split the dims into kept (out stride != 0) and reduced (out stride 0); size-1 dims drop out.
  Dims ks, kos, kis, rs, ris;
  for (size_t d = 0; d < shape.size(); ++d) {
    if (shape[d] == 1) continue;
    if (out_strides[d] != 0) {
      ks.push_back(shape[d]);
      kos.push_back(out_strides[d]);
      kis.push_back(in_strides[d]);
    } else {
      rs.push_back(shape[d]);
      ris.push_back(in_strides[d]);
    }
  }
  const int64_t O = numel_of(ks), R = numel_of(rs);
  if (O == 0) return;
  const OffsetCalc<2> kept = make_offset_calc<2>("sum", ks, {&kos, &kis});
  const OffsetCalc<1> red = make_offset_calc<1>("sum", rs, {&ris});
  dispatch(dt, "sum", [&](auto zero) {
    using T = decltype(zero);
    T* po = static_cast<T*>(out);
    const T* pi = static_cast<const T*>(in);
    const unsigned out_blocks = static_cast<unsigned>((O + kThreads - 1) / kThreads);  // one thread per output
    if (R == 0) {  // an empty reduction: zeros
      sum_outer_kernel<T><<<dim3(out_blocks, 1), kThreads, 0, stream()>>>(po, nullptr, pi, O, 0, 1, kept, red);
      check_launch("sum");
      return;
    }
    // Reduced elements contiguous in memory (the innermost reduced dim has stride 1) and at least
    // a warp's worth of them, or too few outputs to spread: a row group per output. Otherwise
    // (e.g. a bias gradient, summing the rows of (N, C)) one thread per output and chunk of the
    // reduced range, then a sum over the chunks.
    const bool inner_contig = red.ndim > 0 && red.strides[red.ndim - 1][0] == 1;
    if ((inner_contig && R >= 32) || O < 64) {
      const bool warp = R <= kWarpRowMax;
      if (warp) sum_inner_kernel<T, true><<<row_blocks(O, true), kThreads, 0, stream()>>>(po, pi, O, R, kept, red);
      else sum_inner_kernel<T, false><<<row_blocks(O, false), kThreads, 0, stream()>>>(po, pi, O, R, kept, red);
      check_launch("sum");
      return;
    }
    // Enough chunks for ~64K threads, each summing at least 16 elements.
    int64_t chunks = (65536 + O - 1) / O;
    const int64_t max_chunks = (R + 15) / 16;
    if (chunks > max_chunks) chunks = max_chunks;
    if (chunks > 65535) chunks = 65535;
    if (chunks < 1) chunks = 1;
    const int64_t chunk = (R + chunks - 1) / chunks;
    chunks = (R + chunk - 1) / chunk;
    if (chunks == 1) {
      sum_outer_kernel<T><<<dim3(out_blocks, 1), kThreads, 0, stream()>>>(po, nullptr, pi, O, R, chunk, kept, red);
    } else {
      Scratch part(sizeof(T) * O * chunks);
      sum_outer_kernel<T><<<dim3(out_blocks, static_cast<unsigned>(chunks)), kThreads, 0, stream()>>>(
          po, part.as<T>(), pi, O, R, chunk, kept, red);
      check_launch("sum");
      sum_partials_kernel<T><<<out_blocks, kThreads, 0, stream()>>>(po, part.as<T>(), O, chunks, kept);
    }
    check_launch("sum");
  });
}

void sum_rows(DType dt, void* out, const void* in, int64_t rows, int64_t n) {
  sum(dt, {rows, n}, out, {1, 0}, in, {n, 1});
}
void sum_cols(DType dt, void* out, const void* in, int64_t rows, int64_t n) {
  sum(dt, {rows, n}, out, {0, 1}, in, {n, 1});
}

namespace {
template <class T>
__global__ void sum_squares_partial_kernel(double* partial, const T* x, int64_t n) {
  __shared__ double smem[32];
  double acc = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const double v = static_cast<double>(x[i]);
    acc += v * v;
  }
  acc = block_sum(acc, smem);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}
__global__ void add_partials_kernel(double* out, const double* partial, int64_t n) {
  __shared__ double smem[32];
  double acc = 0;
  for (int64_t i = threadIdx.x; i < n; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc, smem);
  if (threadIdx.x == 0) *out += acc;
}
}  // namespace

void sum_squares_accumulate(DType dt, double* out, const void* x, int64_t n) {
  if (n == 0) return;
  const unsigned blocks = blocks_for(n) < 1024 ? blocks_for(n) : 1024;
  Scratch part(sizeof(double) * blocks);
  dispatch(dt, "sum_squares", [&](auto zero) {
    using T = decltype(zero);
    sum_squares_partial_kernel<T><<<blocks, kThreads, 0, stream()>>>(part.as<double>(), static_cast<const T*>(x), n);
  });
  check_launch("sum_squares");
  add_partials_kernel<<<1, kThreads, 0, stream()>>>(out, part.as<double>(), blocks);
  check_launch("sum_squares");
}

// ---- max over the last dim --------------------------------------------------------------------------
namespace {

// Is (v, i) a better max than (bv, bi)? A NaN beats numbers; ties (and two NaNs) go to the lower
// index — the CPU's sequential rule (row[i] > row[best] || isnan(row[i]) && !isnan(row[best])).
template <class T>
__device__ __forceinline__ bool better(T v, int64_t i, T bv, int64_t bi) {
  const bool vn = m_isnan(v), bn = m_isnan(bv);
  if (vn != bn) return vn;
  if (!vn && v != bv) return v > bv;
  return i < bi;
}

template <class T, bool W>
__global__ void max_lastdim_kernel(T* values, int64_t* indices, const T* in, int64_t rows, int64_t n) {
  __shared__ T sv[32];
  __shared__ int64_t si[32];
  const int64_t r = RowGroup<W>::row();
  if (r >= rows) return;
  const T* x = in + r * n;
  T bv = x[0];
  int64_t bi = 0;
  for (int64_t i = RowGroup<W>::rank(); i < n; i += RowGroup<W>::size())
    if (better(x[i], i, bv, bi)) {
      bv = x[i];
      bi = i;
    }
#pragma unroll
  for (int o = 16; o > 0; o >>= 1) {
    const T v = __shfl_xor_sync(0xffffffffu, bv, o);
    const int64_t i = __shfl_xor_sync(0xffffffffu, bi, o);
    if (better(v, i, bv, bi)) {
      bv = v;
      bi = i;
    }
  }
  if constexpr (!W) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
    if (lane == 0) {
      sv[warp] = bv;
      si[warp] = bi;
    }
    __syncthreads();
    if (warp == 0) {
      bv = lane < warps ? sv[lane] : sv[0];
      bi = lane < warps ? si[lane] : si[0];
#pragma unroll
      for (int o = 16; o > 0; o >>= 1) {
        const T v = __shfl_xor_sync(0xffffffffu, bv, o);
        const int64_t i = __shfl_xor_sync(0xffffffffu, bi, o);
        if (better(v, i, bv, bi)) {
          bv = v;
          bi = i;
        }
      }
    }
  }
  if (threadIdx.x % (W ? 32 : blockDim.x) == 0) {
    values[r] = bv;
    if (indices) indices[r] = bi;
  }
}

template <class T>
__global__ void max_backward_kernel(T* gx, const T* g, const int64_t* indices, int64_t rows, int64_t n) {
  const int64_t total = rows * n;
  for (int64_t k = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; k < total;
       k += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t r = k / n, j = k - r * n;
    gx[k] = j == indices[r] ? g[r] : T(0);
  }
}

}  // namespace

void max_lastdim(DType dt, void* values, int64_t* indices, const void* in, int64_t rows, int64_t n) {
  if (rows == 0) return;
  if (n < 1) throw std::invalid_argument("cuda max: reduction over an empty dim");
  dispatch(dt, "max", [&](auto zero) {
    using T = decltype(zero);
    const bool warp = n <= kWarpRowMax;
    if (warp)
      max_lastdim_kernel<T, true><<<row_blocks(rows, true), kThreads, 0, stream()>>>(
          static_cast<T*>(values), indices, static_cast<const T*>(in), rows, n);
    else
      max_lastdim_kernel<T, false><<<row_blocks(rows, false), kThreads, 0, stream()>>>(
          static_cast<T*>(values), indices, static_cast<const T*>(in), rows, n);
  });
  check_launch("max");
}

void max_backward(DType dt, void* gx, const void* g, const int64_t* indices, int64_t rows, int64_t n) {
  if (rows * n == 0) return;
  dispatch(dt, "max_backward", [&](auto zero) {
    using T = decltype(zero);
    max_backward_kernel<T><<<blocks_for(rows * n), kThreads, 0, stream()>>>(static_cast<T*>(gx),
                                                                            static_cast<const T*>(g), indices, rows, n);
  });
  check_launch("max_backward");
}

// ---- cumsum ---------------------------------------------------------------------------------------------
namespace {
// One thread per (outer, inner) line, summing along n in order: the CPU's sequential order, so
// the sums are the same floats. Neighbouring threads read neighbouring inner elements.
template <class T>
__global__ void cumsum_kernel(T* out, const T* in, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  const int64_t lines = outer * inner;
  for (int64_t l = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; l < lines;
       l += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const int64_t o = l / inner, k = l - o * inner;
    const int64_t base = o * n * inner + k;
    T acc = 0;
    if (!reverse) {
      for (int64_t i = 0; i < n; ++i) out[base + i * inner] = acc += in[base + i * inner];
    } else {
      for (int64_t i = n - 1; i >= 0; --i) out[base + i * inner] = acc += in[base + i * inner];
    }
  }
}
}  // namespace

void cumsum(DType dt, void* out, const void* in, int64_t outer, int64_t n, int64_t inner, bool reverse) {
  if (outer * n * inner == 0) return;
  dispatch(dt, "cumsum", [&](auto zero) {
    using T = decltype(zero);
    cumsum_kernel<T><<<blocks_for(outer * inner, 128), 128, 0, stream()>>>(
        static_cast<T*>(out), static_cast<const T*>(in), outer, n, inner, reverse);
  });
  check_launch("cumsum");
}

// ==== random numbers and dropout =====================================================================
namespace {

template <class T>
__global__ void rand_kernel(T* out, int64_t n, uint64_t seed, uint64_t base, T below_one) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const T u = static_cast<T>(uniform_at(seed, base + static_cast<uint64_t>(i)));
    out[i] = u < T(1) ? u : below_one;
  }
}
template <class T>
__global__ void randn_kernel(T* out, int64_t n, uint64_t seed, uint64_t pair0) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)
    out[i] = static_cast<T>(normal_at(seed, pair0 + static_cast<uint64_t>(i)));
}
template <class T>
__global__ void dropout_kernel(T* out, T* mask, const T* x, int64_t n, double p, T scale, uint64_t seed,
                               uint64_t base) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const T m = uniform_at(seed, base + static_cast<uint64_t>(i)) >= p ? scale : T(0);
    if (mask) mask[i] = m;
    out[i] = x[i] * m;
  }
}

}  // namespace

void rand_uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t base) {
  if (n == 0) return;
  dispatch(dt, "rand", [&](auto zero) {
    using T = decltype(zero);
    const T below_one = std::nextafter(T(1), T(0));
    rand_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, seed, base, below_one);
  });
  check_launch("rand");
}

void randn(DType dt, void* out, int64_t n, uint64_t seed, uint64_t pair0) {
  if (n == 0) return;
  dispatch(dt, "randn", [&](auto zero) {
    using T = decltype(zero);
    randn_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), n, seed, pair0);
  });
  check_launch("randn");
}

void dropout(DType dt, void* out, void* mask, const void* x, int64_t n, double p, uint64_t seed, uint64_t base) {
  if (n == 0) return;
  dispatch(dt, "dropout", [&](auto zero) {
    using T = decltype(zero);
    const T scale = p < 1.0 ? static_cast<T>(1.0 / (1.0 - p)) : T(0);
    dropout_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(static_cast<T*>(out), static_cast<T*>(mask),
                                                                static_cast<const T*>(x), n, p, scale, seed, base);
  });
  check_launch("dropout");
}

// ==== AdamW ==============================================================================================
namespace {
template <class T>
__global__ void adamw_kernel(T* w, const T* g, T* m, T* v, int64_t n, T b1, T b2, T decay, T step, T rbc2, T eps) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    const T gi = g[i];
    const T mi = b1 * m[i] + (1 - b1) * gi;
    const T vi = b2 * v[i] + (1 - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    w[i] = w[i] * decay - step * mi / (m_sqrt(vi) * rbc2 + eps);
  }
}
}  // namespace

void adamw_step(DType dt, void* w, const void* g, void* m, void* v, int64_t n, double lr, double b1, double b2,
                double eps, double wd, double bc1, double bc2) {
  if (n == 0) return;
  dispatch(dt, "adamw", [&](auto zero) {
    using T = decltype(zero);
    adamw_kernel<T><<<blocks_for(n), kThreads, 0, stream()>>>(
        static_cast<T*>(w), static_cast<const T*>(g), static_cast<T*>(m), static_cast<T*>(v), n, static_cast<T>(b1),
        static_cast<T>(b2), static_cast<T>(1.0 - lr * wd), static_cast<T>(lr / bc1),
        static_cast<T>(1.0 / std::sqrt(bc2)), static_cast<T>(eps));
  });
  check_launch("adamw");
}

// ==== host twins ===========================================================================================
double host_uniform_at(uint64_t seed, uint64_t n) { return uniform_at(seed, n); }
double host_normal_at(uint64_t seed, uint64_t pair) { return normal_at(seed, pair); }
double host_gelu(double x) { return gelu_f(x); }
double host_gelu_backward(double x) { return gelu_df(x); }

}  // namespace cuda
}  // namespace nf
