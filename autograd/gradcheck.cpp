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

Device g_gradcheck_device = Device::CPU;

// x's values on `device` as a new leaf. A transposed 2-D view (the non-contiguous inputs of the
// op checks) is moved as its contiguous base and transposed back, so it stays non-contiguous.
Tensor leaf_on(const Tensor& x, Device device) {
  if (!x.defined() || x.device() == device) return x;
  NoGradGuard ng;
  const bool transposed = x.dim() == 2 && !x.is_contiguous() && x.t().is_contiguous();
  Tensor moved = transposed ? x.detach().t().to(device).t() : x.detach().contiguous().to(device);
  moved = moved.detach();
  if (x.requires_grad()) moved.requires_grad_();
  return moved;
}

// Element e (row-major) of x as a one-element view, for writing on any device.
Tensor element_view(const Tensor& x, int64_t e) {
  Tensor v = x.detach();
  for (int64_t d = x.dim() - 1, rest = e; d >= 0; --d) {
    const int64_t n = x.shape()[d];
    v = v.narrow(d, rest % n, 1);
    rest /= n;
  }
  return v;
}
}  // namespace

GradcheckDevice::GradcheckDevice(Device device) : previous_(g_gradcheck_device) { g_gradcheck_device = device; }
GradcheckDevice::~GradcheckDevice() { g_gradcheck_device = previous_; }
Device GradcheckDevice::current() { return g_gradcheck_device; }

Tensor gc_input(Shape shape, uint64_t seed, bool requires_grad) {
  Generator g(seed);
  Tensor t = randn(std::move(shape), g, DType::F64);
  if (requires_grad) t.requires_grad_();
  return t;
}

GradcheckResult gradcheck(const GradFn& f, const std::vector<Tensor>& given, const GradcheckOptions& opt) {
  GradcheckResult res;
  std::vector<Tensor> inputs;
  for (const Tensor& t : given) inputs.push_back(leaf_on(t, g_gradcheck_device));
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad() && (t.dtype() != DType::F64 || !t.is_leaf()))
      op_error("gradcheck", "inputs that require grad must be float64 leaves");

  // Analytic: L = sum(w * f(x)), backward.
  for (const Tensor& t : inputs)
    if (t.defined()) t.impl()->grad.reset();
  Tensor y = f(inputs);
  if (y.dtype() != DType::F64) op_error("gradcheck", "f must return a float64 tensor");
  Generator wg(424242);
  Tensor w = randn(y.shape(), wg, DType::F64, y.device());
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
    // On the CPU an element is written in place through its strides; on another device through
    // a one-element view and a fill kernel.
    const bool on_cpu = x.device() == Device::CPU;
    double* base = on_cpu ? static_cast<double*>(x.storage()->data) : nullptr;
    const std::vector<int64_t> offs = element_offsets(x);
    const std::vector<double> start = on_cpu ? std::vector<double>() : x.to_vector<double>();
    for (size_t e = 0; e < offs.size(); ++e) {
      const double orig = on_cpu ? base[offs[e]] : start[e];
      auto set = [&](double value) {
        if (on_cpu) base[offs[e]] = value;
        else element_view(x, static_cast<int64_t>(e)).fill_(value);
      };
      set(orig + opt.eps);
      const double lp = loss_at();
      set(orig - opt.eps);
      const double lm = loss_at();
      set(orig);
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
