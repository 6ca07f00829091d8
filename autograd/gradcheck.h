#pragma once
// Numerical gradient checking: compare the gradients backward() computes with central
// differences (f(x+h) - f(x-h)) / 2h, in float64.
//
// The output y = f(inputs) may have any shape: it is reduced to the scalar L = Σ w ⊙ y with a
// fixed random w, so every output element (and every path through the op) is tested, not just
// their sum. An element passes when |analytic − numeric| ≤ atol + rtol·|numeric|.
// Defaults: h = 1e-6, atol = 1e-6, rtol = 1e-4 (float64 central differences are accurate to
// ~h² ≈ 1e-12 in truncation and ~1e-10 in rounding, so these leave a wide, honest margin).
#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nf {

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-6;
  double rtol = 1e-4;
};

struct GradcheckResult {
  double max_abs_err = 0;  // max |analytic - numeric| over all checked elements
  double max_rel_err = 0;  // max of that divided by max(|numeric|, 1e-3)
  int64_t checked = 0;     // number of input elements compared
  bool passed = false;
  std::string message;     // why it failed (first bad element), empty on success
};

using GradFn = std::function<Tensor(const std::vector<Tensor>& inputs)>;

// Checks d f / d input for every input that requires grad. Inputs must be float64 leaves; they
// may be non-contiguous (e.g. a transposed view marked requires_grad) — elements are perturbed
// through their strides.
GradcheckResult gradcheck(const GradFn& f, const std::vector<Tensor>& inputs,
                          const GradcheckOptions& opt = {});

// While one is alive, every gradcheck() runs on `device`: each input is copied there as a leaf
// of the same values (a transposed 2-D input stays a transposed view), then the analytic and the
// numeric gradients are both computed on that device. The float64 checks of the CPU thereby
// check the kernels of another device with the same tolerances.
class GradcheckDevice {
 public:
  explicit GradcheckDevice(Device device);
  ~GradcheckDevice();
  GradcheckDevice(const GradcheckDevice&) = delete;
  GradcheckDevice& operator=(const GradcheckDevice&) = delete;
  static Device current();

 private:
  Device previous_;
};

// ---- named checks, for `noiseformer gradcheck` and the tests ---------------------------------
struct GradcheckCase {
  std::string name;
  std::function<GradcheckResult()> run;
};

void add_gradcheck(std::vector<GradcheckCase>& into, std::string name, std::function<GradcheckResult()> run);
// The checks of every differentiable op (autograd/op_gradchecks.cpp). Each layer above adds its
// own beside the code they check; models/gradchecks.h gathers the whole list.
void register_op_gradchecks(std::vector<GradcheckCase>& cases);

// A float64 leaf with N(0,1) entries (deterministic for a given seed) that requires grad.
Tensor gc_input(Shape shape, uint64_t seed, bool requires_grad = true);

}  // namespace nf
