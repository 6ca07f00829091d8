// The autograd engine (autograd/engine.cpp, docs/autograd.md), specified by example: backward
// from a scalar or with a given gradient, accumulation into leaves, several paths to one tensor,
// which results record history (requires_grad, no_grad, detach), and the graph freed after
// backward unless retained.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

TEST_SUITE("autograd") {
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

  TEST_CASE("a gradient seed passed to backward is never modified in place") {
    Tensor x = leaf({50, 40}, 81, DType::F32);
    Tensor y = add(x, x);  // add hands the seed to both inputs: the same node twice
    Tensor seed = ones({50, 40});
    y.backward(seed);
    assert_close(seed, ones({50, 40}), 0);
    assert_close(x.grad(), full({50, 40}, 2.0), 0);
  }
}
