// Every float64 gradient check of the project (models/gradchecks.h: the ops, the nn modules and
// each attention, a whole tiny GPT per attention, the GLUE head) passes. The same list as
// `noiseformer gradcheck` (the gradcheck_cli test); a suite of its own so that a quick run can
// leave the slowest checks out.
#include <doctest/doctest.h>

#include "models/gradchecks.h"

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
