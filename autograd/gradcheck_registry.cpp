// The one place that lists every area's gradient checks. `noiseformer gradcheck` and the
// gradcheck test suite both run exactly this list. A new module adds a register_* call here.
#include "autograd/gradcheck.h"

namespace nf {

void register_tensor_gradchecks(std::vector<GradcheckCase>& cases);  // tensor/gradchecks.cpp
void register_model_gradchecks(std::vector<GradcheckCase>& cases);   // models/gradchecks.cpp
void register_glue_gradchecks(std::vector<GradcheckCase>& cases);    // models/sequence_classifier.cpp

const std::vector<GradcheckCase>& all_gradchecks() {
  static const std::vector<GradcheckCase> cases = [] {
    std::vector<GradcheckCase> c;
    register_tensor_gradchecks(c);
    register_model_gradchecks(c);
    register_glue_gradchecks(c);
    return c;
  }();
  return cases;
}

}  // namespace nf
