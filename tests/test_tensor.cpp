// The tensor engine, specified by example: views and strides, broadcasting, errors, factories
// and random numbers, printing, autograd semantics, the caching allocator, matmul/linear.
// The "gradcheck" suite runs every registered gradient check (autograd/gradcheck_registry.cpp).
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "models/gradchecks.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/storage.h"
#include "tests/support.h"

using namespace nf;

using nf::test::TempDir;
using nf::test::error_of;
using nf::test::contains;

namespace {


Tensor f32(const std::vector<float>& v, Shape shape) { return from_vector<float>(v, std::move(shape)); }
Tensor f64(const std::vector<double>& v, Shape shape) { return from_vector<double>(v, std::move(shape)); }
using nf::test::values;

// 0, 1, 2, ... as float32 in the given shape.
Tensor iota(Shape shape) { return arange(shape_numel(shape), DType::F32).reshape(shape); }

using nf::test::Threads;

}  // namespace

TEST_SUITE("gradcheck") {
  TEST_CASE("every registered gradient check passes") {
    for (const GradcheckCase& c : all_gradchecks()) {
      CAPTURE(c.name);
      GradcheckResult r = c.run();
      CAPTURE(r.message);
      CHECK(r.passed);
      CHECK(r.checked > 0);
    }
  }
}

