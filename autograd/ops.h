#pragma once
// Every differentiable operation on tensors. Each op checks its inputs (errors name the op and
// the shapes), allocates its output on the inputs' device, computes it with a kernel of
// tensor/kernels/ (one loop per device), and — when grad mode is on and an input requires grad —
// records a backward closure (autograd/node.h). Implementations, grouped by kind:
//   ops_elementwise.cpp  arithmetic with broadcasting, unary maths, activations
//   ops_reduce.cpp       sum / mean / max over dims, cumsum
//   ops_shape.cpp        concat, split, stack, masked_fill, where
//   ops_matmul.cpp       matmul (2-D and batched) and linear, through the gemm kernel
//   ops_nn.cpp           softmax, log_softmax, cross_entropy, layer_norm, rms_norm,
//                        embedding, dropout, causal masked softmax
//   ops_random.cpp       rand, randn
#include <vector>

#include "tensor/random.h"
#include "tensor/tensor.h"

namespace nf {

// ---- elementwise, with numpy/PyTorch broadcasting ------------------------------------------
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor add(const Tensor& a, double s);
Tensor mul(const Tensor& a, double s);
Tensor rsub(double s, const Tensor& a);  // s - a
Tensor rdiv(double s, const Tensor& a);  // s / a
Tensor neg(const Tensor& a);
Tensor pow(const Tensor& a, double exponent);
Tensor exp(const Tensor& a);
Tensor log(const Tensor& a);
Tensor sqrt(const Tensor& a);
Tensor rsqrt(const Tensor& a);
Tensor tanh(const Tensor& a);
Tensor sigmoid(const Tensor& a);
Tensor relu(const Tensor& a);
Tensor gelu(const Tensor& a);  // tanh approximation, as GPT-2

inline Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
inline Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
inline Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
inline Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
inline Tensor operator+(const Tensor& a, double s) { return add(a, s); }
inline Tensor operator+(double s, const Tensor& a) { return add(a, s); }
inline Tensor operator-(const Tensor& a, double s) { return add(a, -s); }
inline Tensor operator-(double s, const Tensor& a) { return rsub(s, a); }
inline Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
inline Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
inline Tensor operator/(const Tensor& a, double s) { return mul(a, 1.0 / s); }
inline Tensor operator/(double s, const Tensor& a) { return rdiv(s, a); }
inline Tensor operator-(const Tensor& a) { return neg(a); }

// Sums `grad` (shaped like a broadcast result) down to `shape` — the backward of broadcasting.
Tensor sum_to(const Tensor& grad, const Shape& shape);

// ---- reductions ------------------------------------------------------------------------------
Tensor sum(const Tensor& a);  // all elements -> scalar (shape {})
Tensor sum(const Tensor& a, std::vector<int64_t> dims, bool keepdim = false);
Tensor mean(const Tensor& a);
Tensor mean(const Tensor& a, std::vector<int64_t> dims, bool keepdim = false);
Tensor max(const Tensor& a, int64_t dim, bool keepdim = false);     // values; grad to the argmax
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);  // int64, not differentiable
Tensor cumsum(const Tensor& a, int64_t dim);

// ---- shape ------------------------------------------------------------------------------------
Tensor concat(const std::vector<Tensor>& ts, int64_t dim);
std::vector<Tensor> split(const Tensor& a, std::vector<int64_t> sizes, int64_t dim);  // views
std::vector<Tensor> split(const Tensor& a, int64_t size, int64_t dim);               // equal parts
Tensor stack(const std::vector<Tensor>& ts, int64_t dim);
// out = mask ? value : a   (mask: Bool, broadcast to a)
Tensor masked_fill(const Tensor& a, const Tensor& mask, double value);
// out = cond ? a : b       (cond: Bool; all three broadcast together)
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
// Bool (T, T) with true above the diagonal: the positions a causal mask removes.
Tensor causal_mask(int64_t T);

// ---- matrix products -----------------------------------------------------------------------
// a (..., M, K) @ b (..., K, N) -> (..., M, N); batch dims broadcast; a 2-D b is shared by
// every batch. Transposed views go to BLAS (cuBLAS on the GPU) as flags, never copied.
Tensor matmul(const Tensor& a, const Tensor& b);
// x (..., in) , weight [out, in] (nn.Linear layout), bias [out] or undefined -> (..., out)
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- neural-network ops ----------------------------------------------------------------------
Tensor softmax(const Tensor& a, int64_t dim = -1);
Tensor log_softmax(const Tensor& a, int64_t dim = -1);
// Fused attention softmax: softmax(scale * s + causal mask) over the last dim of s (..., T, T),
// query i sees keys j <= i (+ offset for KV-cache decoding, where s is (..., Tq, Tk)).
Tensor causal_softmax(const Tensor& scores, double scale);
// Mean cross-entropy of logits (N, V) against int64 targets (N); targets == ignore_index are
// skipped (the mean is over the others). Fused: never materialises the softmax twice.
Tensor cross_entropy(const Tensor& logits, const Tensor& targets, int64_t ignore_index = -1);
// Normalises over the last dim: (x - mean) / sqrt(var + eps) * weight + bias (bias optional).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);
// x / sqrt(mean(x^2) + eps) * weight over the last dim (weight optional).
Tensor rms_norm(const Tensor& x, const Tensor& weight, double eps = 1e-5);
// weight [V, C], ids int64 (any shape) -> (..., C). Backward scatter-adds into rows.
Tensor embedding(const Tensor& weight, const Tensor& ids);
// Inverted dropout: zero with probability p, scale the rest by 1/(1-p); identity if !training.
Tensor dropout(const Tensor& a, double p, bool training, Generator& gen);

// ---- random tensors (not differentiable) -------------------------------------------------
// Made on `device` directly: the same seed and counters give the same numbers on every device.
Tensor rand(Shape shape, Generator& gen, DType dtype = DType::F32, Device device = Device::CPU);   // U[0, 1)
Tensor randn(Shape shape, Generator& gen, DType dtype = DType::F32, Device device = Device::CPU);  // N(0, 1)

}  // namespace nf
