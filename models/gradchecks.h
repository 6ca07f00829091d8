#pragma once
// Every float64 gradient check of the project, in one list: the ops' own checks
// (autograd/op_gradchecks.cpp), the nn modules and each attention variant, a whole tiny GPT per
// attention (models/gradchecks.cpp) and the GLUE classifier (models/sequence_classifier.cpp).
// `noiseformer gradcheck` and the test suites run exactly this list. models/ is the highest layer
// that defines differentiable code, so the list is gathered here, never below.
#include <vector>

#include "autograd/gradcheck.h"

namespace nf {

const std::vector<GradcheckCase>& all_gradchecks();

void register_model_gradchecks(std::vector<GradcheckCase>& cases);       // models/gradchecks.cpp
void register_classifier_gradchecks(std::vector<GradcheckCase>& cases);  // models/sequence_classifier.cpp

}  // namespace nf
