#include "autograd/trace.h"

#include <cmath>
#include <cstdio>

namespace nf {

double l2_norm(const Tensor& t) {
  double s = 0;
  for (double v : t.to_vector<double>()) s += v * v;
  return std::sqrt(s);
}

namespace {
class Recorder : public BackwardObserver {
 public:
  std::vector<BackwardStep> steps;
  void visit(const Node& node, const Tensor& g, const std::vector<Tensor>& grad_inputs) override {
    BackwardStep s;
    s.node = &node;
    s.op = node.name;
    s.scope = node.scope;
    s.shape = g.shape();
    s.grad_norm = l2_norm(g);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const Tensor& in = node.inputs[i];
      BackwardStep::Input x;
      x.needs_grad = in.defined() && in.requires_grad();
      if (x.needs_grad) {
        x.shape = in.shape();
        if (in.grad_fn()) {
          x.node = in.grad_fn().get();
          x.op = in.grad_fn()->name;
        } else {
          x.leaf = in.impl();
        }
        if (i < grad_inputs.size() && grad_inputs[i].defined()) x.grad_norm = l2_norm(grad_inputs[i]);
      }
      s.inputs.push_back(std::move(x));
    }
    steps.push_back(std::move(s));
  }
};

std::string fmt_norm(double v) {
  if (std::isnan(v)) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}
}  // namespace

std::vector<BackwardStep> trace_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  Recorder rec;
  {
    ObserveBackward observe(rec);
    root.backward(grad, retain_graph);
  }
  return std::move(rec.steps);
}

std::string format_trace(const std::vector<BackwardStep>& steps, const GraphLabels& labels) {
  auto leaf_name = [&](const TensorImpl* p) {
    if (auto it = labels.parameters.find(p); it != labels.parameters.end()) return it->second;
    if (auto it = labels.inputs.find(p); it != labels.inputs.end()) return it->second;
    return std::string("leaf");
  };
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line, "%4s  %-16s %-20s %-16s %-9s  %s\n", "step", "op", "module", "output", "|grad|",
                "gradient sent to each input: producer or leaf, shape, |grad|");
  out += line;
  for (size_t k = 0; k < steps.size(); ++k) {
    const BackwardStep& s = steps[k];
    std::string module = labels.module_of(s.scope);
    if (module.empty()) module = "-";
    std::snprintf(line, sizeof line, "%4zu  %-16s %-20s %-16s %-9s ", k + 1, s.op.c_str(), module.c_str(),
                  shape_str(s.shape).c_str(), fmt_norm(s.grad_norm).c_str());
    out += line;
    for (size_t i = 0; i < s.inputs.size(); ++i) {
      const BackwardStep::Input& x = s.inputs[i];
      out += i ? " | " : " ";
      if (!x.needs_grad) {
        out += "no grad";
        continue;
      }
      out += (x.leaf ? leaf_name(x.leaf) : x.op) + " " + shape_str(x.shape) + " " + fmt_norm(x.grad_norm);
    }
    out += "\n";
  }
  return out;
}

}  // namespace nf
