// Tensor's recording methods (autograd/tensor_methods.cpp), specified by example: views share
// storage and have the strides of PyTorch's, view refuses what only reshape can do, contiguous
// copies only when needed, printing, and the in-place add_ / mul_ against add / mul.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

TEST_SUITE("autograd") {
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

  // ---- in place ------------------------------------------------------------------------------------
  TEST_CASE("Tensor::add_ and mul_ in place equal add and mul, with broadcasting and aliasing") {
    for (DType dt : {DType::F32, DType::F64}) {
      CAPTURE(dtype_name(dt));
      NoGradGuard ng;
      Tensor a = leaf({600, 257}, 71, dt).detach(), b = leaf({257}, 72, dt).detach();
      Tensor want = add(a, mul(b, 0.5));
      a.add_(b, 0.5);
      assert_close(a, want, 0);
      // a transposed view of itself: read fully before written
      Tensor sq = leaf({64, 64}, 73, dt).detach();
      Tensor want2 = add(sq, sq.t());
      sq.add_(sq.t());
      assert_close(sq, want2, 0);
      // into a strided part
      Tensor big = zeros({8, 30}, dt), part = leaf({8, 10}, 74, dt).detach();
      big.narrow(1, 10, 10).add_(part);
      assert_close(big.narrow(1, 10, 10), part, 0);
      assert_close(big.narrow(1, 0, 10), zeros({8, 10}, dt), 0);
      Tensor m = leaf({1000, 70}, 75, dt).detach();
      Tensor want3 = mul(m, -1.5);
      m.mul_(-1.5);
      assert_close(m, want3, 0);
    }
  }
}
