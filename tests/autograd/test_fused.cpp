// The fast paths of the training step against their composed references: each fused
// or vectorised kernel must give what the plain maths gives, in float32 (within the stated
// tolerance of the fast float functions) and float64 (to rounding), forward and backward, on
// sizes that take the multi-threaded paths.
//   gelu (σ(2u) form in float32) vs the exact tanh formula (value and derivative within 1e-6)
//   causal_softmax               vs masked_fill(scale·s, causal mask, −inf) + softmax
//   cross_entropy                vs −mean(log_softmax(x) · onehot(t)) over the kept rows
//   layer_norm                   vs mean / var / rsqrt composed from elementwise ops
//   sum over leading dims        vs a serial double loop (the bias-gradient reduction)
//   split / narrow backward      (the engine's in-place accumulation) vs a graph without views
//   attention-shaped matmul grads (written in the layout of q, k, v) vs contiguous inputs
// (fexp itself: tests/tensor/test_tensor.cpp; randn's float32 path: test_random.cpp; add_/mul_:
// test_tensor_methods.cpp.)
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

// Tolerance for comparing a float32 kernel with its float32 composed reference (both round).
double tol_of(DType dt) { return dt == DType::F32 ? 2e-5 : 1e-12; }

}  // namespace

TEST_SUITE("autograd") {

TEST_CASE("gelu and its gradient equal the exact tanh formula (float32 within 1e-6, float64 exact)") {
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtype_name(dt));
    Tensor x = leaf({257, 600}, 3, dt, 3.0);  // 154k elements: the parallel path
    Tensor y = gelu(x);
    sum(y).backward();
    const std::vector<double> xs = x.to_vector<double>();
    const double k = 0.7978845608028654, c = 0.044715;
    std::vector<double> f(xs.size()), d(xs.size());
    for (size_t i = 0; i < xs.size(); ++i) {
      const double v = xs[i], t = std::tanh(k * (v + c * v * v * v));
      f[i] = 0.5 * v * (1 + t);
      d[i] = 0.5 * (1 + t) + 0.5 * v * (1 - t * t) * k * (1 + 3 * c * v * v);
    }
    CHECK(worst_error(y.to_vector<double>(), f) < (dt == DType::F32 ? 1e-6 : 1e-15));
    CHECK(worst_error(x.grad().to_vector<double>(), d) < (dt == DType::F32 ? 1e-6 : 1e-15));
  }
}

TEST_CASE("causal_softmax equals masked_fill + softmax, forward and backward") {
  for (DType dt : {DType::F32, DType::F64}) {
    for (int64_t Tq : {80, 37}) {  // Tq < Tk: the queries are the last Tq of Tk positions
      CAPTURE(dtype_name(dt));
      CAPTURE(Tq);
      const int64_t Tk = 80;
      const double scale = 0.37;
      Tensor s = leaf({4, 5, Tq, Tk}, 11, dt, 2.0);  // 20·Tq rows of 80: parallel rows
      Tensor s2 = fresh(s);
      Tensor w = leaf({4, 5, Tq, Tk}, 12, dt).detach();
      Tensor y = causal_softmax(s, scale);
      // reference: key j is hidden from query i when j > i + (Tk − Tq)
      std::vector<int64_t> m(Tq * Tk);
      for (int64_t i = 0; i < Tq; ++i)
        for (int64_t j = 0; j < Tk; ++j) m[i * Tk + j] = j > i + (Tk - Tq);
      Tensor mask = from_vector(m, {Tq, Tk}).to(DType::Bool);
      Tensor ref = softmax(masked_fill(mul(s2, scale), mask, -std::numeric_limits<double>::infinity()), -1);
      assert_close(y, ref, tol_of(dt));
      sum(mul(y, w)).backward();
      sum(mul(ref, w)).backward();
      assert_close(s.grad(), s2.grad(), tol_of(dt));
    }
  }
}

TEST_CASE("cross_entropy equals −mean(log_softmax · onehot) over the kept rows, forward and backward") {
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtype_name(dt));
    const int64_t N = 160, V = 500;  // 80k logits: the parallel path
    Tensor x = leaf({N, V}, 21, dt, 3.0);
    Tensor x2 = fresh(x);
    Generator g(22);
    std::vector<int64_t> t(N);
    std::vector<double> onehot(N * V, 0.0), keep(N, 0.0);
    int64_t kept = 0;
    for (int64_t r = 0; r < N; ++r) {
      t[r] = r % 7 == 3 ? -1 : static_cast<int64_t>(g.next_u64() % V);
      if (t[r] >= 0) {
        onehot[r * V + t[r]] = 1.0;
        ++kept;
      }
    }
    Tensor loss = cross_entropy(x, from_vector(t, {N}), -1);
    Tensor ref = mul(sum(mul(log_softmax(x2, -1), from_vector(onehot, {N, V}).to(dt))), -1.0 / kept);
    assert_close(loss, ref, tol_of(dt));
    loss.backward();
    ref.backward();
    assert_close(x.grad(), x2.grad(), tol_of(dt));
  }
}

