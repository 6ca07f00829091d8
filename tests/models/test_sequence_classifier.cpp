// The GLUE classification head (models/sequence_classifier.cpp): it reads each row's last real
// token, so right padding never changes a row's output, and its registered float64 gradient
// checks pass.
#include <doctest/doctest.h>

#include <memory>
#include <stdexcept>

#include "autograd/node.h"
#include "models/gradchecks.h"
#include "models/sequence_classifier.h"
#include "tests/support.h"

using namespace nf::test;

TEST_SUITE("models") {
  TEST_CASE("head reads each row's last real token: right padding never changes the output") {
    for (const std::string& a : kAttentions) {
      CAPTURE(a);
      auto gpt = std::make_shared<nf::GPT>(nf::test::tiny_gpt(a, 16, 8, 2, 11, /*n_layer=*/1), 3);
      nf::Generator g(4);
      nf::SequenceClassifier clf(gpt, 3, g);
      clf.eval();
      nf::NoGradGuard ng;
      // Row 0: 6 real tokens; row 1: 3 real tokens then padding (id 9).
      nf::Tensor both = nf::from_vector<int64_t>({1, 2, 3, 4, 5, 6, 7, 8, 10, 9, 9, 9}, {2, 6});
      nf::Tensor out = clf.forward(both, nf::from_vector<int64_t>({5, 2}, {2}));
      REQUIRE(out.shape() == nf::Shape{2, 3});
      nf::Tensor alone = clf.forward(nf::from_vector<int64_t>({7, 8, 10}, {1, 3}), nf::from_vector<int64_t>({2}, {1}));
      const auto vb = out.to_vector<float>(), va = alone.to_vector<float>();
      for (int k = 0; k < 3; ++k) CHECK(vb[3 + k] == doctest::Approx(va[k]).epsilon(1e-5));
      // Different padding ids give the same result too.
      nf::Tensor other = nf::from_vector<int64_t>({1, 2, 3, 4, 5, 6, 7, 8, 10, 0, 1, 2}, {2, 6});
      const auto vo = clf.forward(other, nf::from_vector<int64_t>({5, 2}, {2})).to_vector<float>();
      for (int k = 0; k < 6; ++k) CHECK(vo[k] == doctest::Approx(vb[k]).epsilon(1e-5));
    }
    nf::Tensor h = nf::zeros({2, 3, 4});
    CHECK_THROWS_AS(nf::gather_last(h, nf::from_vector<int64_t>({3, 0}, {2})), std::invalid_argument);
    CHECK_THROWS_AS(nf::gather_last(h, nf::from_vector<int64_t>({0}, {1})), std::invalid_argument);
  }

  TEST_CASE("registered float64 gradient checks of the head pass") {
    int n = 0;
    for (const nf::GradcheckCase& c : nf::all_gradchecks()) {
      if (c.name.rfind("glue/", 0) != 0) continue;
      ++n;
      CAPTURE(c.name);
      const nf::GradcheckResult r = c.run();
      CHECK_MESSAGE(r.passed, r.message);
      CHECK(r.checked > 0);
    }
    CHECK(n == 3);
  }
}
