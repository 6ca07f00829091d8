// Matrix products (autograd/ops_matmul.cpp): matmul and linear against a naive triple loop for
// every operand layout BLAS can take as it is (plain, transposed, strided rows), batched, with
// the threads sharing one product out in blocks, and linear's values and gradients against
// matmul + bias.
#include <doctest/doctest.h>

#include <array>
#include <utility>
#include <vector>

#include "autograd/ops.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

// a (M, K) · b (K, N) of the last two dims, summed in double by a naive loop.
std::vector<double> naive_matmul(const Tensor& a, const Tensor& b) {
  const int64_t M = a.size(-2), K = a.size(-1), N = b.size(-1);
  std::vector<double> av = values(a.contiguous()), bv = values(b.contiguous()), c(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t j = 0; j < N; ++j) c[i * N + j] += av[i * K + k] * bv[k * N + j];
  return c;
}

}  // namespace

TEST_SUITE("autograd") {
  TEST_CASE("matmul matches a naive triple loop for transposed float32 inputs") {
    Generator g(3);
    const int64_t M = 5, K = 7, N = 4;
    Tensor a = randn({M, K}, g), at = randn({K, M}, g).t(), b = randn({K, N}, g), bt = randn({N, K}, g).t();
    Tensor wide = randn({M, 2 * K}, g).narrow(1, 3, K);  // row stride 2K, not a plain layout
    for (auto [x, y] : std::vector<std::pair<Tensor, Tensor>>{{a, b}, {at, b}, {a, bt}, {at, bt}, {wide, bt}}) {
      CHECK(worst_error(values(matmul(x, y)), naive_matmul(x, y)) < 1e-5);
    }
    // Batched with a transposed right-hand side: each batch is its own product.
    Tensor A = randn({3, M, K}, g), B = randn({3, N, K}, g).transpose(1, 2);
    Tensor C = matmul(A, B);
    for (int64_t i = 0; i < 3; ++i) CHECK(worst_error(values(C.select(0, i)), naive_matmul(A.select(0, i), B.select(0, i))) < 1e-5);
  }

  TEST_CASE("products shared out between threads in blocks of rows and columns match a naive loop in every layout") {
    // With more than one thread a single product is cut into a grid of blocks of C (rows with
    // 2 or 3 threads when M > N, columns when N > M, 2 × 2 with 4 threads on a square C), each
    // block one serial BLAS call (gemm_shared, tensor/kernels/cpu/matmul.cpp). The shapes here are
    // large enough to be cut, odd enough that the blocks are uneven.
    Generator g(31);
    for (int threads : {1, 2, 3, 4}) {
      Threads scope(threads);
      CAPTURE(threads);
      for (const auto& mkn : std::vector<std::array<int64_t, 3>>{{150, 33, 70}, {40, 33, 200}, {97, 5, 97}, {200, 17, 200}}) {
        const int64_t M = mkn[0], K = mkn[1], N = mkn[2];  // plain names: lambdas below capture them
        CAPTURE(M);
        CAPTURE(N);
        for (DType dt : {DType::F32, DType::F64}) {
          const double tol = dt == DType::F32 ? 1e-5 : 1e-12;
          Tensor a = randn({M, K}, g, dt), at = randn({K, M}, g, dt).t();
          Tensor b = randn({K, N}, g, dt), bt = randn({N, K}, g, dt).t();
          for (auto [x, y] : std::vector<std::pair<Tensor, Tensor>>{{a, b}, {at, b}, {a, bt}, {at, bt}})
            CHECK(worst_error(values(matmul(x, y)), naive_matmul(x, y)) < tol);
          // beta = 1: linear pre-fills the bias and the product accumulates onto it
          Tensor bias = randn({N}, g, dt);
          std::vector<double> want = naive_matmul(a, bt), bv = values(bias);
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) want[i * N + j] += bv[j];
          CHECK(worst_error(values(linear(a, bt.t(), bias)), want) < tol);
        }
      }
      // a batch too small to share out over the threads: product by product, each one cut
      Tensor A = randn({3, 100, 20}, g), B = randn({3, 90, 20}, g).transpose(1, 2);
      Tensor C = matmul(A, B);
      for (int64_t i = 0; i < 3; ++i)
        CHECK(worst_error(values(C.select(0, i)), naive_matmul(A.select(0, i), B.select(0, i))) < 1e-5);
    }
  }

  TEST_CASE("linear equals matmul(x, W.t()) + b, values and gradients") {
    Generator g(4);
    Tensor x = randn({2, 3, 5}, g, DType::F64).requires_grad_();
    Tensor W = randn({4, 5}, g, DType::F64).requires_grad_();
    Tensor b = randn({4}, g, DType::F64).requires_grad_();
    Tensor y1 = linear(x, W, b), y2 = add(matmul(x, W.t()), b);
    CHECK(y1.shape() == Shape{2, 3, 4});
    CHECK(worst_error(y1, y2) < 1e-12);
    Tensor w = randn({2, 3, 4}, g, DType::F64);
    sum(mul(y1, w)).backward();
    const std::vector<double> gx = values(x.grad()), gW = values(W.grad()), gb = values(b.grad());
    x.zero_grad();
    W.zero_grad();
    b.zero_grad();
    sum(mul(y2, w)).backward();
    CHECK(worst_error(gx, values(x.grad())) < 1e-12);
    CHECK(worst_error(gW, values(W.grad())) < 1e-12);
    CHECK(worst_error(gb, values(b.grad())) < 1e-12);
    CHECK(contains(error_of([&] { linear(x, randn({4, 6}, g, DType::F64)); }), "linear"));
  }
}
