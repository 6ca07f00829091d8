#pragma once
// Every float64 gradient check of the project, in one list: the ops' own checks
// (autograd/op_gradchecks.cpp), the nn modules and each attention variant, a whole tiny GPT per
// attention (models/gradchecks.cpp) and the GLUE classifier (models/sequence_classifier.cpp).
// `noiseformer gradcheck` and the test suites run exactly this list. models/ is the highest layer
// that defines differentiable code, so the list is gathered here, never below.
#include <memory>
#include <vector>

#include "autograd/gradcheck.h"
#include "nn/attention.h"

namespace nf {

const std::vector<GradcheckCase>& all_gradchecks();

// Fixes ε of every noise attention among `layers` for batch B, length T (AttentionProbe::
// set_fixed_noise), drawn from Generator(seed), Generator(seed + 1), … in layer order, so the
// function being checked is deterministic. Other attentions are left alone.
void fix_noise(const std::vector<std::shared_ptr<Attention>>& layers, int64_t B, int64_t T, uint64_t seed);

void register_model_gradchecks(std::vector<GradcheckCase>& cases);       // models/gradchecks.cpp
void register_classifier_gradchecks(std::vector<GradcheckCase>& cases);  // models/sequence_classifier.cpp

}  // namespace nf
