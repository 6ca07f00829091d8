// The optimizers and their helpers (optim/): the learning-rate schedule, AdamW and SGD against
// hand-computed steps (decay decoupled and per parameter group), and global-norm clipping.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "optim/optim.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

TEST_SUITE("optim") {
  TEST_CASE("learning rate: linear warm-up, cosine decay to min_lr, then min_lr") {
    const double lr = 6e-4, mn = 6e-5;
    CHECK(learning_rate(0, lr, mn, 0, 100) == lr);  // exactly lr at iteration 0 without warm-up
    CHECK(learning_rate(0, lr, mn, 10, 110) == doctest::Approx(lr * 1 / 11));
    CHECK(learning_rate(4, lr, mn, 10, 110) == doctest::Approx(lr * 5 / 11));
    CHECK(learning_rate(9, lr, mn, 10, 110) == doctest::Approx(lr * 10 / 11));
    CHECK(learning_rate(10, lr, mn, 10, 110) == doctest::Approx(lr));
    CHECK(learning_rate(60, lr, mn, 10, 110) == doctest::Approx((lr + mn) / 2));
    CHECK(learning_rate(35, lr, mn, 10, 110) == doctest::Approx(mn + 0.5 * (1 + std::cos(M_PI / 4)) * (lr - mn)));
    CHECK(learning_rate(110, lr, mn, 10, 110) == doctest::Approx(mn));
    CHECK(learning_rate(111, lr, mn, 10, 110) == mn);
    CHECK(learning_rate(5000, lr, mn, 10, 110) == mn);
    double prev = learning_rate(10, lr, mn, 10, 110);
    for (int it = 11; it <= 110; ++it) {
      const double cur = learning_rate(it, lr, mn, 10, 110);
      CHECK(cur <= prev);
      prev = cur;
    }
  }

  TEST_CASE("AdamW: two steps equal the hand-computed update, decay decoupled and per group") {
    const double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.1;
    Tensor p1 = f32({0.5f, -1.0f}, {2});      // a 1-D tensor: no decay
    Tensor p2 = f32({2.0f, 0.3f}, {2, 1});    // a 2-D tensor: decayed
    Tensor p3 = f32({1.5f, -2.5f}, {1, 2});   // decayed, zero gradient: decay alone moves it
    Tensor p4 = f32({7.0f}, {1, 1});          // no gradient at all: untouched
    for (Tensor* p : {&p1, &p2, &p3, &p4}) p->requires_grad_(true);
    AdamW opt({{{p2, p3, p4}, wd}, {{p1}, 0.0}}, b1, b2, eps);
    const std::vector<std::vector<double>> g1 = {{0.2, -0.4}, {-0.1, 0.3}}, g2 = {{1.0, -0.05}, {0.5, 0.2}};
    std::vector<double> w1 = {0.5, -1.0}, w2 = {2.0, 0.3}, w3 = {1.5, -2.5};
    std::vector<double> m1(2, 0), v1(2, 0), m2(2, 0), v2(2, 0);
    auto hand = [&](std::vector<double>& w, std::vector<double>& m, std::vector<double>& v, const std::vector<double>& g,
                    double decay, int t) {
      for (size_t i = 0; i < w.size(); ++i) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
        w[i] = w[i] - lr * decay * w[i] - lr * mh / (std::sqrt(vh) + eps);
      }
    };
    for (int t = 1; t <= 2; ++t) {
      p1.set_grad(from_vector<double>(g1[t - 1], {2}).to(DType::F32));
      p2.set_grad(from_vector<double>(g2[t - 1], {2, 1}).to(DType::F32));
      p3.set_grad(zeros({1, 2}));
      opt.step(lr);
      hand(w1, m1, v1, g1[t - 1], 0.0, t);
      hand(w2, m2, v2, g2[t - 1], wd, t);
      for (double& w : w3) w *= 1 - lr * wd;
      for (int i = 0; i < 2; ++i) {
        CHECK(values(p1)[i] == doctest::Approx(w1[i]).epsilon(1e-6));
        CHECK(values(p2)[i] == doctest::Approx(w2[i]).epsilon(1e-6));
        CHECK(values(p3)[i] == doctest::Approx(w3[i]).epsilon(1e-6));
      }
      CHECK(values(p4)[0] == 7.0);
    }
    CHECK(opt.steps == 2);
    // First step of Adam moves every coordinate by ≈ lr (m̂/√v̂ = sign g).
    CHECK(std::fabs(w1[0] - 0.5) > 0.0);
    opt.zero_grad();
    CHECK_FALSE(p1.grad().defined());
  }

  TEST_CASE("SGD: w <- w - lr*g, no momentum, no decay") {
    Tensor a = f32({1.0f, -2.0f}, {2}), b = f32({0.5f, 0.25f, 4.0f, -1.0f}, {2, 2});
    a.requires_grad_(true);
    b.requires_grad_(true);
    SGD opt({{{a, b}, 0.0}});
    for (int step = 0; step < 2; ++step) {
      a.set_grad(f32({0.5f, -1.0f}, {2}));
      b.set_grad(f32({1.0f, 0.0f, -2.0f, 0.5f}, {2, 2}));
      opt.step(0.1);
    }
    CHECK(values(a)[0] == doctest::Approx(1.0 - 2 * 0.1 * 0.5));
    CHECK(values(a)[1] == doctest::Approx(-2.0 + 2 * 0.1 * 1.0));
    CHECK(values(b) == std::vector<double>{values(b)[0], 0.25, values(b)[2], values(b)[3]});
    CHECK(values(b)[0] == doctest::Approx(0.5 - 0.2));
    CHECK(values(b)[2] == doctest::Approx(4.0 + 0.4));
    CHECK(values(b)[3] == doctest::Approx(-1.0 - 0.1));
  }

  TEST_CASE("clip_grad_norm scales to the global norm and returns the norm before") {
    Tensor a = f32({3.0f}, {1}), b = f32({4.0f}, {1, 1}), c = f32({1.0f}, {1});
    for (Tensor* t : {&a, &b, &c}) t->requires_grad_(true);
    a.set_grad(f32({3.0f}, {1}));
    b.set_grad(f32({4.0f}, {1, 1}));  // c has no gradient: ignored
    CHECK(clip_grad_norm({a, b, c}, 10.0) == doctest::Approx(5.0));
    CHECK(values(a.grad())[0] == 3.0);  // under the limit: untouched
    CHECK(clip_grad_norm({a, b, c}, 0.0) == doctest::Approx(5.0));
    CHECK(values(a.grad())[0] == 3.0);  // 0: off
    CHECK(clip_grad_norm({a, b, c}, 1.0) == doctest::Approx(5.0));
    CHECK(values(a.grad())[0] == doctest::Approx(0.6).epsilon(1e-5));
    CHECK(values(b.grad())[0] == doctest::Approx(0.8).epsilon(1e-5));
    CHECK(clip_grad_norm({a, b}, 1.0) == doctest::Approx(1.0).epsilon(1e-5));
  }
}