TEST_SUITE("tensor") {
  // ---- views ----------------------------------------------------------------------------------------
  TEST_CASE("views share storage: writes through a transpose or a narrow show in the base") {
    Tensor base = iota({2, 3});
    Tensor t = base.t();  // (3, 2)
    CHECK(t.storage() == base.storage());
    t.select(0, 1).fill_(-1);  // column 1 of base
    CHECK(values(base) == std::vector<double>{0, -1, 2, 3, -1, 5});
    base.narrow(1, 2, 1).fill_(9);  // column 2
    CHECK(values(base) == std::vector<double>{0, -1, 9, 3, -1, 9});
    CHECK(values(t) == std::vector<double>{0, 3, -1, -1, 9, 9});
    Tensor v = base.view({3, 2});
    v.narrow(0, 0, 1).fill_(4);
    CHECK(values(base)[0] == 4);
    CHECK(values(base)[1] == 4);
  }

  TEST_CASE("view of a non-contiguous tensor throws; reshape copies instead") {
    Tensor base = iota({2, 3});
    Tensor t = base.t();
    CHECK_FALSE(t.is_contiguous());
    const std::string msg = error_of([&] { t.view({6}); });
    CHECK(contains(msg, "view"));
    CHECK(contains(msg, "[3, 2]"));
    Tensor r = t.reshape({6});
    CHECK(r.is_contiguous());
    CHECK(r.storage() != base.storage());
    CHECK(values(r) == std::vector<double>{0, 3, 1, 4, 2, 5});
    // A reshape that can be a view is one.
    Tensor r2 = base.reshape({3, 2});
    CHECK(r2.storage() == base.storage());
  }

  TEST_CASE("contiguous() is the identity on a contiguous tensor and a copy otherwise") {
    Tensor a = iota({3, 4});
    CHECK(a.contiguous().same(a));
    Tensor c = a.t().contiguous();
    CHECK_FALSE(c.same(a));
    CHECK(c.is_contiguous());
    CHECK(c.storage() != a.storage());
    CHECK(c.shape() == Shape{4, 3});
    CHECK(values(c)[1] == 4);
  }

  TEST_CASE("strides of transpose, permute, narrow and expand") {
    Tensor a = iota({2, 3, 4});
    CHECK(a.strides() == Shape{12, 4, 1});
    Tensor t = a.transpose(0, 2);
    CHECK(t.shape() == Shape{4, 3, 2});
    CHECK(t.strides() == Shape{1, 4, 12});
    Tensor p = a.permute({1, 2, 0});
    CHECK(p.shape() == Shape{3, 4, 2});
    CHECK(p.strides() == Shape{4, 1, 12});
    Tensor n = a.narrow(2, 1, 2);
    CHECK(n.strides() == Shape{12, 4, 1});
    CHECK(n.offset() == 1);
    Tensor e = iota({3, 1}).expand({2, 3, 4});
    CHECK(e.shape() == Shape{2, 3, 4});
    CHECK(e.strides() == Shape{0, 1, 0});
    CHECK(values(e)[5] == 1);  // [0, 1, 1]
    CHECK(values(e.contiguous()) == values(e));
  }

  // ---- broadcasting and errors -------------------------------------------------------------------------
  TEST_CASE("broadcasting follows numpy rules") {
    Tensor a = iota({2, 1}), b = iota({1, 3});
    Tensor c = add(a, b);
    CHECK(c.shape() == Shape{2, 3});
    CHECK(values(c) == std::vector<double>{0, 1, 2, 1, 2, 3});
    CHECK(add(iota({4, 1, 3}), iota({2, 1})).shape() == Shape{4, 2, 3});
    CHECK(mul(iota({2, 3}), iota({3})).shape() == Shape{2, 3});
    CHECK(values(mul(iota({2, 3}), f32({2}, {}))) == std::vector<double>{0, 2, 4, 6, 8, 10});
  }

  TEST_CASE("a failed broadcast names the op and both shapes") {
    const std::string msg = error_of([] { add(zeros({2, 3}), zeros({4})); });
    CHECK(contains(msg, "add"));
    CHECK(contains(msg, "[2, 3]"));
    CHECK(contains(msg, "[4]"));
    CHECK(contains(error_of([] { mul(zeros({2, 3}), zeros({3, 2})); }), "mul"));
    CHECK(contains(error_of([] { matmul(zeros({2, 3}), zeros({2, 3})); }), "matmul"));
  }

  TEST_CASE("dtype mismatches and out-of-range dims throw naming the op") {
    std::string msg = error_of([] { add(zeros({2}), zeros({2}, DType::F64)); });
    CHECK(contains(msg, "add"));
    CHECK(contains(msg, "float32"));
    CHECK(contains(msg, "float64"));
    CHECK(contains(error_of([] { matmul(zeros({2, 2}), zeros({2, 2}, DType::F64)); }), "matmul"));
    CHECK(contains(error_of([] { exp(zeros({2}, DType::I64)); }), "exp"));
    Tensor a = zeros({2, 3});
    CHECK(contains(error_of([&] { sum(a, {2}); }), "sum"));
    CHECK(contains(error_of([&] { a.transpose(0, 5); }), "transpose"));
    CHECK(contains(error_of([&] { a.narrow(1, 2, 2); }), "narrow"));
    CHECK(contains(error_of([&] { a.narrow(3, 0, 1); }), "narrow"));
    CHECK(contains(error_of([&] { a.select(0, 2); }), "select"));
    CHECK(contains(error_of([&] { a.permute({0, 0}); }), "permute"));
    CHECK(contains(error_of([&] { a.expand({4, 3}); }), "expand"));
    CHECK(contains(error_of([&] { softmax(a, 2); }), "softmax"));
    CHECK(contains(error_of([&] { a.view({4, 2}); }), "view"));
    CHECK(a.select(0, -1).shape() == Shape{3});  // negative indices count from the end
  }

  // ---- factories and random numbers ----------------------------------------------------------------
  TEST_CASE("zeros, ones, full, arange, from_vector") {
    Tensor z = zeros({2, 2});
    CHECK(z.dtype() == DType::F32);
    CHECK(values(z) == std::vector<double>(4, 0.0));
    CHECK(values(ones({3}, DType::F64)) == std::vector<double>(3, 1.0));
    Tensor f = full({2, 3}, 2.5, DType::F64);
    CHECK(f.shape() == Shape{2, 3});
    CHECK(values(f) == std::vector<double>(6, 2.5));
    Tensor r = arange(5);
    CHECK(r.dtype() == DType::I64);
    CHECK(r.to_vector<int64_t>() == std::vector<int64_t>{0, 1, 2, 3, 4});
    CHECK(arange(4, DType::F32).to_vector<float>() == std::vector<float>{0, 1, 2, 3});
    CHECK(scalar_tensor(3.0).dim() == 0);
    CHECK(scalar_tensor(3.0).item() == 3.0);
    CHECK(full({2}, 1.0, DType::Bool).dtype() == DType::Bool);
    CHECK(contains(error_of([] { from_vector<float>({1, 2, 3}, {2, 2}); }), "from_vector"));
  }

  TEST_CASE("rand is in [0, 1), randn has mean 0 and std 1") {
    Generator g(2024);
    for (DType dt : {DType::F32, DType::F64}) {
      std::vector<double> u = values(rand({100000}, g, dt));
      double lo = 1, hi = 0, s = 0;
      for (double x : u) {
        lo = std::min(lo, x);
        hi = std::max(hi, x);
        s += x;
      }
      CHECK(lo >= 0.0);
      CHECK(hi < 1.0);
      CHECK(s / u.size() == doctest::Approx(0.5).epsilon(0.01));
    }
    std::vector<double> z = values(randn({100000}, g, DType::F64));
    double s = 0, ss = 0;
    for (double x : z) s += x;
    const double m = s / z.size();
    for (double x : z) ss += (x - m) * (x - m);
    CHECK(std::fabs(m) < 0.02);
    CHECK(std::sqrt(ss / z.size()) == doctest::Approx(1.0).epsilon(0.02));
  }

  TEST_CASE("the same seed gives the same numbers; the generator advances") {
    Generator a(7), b(7);
    CHECK(values(randn({50}, a)) == values(randn({50}, b)));
    CHECK(values(rand({50}, a)) == values(rand({50}, b)));
    Generator c(7);
    Tensor first = rand({10}, c), second = rand({10}, c);
    CHECK(values(first) != values(second));
    Generator d(8);
    CHECK(values(rand({10}, d)) != values(first));
  }

  TEST_CASE("random tensors do not depend on the number of threads") {
    std::vector<double> one, many;
    {
      Threads t(1);
      Generator g(11);
      one = values(randn({200001}, g));
      std::vector<double> u = values(rand({200000}, g));
      one.insert(one.end(), u.begin(), u.end());
    }
    {
      Threads t(4);
      Generator g(11);
      many = values(randn({200001}, g));
      std::vector<double> u = values(rand({200000}, g));
      many.insert(many.end(), u.begin(), u.end());
    }
    CHECK(one == many);
  }

  // ---- printing -------------------------------------------------------------------------------------
  TEST_CASE("to_string shows values, shape and dtype") {
    const std::string s = f32({1, 2, 3, 4, 5, 6}, {2, 3}).to_string();
    CHECK(contains(s, "shape=[2, 3]"));
    CHECK(contains(s, "dtype=float32"));
    CHECK(contains(s, "[[1, 2, 3]"));
    CHECK(contains(zeros({4}, DType::F64).to_string(), "float64"));
    CHECK(contains(arange(100).to_string(), "..."));  // long dims are elided
    Tensor x = ones({2}).requires_grad_();
    CHECK(contains(x.to_string(), "requires_grad"));
    CHECK(contains(mul(x, 2.0).to_string(), "grad_fn=mul_scalar"));
    std::ostringstream os;
    os << zeros({1});
    CHECK(contains(os.str(), "tensor("));
  }

  // ---- autograd -------------------------------------------------------------------------------------
  TEST_CASE("backward from a scalar") {
    Tensor x = f64({1, -2, 3}, {3}).requires_grad_();
    Tensor y = sum(mul(x, x));
    y.backward();
    CHECK(values(x.grad()) == std::vector<double>{2, -4, 6});
    CHECK(contains(error_of([&] { mul(x, 2.0).backward(); }), "backward"));  // not a scalar: needs grad
  }

  TEST_CASE("backward with a given gradient, which is left untouched") {
    Tensor x = f64({1, 2, 3}, {3}).requires_grad_();
    Tensor b = f64({0, 0, 0}, {3}).requires_grad_();
    Tensor g = f64({1, 10, 100}, {3});
    mul(x, 3.0).backward(g);
    CHECK(values(x.grad()) == std::vector<double>{3, 30, 300});
    add(x, b).backward(g);
    add(x, b).backward(g);
    CHECK(values(x.grad()) == std::vector<double>{5, 50, 500});
    CHECK(values(b.grad()) == std::vector<double>{2, 20, 200});
    CHECK(values(g) == std::vector<double>{1, 10, 100});
    CHECK(contains(error_of([&] { mul(x, 3.0).backward(zeros({2}, DType::F64)); }), "grad shape"));
  }

  TEST_CASE("gradients accumulate into leaves over backward calls until zeroed") {
    Tensor x = f64({1, 2}, {2}).requires_grad_();
    sum(mul(x, 2.0)).backward();
    sum(mul(x, 2.0)).backward();
    CHECK(values(x.grad()) == std::vector<double>{4, 4});
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
    sum(mul(x, 5.0)).backward();
    CHECK(values(x.grad()) == std::vector<double>{5, 5});
  }

  TEST_CASE("a tensor used twice gets the sum of both paths") {
    Tensor x = f64({3, -1}, {2}).requires_grad_();
    sum(mul(x, x)).backward();  // d(x²) = 2x
    CHECK(values(x.grad()) == std::vector<double>{6, -2});
    // Pending gradients of one node are not disturbed by accumulation into a leaf elsewhere:
    // y = 3x + (x + 2x)  ->  dy/dx = 6
    Tensor z = f64({1}, {1}).requires_grad_();
    Tensor y = add(mul(z, 3.0), add(z, mul(z, 2.0)));
    y.backward(ones({1}, DType::F64));
    CHECK(z.grad().item() == 6.0);
  }

  TEST_CASE("requires_grad propagates to results of recorded ops") {
    Tensor a = ones({2}).requires_grad_(), b = ones({2});
    CHECK(a.is_leaf());
    CHECK(a.requires_grad());
    CHECK_FALSE(b.requires_grad());
    Tensor c = add(a, b);
    CHECK(c.requires_grad());
    CHECK_FALSE(c.is_leaf());
    CHECK(c.grad_fn()->name == "add");
    CHECK_FALSE(add(b, b).requires_grad());
    CHECK(a.unsqueeze(0).requires_grad());  // views are recorded too
    CHECK(contains(error_of([] { arange(3).requires_grad_(); }), "requires_grad_"));
  }

  TEST_CASE("no_grad records nothing") {
    Tensor x = ones({2}).requires_grad_();
    {
      NoGradGuard guard;
      CHECK_FALSE(grad_enabled());
      Tensor y = mul(x, 2.0);
      CHECK_FALSE(y.requires_grad());
      CHECK(y.grad_fn() == nullptr);
      CHECK_FALSE(softmax(x).requires_grad());
    }
    CHECK(grad_enabled());
    CHECK(mul(x, 2.0).requires_grad());
  }

  TEST_CASE("detach stops gradients and shares data") {
    Tensor x = f64({2, 3}, {2}).requires_grad_();
    Tensor d = x.detach();
    CHECK_FALSE(d.requires_grad());
    CHECK(d.storage() == x.storage());
    sum(mul(d, x)).backward();  // only the x path counts
    CHECK(values(x.grad()) == std::vector<double>{2, 3});
  }

  TEST_CASE("the graph is freed after backward unless retain_graph") {
    Tensor x = f64({1, 2}, {2}).requires_grad_();
    Tensor y = sum(mul(x, x));
    y.backward();
    const std::string msg = error_of([&] { y.backward(); });
    CHECK(contains(msg, "retain_graph"));
    x.zero_grad();
    Tensor y2 = sum(mul(x, x));
    y2.backward(Tensor(), /*retain_graph=*/true);
    y2.backward();
    CHECK(values(x.grad()) == std::vector<double>{4, 8});
  }

  TEST_CASE("the caching allocator reuses blocks and returns to its baseline") {
    const size_t base = cpu_bytes_in_use();
    void* first = nullptr;
    {
      Tensor t = zeros({1000, 17});
      first = t.raw_data();
      CHECK(cpu_bytes_in_use() >= base + 1000 * 17 * 4);
      Tensor u = mul(t, 2.0);
      Tensor x = ones({30}).requires_grad_();
      sum(mul(x, x)).backward();
    }
    CHECK(cpu_bytes_in_use() == base);
#if !defined(__SANITIZE_ADDRESS__)  // the cache is off under AddressSanitizer
    CHECK(cpu_bytes_cached() >= 1000 * 17 * 4);
    Tensor again = empty({1000, 17});
    CHECK(again.raw_data() == first);
#else
    (void)first;
#endif
  }

  // ---- matmul / linear ------------------------------------------------------------------------------------
  TEST_CASE("matmul matches a naive triple loop for transposed float32 inputs") {
    Generator g(3);
    const int64_t M = 5, K = 7, N = 4;
    auto naive = [](const Tensor& a, const Tensor& b) {
      const int64_t M = a.size(0), K = a.size(1), N = b.size(1);
      std::vector<double> av = values(a), bv = values(b), c(M * N, 0.0);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j)
          for (int64_t k = 0; k < K; ++k) c[i * N + j] += av[i * K + k] * bv[k * N + j];
      return c;
    };
    Tensor a = randn({M, K}, g), at = randn({K, M}, g).t(), b = randn({K, N}, g), bt = randn({N, K}, g).t();
    Tensor wide = randn({M, 2 * K}, g).narrow(1, 3, K);  // row stride 2K, not a plain layout
    for (auto [x, y] : std::vector<std::pair<Tensor, Tensor>>{{a, b}, {at, b}, {a, bt}, {at, bt}, {wide, bt}}) {
      std::vector<double> got = values(matmul(x, y)), want = naive(x, y);
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-5));
    }
    // Batched with a transposed right-hand side: each batch is its own product.
    Tensor A = randn({3, M, K}, g), B = randn({3, N, K}, g).transpose(1, 2);
    Tensor C = matmul(A, B);
    for (int64_t i = 0; i < 3; ++i) {
      std::vector<double> got = values(C.select(0, i)), want = naive(A.select(0, i), B.select(0, i));
      for (size_t k = 0; k < got.size(); ++k) CHECK(got[k] == doctest::Approx(want[k]).epsilon(1e-5));
    }
  }

  TEST_CASE("products shared out between threads in blocks of rows and columns match a naive loop in every layout") {
    // With more than one thread a single product is cut into a grid of blocks of C (rows with
    // 2 or 3 threads when M > N, columns when N > M, 2 × 2 with 4 threads on a square C), each
    // block one serial BLAS call (autograd/ops_matmul.cpp, gemm_shared). The shapes here are
    // large enough to be cut, odd enough that the blocks are uneven.
    Generator g(31);
    auto naive = [](const Tensor& a, const Tensor& b) {
      const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
      std::vector<double> av = values(a.contiguous()), bv = values(b.contiguous()), c(M * N, 0.0);
      for (int64_t i = 0; i < M; ++i)
        for (int64_t k = 0; k < K; ++k)
          for (int64_t j = 0; j < N; ++j) c[i * N + j] += av[i * K + k] * bv[k * N + j];
      return c;
    };
    auto close = [](const std::vector<double>& got, const std::vector<double>& want) {
      REQUIRE(got.size() == want.size());
      double worst = 0;
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::abs(got[i] - want[i]) / (1 + std::abs(want[i])));
      return worst;
    };
    for (int threads : {1, 2, 3, 4}) {
      Threads scope(threads);
      CAPTURE(threads);
      for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{{150, 33, 70}, {40, 33, 200}, {97, 5, 97}, {200, 17, 200}}) {
        CAPTURE(M);
        CAPTURE(N);
        for (DType dt : {DType::F32, DType::F64}) {
          const double tol = dt == DType::F32 ? 1e-5 : 1e-12;
          Tensor a = randn({M, K}, g, dt), at = randn({K, M}, g, dt).t();
          Tensor b = randn({K, N}, g, dt), bt = randn({N, K}, g, dt).t();
          for (auto [x, y] : std::vector<std::pair<Tensor, Tensor>>{{a, b}, {at, b}, {a, bt}, {at, bt}})
            CHECK(close(values(matmul(x, y)), naive(x, y)) < tol);
          // beta = 1: linear pre-fills the bias and the product accumulates onto it
          Tensor bias = randn({N}, g, dt);
          std::vector<double> want = naive(a, bt), bv = values(bias);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) want[i * N + j] += bv[j];
          CHECK(close(values(linear(a, bt.t(), bias)), want) < tol);
        }
      }
      // a batch too small to share out over the threads: product by product, each one cut
      Tensor A = randn({3, 100, 20}, g), B = randn({3, 90, 20}, g).transpose(1, 2);
      Tensor C = matmul(A, B);
      for (int64_t i = 0; i < 3; ++i) CHECK(close(values(C.select(0, i)), naive(A.select(0, i), B.select(0, i))) < 1e-5);
    }
  }

  TEST_CASE("linear equals matmul(x, W.t()) + b, values and gradients") {
    Generator g(4);
    Tensor x = randn({2, 3, 5}, g, DType::F64).requires_grad_();
    Tensor W = randn({4, 5}, g, DType::F64).requires_grad_();
    Tensor b = randn({4}, g, DType::F64).requires_grad_();
    Tensor y1 = linear(x, W, b), y2 = add(matmul(x, W.t()), b);
    CHECK(y1.shape() == Shape{2, 3, 4});
    std::vector<double> v1 = values(y1), v2 = values(y2);
    for (size_t i = 0; i < v1.size(); ++i) CHECK(v1[i] == doctest::Approx(v2[i]).epsilon(1e-12));
    Tensor w = randn({2, 3, 4}, g, DType::F64);
    sum(mul(y1, w)).backward();
    std::vector<double> gx = values(x.grad()), gW = values(W.grad()), gb = values(b.grad());
    x.zero_grad();
    W.zero_grad();
    b.zero_grad();
    sum(mul(y2, w)).backward();
    auto close = [](const std::vector<double>& p, const std::vector<double>& q) {
      REQUIRE(p.size() == q.size());
      for (size_t i = 0; i < p.size(); ++i) CHECK(p[i] == doctest::Approx(q[i]).epsilon(1e-12));
    };
    close(gx, values(x.grad()));
    close(gW, values(W.grad()));
    close(gb, values(b.grad()));
    CHECK(contains(error_of([&] { linear(x, randn({4, 6}, g, DType::F64)); }), "linear"));
  }
}
