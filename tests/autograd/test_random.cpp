// Random tensors (autograd/ops_random.cpp): rand and randn follow the Generator's counters, so
// the same seed gives the same numbers whatever the thread count, and randn's vectorised float32
// Box–Muller gives the float64 normals of tensor/random.h to within rounding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

TEST_SUITE("autograd") {
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

  TEST_CASE("randn in float32 equals normal_at (computed in double) within 5e-7, same counters") {
    const int64_t n = 300001;  // odd, and several parallel chunks
    Generator a(123), b(123);
    a.reserve(1);  // an odd counter: randn realigns to pairs
    b.reserve(1);
    Tensor z = randn({n}, a);
    Tensor z64 = randn({n}, b, DType::F64);
    CHECK(a.counter() == b.counter());
    CHECK(worst_error(z, z64) < 5e-7);
    double mean = 0;
    for (double x : values(z)) mean += x;
    CHECK(std::fabs(mean / n) < 0.01);
    CHECK(static_cast<double>(randn({4}, a).to_vector<float>()[0]) ==
          doctest::Approx(static_cast<float>(b.normal_at(b.reserve(2 * 4) / 2))).epsilon(1e-6));
  }
}
