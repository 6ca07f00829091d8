// The tensor layer (tensor/): factories, the caching allocator's reuse of blocks, and the
// vectorised float32 exp the memory-bound kernels use. Views and the other recording methods are
// autograd's (tests/autograd/test_tensor_methods.cpp); the CUDA backend has its own suite
// (tests/tensor/test_cuda.cpp).
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "tensor/fast_math.h"
#include "tensor/storage.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

TEST_SUITE("tensor") {
  // ---- factories -----------------------------------------------------------------------------------
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

  // ---- storage -------------------------------------------------------------------------------------
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

  // ---- fast float functions ------------------------------------------------------------------------
  TEST_CASE("fexp matches std::exp to 2 ulp over the float range, with exact special values") {
    double worst = 0;
    for (double x = -87.3; x < 88.72; x += 1.7e-3) {
      const float f = static_cast<float>(x);
      const double e = std::exp(static_cast<double>(f));
      worst = std::max(worst, std::fabs(fexp(f) - e) / e);
    }
    CHECK(worst < 2e-7);
    CHECK(fexp(0.0f) == 1.0f);
    CHECK(fexp(-std::numeric_limits<float>::infinity()) == 0.0f);
    CHECK(fexp(-200.0f) == 0.0f);
    CHECK(std::isinf(fexp(std::numeric_limits<float>::infinity())));
    CHECK(std::isinf(fexp(89.0f)));
    CHECK(std::isnan(fexp(std::numeric_limits<float>::quiet_NaN())));
    CHECK(fexp(1.25) == std::exp(1.25));  // float64: the library function itself
  }
}
