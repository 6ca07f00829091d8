// One optimizer step (train/step.cpp), the one `noiseformer train`, GLUE fine-tuning and
// bench_train all take: each micro-batch's loss, backward of their mean, the global gradient norm
// clipped, the optimizer's step at the given learning rate, gradients zeroed. Specified on
// a linear loss sum(x ⊙ w), whose gradient is x.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "nn/module.h"
#include "optim/optim.h"
#include "tests/support.h"
#include "train/step.h"

using namespace nf;
using namespace nf::test;

TEST_SUITE("train") {
  TEST_CASE("train_step: the mean gradient over the micro-batches, in order, then one step and zeroed gradients") {
    Module m;
    Tensor w = m.register_parameter("w", f64({1, -2}, {2}));
    SGD sgd({{m.parameters(), 0.0}});
    const std::vector<Tensor> x = {f64({1, 2}, {2}), f64({3, 6}, {2})};
    std::vector<int64_t> seen;
    const StepTimes t = train_step(m, sgd, {/*grad_accum=*/2, /*grad_clip=*/0.0, /*lr=*/0.5}, [&](int64_t micro) {
      seen.push_back(micro);
      return sum(mul(x[micro], w));
    });
    CHECK(seen == std::vector<int64_t>{0, 1});
    CHECK(values(w) == std::vector<double>{1 - 0.5 * 2, -2 - 0.5 * 4});  // the mean gradient is (2, 4)
    CHECK_FALSE(w.grad().defined());
    CHECK(t.forward >= 0);
    CHECK(t.backward >= 0);
    CHECK(t.optimizer >= 0);
  }

  TEST_CASE("train_step: a gradient whose global norm exceeds grad_clip is scaled down to it before the step") {
    Module m;
    Tensor w = m.register_parameter("w", f64({0, 0}, {2}));
    SGD sgd({{m.parameters(), 0.0}});
    // Gradient (3, 4), norm 5: clipped to norm 1, so the step moves w by (0.6, 0.8).
    train_step(m, sgd, {1, /*grad_clip=*/1.0, /*lr=*/1.0}, [&](int64_t) { return sum(mul(f64({3, 4}, {2}), w)); });
    const std::vector<double> v = values(w);
    CHECK(v[0] == doctest::Approx(-0.6));
    CHECK(v[1] == doctest::Approx(-0.8));
    CHECK(std::hypot(v[0], v[1]) <= 1.0);
    // Below the threshold the gradient is used as it is.
    train_step(m, sgd, {1, /*grad_clip=*/10.0, /*lr=*/1.0}, [&](int64_t) { return sum(mul(f64({3, 4}, {2}), w)); });
    CHECK(values(w)[0] == doctest::Approx(-3.6));
    CHECK(values(w)[1] == doctest::Approx(-4.8));
  }
}
