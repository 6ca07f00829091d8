#include <doctest/doctest.h>

#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "tensor/ops.h"

using namespace nf;

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