TEST_CASE("layer_norm equals the composed mean / var / rsqrt graph, forward and backward") {
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtype_name(dt));
    const int64_t C = 192;
    Tensor x = leaf({5, 40, C}, 31, dt, 2.0), w = leaf({C}, 32, dt), b = leaf({C}, 33, dt);
    Tensor x2 = fresh(x), w2 = fresh(w), b2 = fresh(b);
    Tensor gy = leaf({5, 40, C}, 34, dt).detach();
    Tensor y = layer_norm(x, w, b, 1e-5);
    Tensor mu = mean(x2, {-1}, true);
    Tensor xc = sub(x2, mu);
    Tensor var = mean(mul(xc, xc), {-1}, true);
    Tensor ref = add(mul(mul(xc, rsqrt(add(var, 1e-5))), w2), b2);
    assert_close(y, ref, tol_of(dt));
    sum(mul(y, gy)).backward();
    sum(mul(ref, gy)).backward();
    assert_close(x.grad(), x2.grad(), tol_of(dt));
    assert_close(w.grad(), w2.grad(), tol_of(dt));
    assert_close(b.grad(), b2.grad(), tol_of(dt));
  }
}

TEST_CASE("sum over leading dims (bias gradients) equals a serial double loop") {
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtype_name(dt));
    const int64_t R = 300, C = 700;  // 210k elements, three column blocks: the parallel path
    Tensor a = leaf({3, R / 3, C}, 41, dt).detach();
    Tensor s = sum(a, {0, 1});
    std::vector<double> v = a.to_vector<double>(), want(C, 0.0);
    for (int64_t r = 0; r < R; ++r)
      for (int64_t j = 0; j < C; ++j) want[j] += v[r * C + j];
    assert_close(s, from_vector(want, {C}), dt == DType::F32 ? 1e-5 : 1e-13);
    assert_close(sum(a, {0}, true), sum(a.transpose(0, 2), {2}, true).transpose(0, 2), tol_of(dt));
  }
}

TEST_CASE("split parts accumulate their gradients like the unsplit graph") {
  for (DType dt : {DType::F32, DType::F64}) {
    CAPTURE(dtype_name(dt));
    const int64_t B = 4, T = 30, C = 64;
    Tensor x = leaf({B, T, C}, 51, dt), W = leaf({3 * C, C}, 52, dt, 0.1);
    Tensor x2 = fresh(x), W2 = fresh(W);
    Tensor wa = leaf({B, T, C}, 53, dt).detach(), wb = leaf({B, T, C}, 54, dt).detach(),
           wc = leaf({B, T, C}, 55, dt).detach(), wall = leaf({B, T, 3 * C}, 56, dt).detach();
    // the parts are used twice each and the whole once, as q/k/v and a residual would be
    Tensor y = linear(x, W);
    std::vector<Tensor> p = split(y, C, 2);
    Tensor loss = add(add(sum(mul(p[0], wa)), sum(mul(mul(p[1], p[1]), wb))),
                      add(sum(mul(p[2], wc)), add(sum(mul(y, wall)), sum(mul(p[0], p[2])))));
    loss.backward();
    // reference without views: the same parts through one-hot selection matrices
    Tensor y2 = linear(x2, W2);
    auto part = [&](int64_t k) {
      std::vector<double> sel(3 * C * C, 0.0);
      for (int64_t j = 0; j < C; ++j) sel[(k * C + j) * C + j] = 1.0;
      return matmul(y2, from_vector(sel, {3 * C, C}).to(dt));
    };
    Tensor q = part(0), kk = part(1), v = part(2);
    Tensor ref = add(add(sum(mul(q, wa)), sum(mul(mul(kk, kk), wb))),
                     add(sum(mul(v, wc)), add(sum(mul(y2, wall)), sum(mul(q, v)))));
    ref.backward();
    assert_close(loss, ref, tol_of(dt));
    assert_close(x.grad(), x2.grad(), tol_of(dt));
    assert_close(W.grad(), W2.grad(), tol_of(dt));
  }
}

TEST_CASE("attention-shaped products: gradients of q, k, v views equal those of contiguous copies") {
  // Two shapes: 8 heads, shared one per thread (OpenMP over the batch); and 3 heads of 96
  // positions, each product cut into row blocks between the threads (gemm_shared), gradients
  // written into the strided (B, T, H, d) layout.
  for (const std::array<int64_t, 3>& shape : std::vector<std::array<int64_t, 3>>{{2, 48, 4}, {1, 96, 3}})
  for (DType dt : {DType::F32, DType::F64}) {
    const int64_t B = shape[0], T = shape[1], H = shape[2];
    for (bool shared_qk : {false, true}) {
      CAPTURE(dtype_name(dt));
      CAPTURE(shared_qk);
      CAPTURE(T);
      const int64_t d = 16, C = H * d;
      Tensor qkv = leaf({B, T, 3 * C}, 61, dt), qkv2 = fresh(qkv);
      Tensor w = leaf({B, T, C}, 62, dt).detach();
      auto run = [&](const Tensor& src, bool copy) {
        std::vector<Tensor> p = split(src, C, 2);
        auto heads = [&](const Tensor& t) {
          Tensor h = t.view({B, T, H, d}).transpose(1, 2);
          return copy ? h.contiguous() : h;
        };
        Tensor q = heads(p[0]), k = shared_qk ? q : heads(p[1]), v = heads(p[2]);
        Tensor att = causal_softmax(matmul(q, k.transpose(-1, -2)), 0.25);
        Tensor y = matmul(att, v).transpose(1, 2).reshape({B, T, C});
        return sum(mul(y, w));
      };
      Tensor l1 = run(qkv, false), l2 = run(qkv2, true);
      l1.backward();
      l2.backward();
      assert_close(l1, l2, tol_of(dt));
      assert_close(qkv.grad(), qkv2.grad(), tol_of(dt));
    }
  }
}

}  // TEST_SUITE
