#include "autograd/gradcheck.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "autograd/node.h"
#include "autograd/ops.h"

namespace nf {

namespace {
// Storage offsets of every element of t, in row-major logical order.
std::vector<int64_t> element_offsets(const Tensor& t) {
  std::vector<int64_t> offs;
  offs.reserve(t.numel());
  Shape idx(t.dim(), 0);
  for (int64_t n = 0; n < t.numel(); ++n) {
    int64_t off = t.offset();
    for (int64_t d = 0; d < t.dim(); ++d) off += idx[d] * t.strides()[d];
    offs.push_back(off);
    for (int64_t d = t.dim() - 1; d >= 0; --d) {
      if (++idx[d] < t.shape()[d]) break;
      idx[d] = 0;
    }
  }
  return offs;
}
}  // namespace

Tensor gc_input(Shape shape, uint64_t seed, bool requires_grad) {
  Generator g(seed);
  Tensor t = randn(std::move(shape), g, DType::F64);
  if (requires_grad) t.requires_grad_();
  return t;
}

GradcheckResult gradcheck(const GradFn& f, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckResult res;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad() && (t.dtype() != DType::F64 || !t.is_leaf()))
      op_error("gradcheck", "inputs that require grad must be float64 leaves");

  // Analytic: L = sum(w * f(x)), backward.
  for (const Tensor& t : inputs)
    if (t.defined()) t.impl()->grad.reset();
  Tensor y = f(inputs);
  if (y.dtype() != DType::F64) op_error("gradcheck", "f must return a float64 tensor");
  Generator wg(424242);
  Tensor w = randn(y.shape(), wg, DType::F64);
  Tensor L = sum(mul(y, w));
  if (!L.requires_grad()) {
    res.message = "output does not depend on any input that requires grad";
    return res;
  }
  L.backward();

  auto loss_at = [&]() {
    NoGradGuard ng;
    return sum(mul(f(inputs), w)).item();
  };

  res.passed = true;
  for (size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& x = inputs[k];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor g = x.grad();
    std::vector<double> analytic = g.defined() ? g.to_vector<double>() : std::vector<double>(x.numel(), 0.0);
    double* base = static_cast<double*>(x.storage()->data);
    const std::vector<int64_t> offs = element_offsets(x);
    for (size_t e = 0; e < offs.size(); ++e) {
      double& v = base[offs[e]];
      const double orig = v;
      v = orig + opt.eps;
      const double lp = loss_at();
      v = orig - opt.eps;
      const double lm = loss_at();
      v = orig;
      const double numeric = (lp - lm) / (2 * opt.eps);
      const double err = std::fabs(analytic[e] - numeric);
      res.max_abs_err = std::max(res.max_abs_err, err);
      res.max_rel_err = std::max(res.max_rel_err, err / std::max(std::fabs(numeric), 1e-3));
      ++res.checked;
      if (err > opt.atol + opt.rtol * std::fabs(numeric) && res.passed) {
        res.passed = false;
        std::ostringstream os;
        os << "input " << k << " element " << e << ": analytic " << analytic[e] << " vs numeric " << numeric;
        res.message = os.str();
      }
    }
  }
  for (const Tensor& t : inputs)
    if (t.defined()) t.impl()->grad.reset();
  return res;
}

void add_gradcheck(std::vector<GradcheckCase>& into, std::string name, std::function<GradcheckResult()> run) {
  into.push_back({std::move(name), std::move(run)});
}

}  // namespace nf
