#include "nn/module.h"

#include <stdexcept>

#include "autograd/node.h"
#include "tensor/one_line.h"

namespace nf {

Tensor Module::register_parameter(const std::string& name, Tensor value) {
  value.requires_grad_(true);
  params_.emplace_back(name, value);
  return value;
}

void Module::collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const {
  for (const auto& [n, t] : params_) out.emplace_back(prefix + n, t);
  for (const auto& [n, m] : children_) m->collect(prefix + n + ".", out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters() const {
  std::vector<std::pair<std::string, Tensor>> out;
  collect("", out);
  return out;
}

void Module::collect_modules(const std::string& path, GraphLabels& out) const {
  out.modules[static_cast<const void*>(this)] = path;
  for (const auto& [n, m] : children_) m->collect_modules(path.empty() ? n : path + "." + n, out);
}

GraphLabels Module::graph_labels() const {
  GraphLabels out;
  collect_modules("", out);
  for (const auto& [n, t] : named_parameters()) out.parameters[t.impl()] = n;
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters()) out.push_back(t);
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (auto& [name, t] : named_parameters()) n += t.numel();
  return n;
}

void Module::train(bool on) {
  training_ = on;
  on_train(on);
  for (auto& [n, m] : children_) m->train(on);
}

void Module::zero_grad() {
  for (auto& [n, t] : named_parameters()) t.zero_grad();
}

namespace {
// Re-points every handle of `param` at `converted`'s data by rewriting the shared TensorImpl.
void replace_data(const Tensor& param, const Tensor& converted) {
  TensorImpl* p = param.impl();
  p->storage = converted.storage();
  p->shape = converted.shape();
  p->strides = converted.strides();
  p->offset = converted.offset();
  p->dtype = converted.dtype();
  p->grad.reset();
}
}  // namespace

void Module::to(DType dtype) {
  NoGradGuard ng;
  for (auto& [n, t] : named_parameters()) replace_data(t, t.to(dtype).contiguous().clone());
}

void Module::to(Device device) {
  NoGradGuard ng;
  for (auto& [n, t] : named_parameters()) replace_data(t, t.to(device));
}

Device Module::device() const {
  const auto params = named_parameters();
  return params.empty() ? Device::CPU : params.front().second.device();
}

std::map<std::string, Tensor> Module::state_dict() const {
  std::map<std::string, Tensor> out;
  for (auto& [n, t] : named_parameters()) out.emplace(n, t);
  return out;
}

void Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  NoGradGuard ng;
  size_t used = 0;
  for (auto& [n, t] : named_parameters()) {
    auto it = state.find(n);
    if (it == state.end()) {
      if (strict) throw std::runtime_error("load_state_dict: missing tensor '" + one_line(n) + "'");
      continue;
    }
    if (it->second.shape() != t.shape())
      throw std::runtime_error("load_state_dict: tensor '" + n + "' has shape " + shape_str(it->second.shape()) +
                               ", the model expects " + shape_str(t.shape()));
    t.copy_(it->second);
    ++used;
  }
  if (strict && used != state.size()) {
    auto params = state_dict();
    for (auto& [n, t] : state)
      if (!params.count(n)) throw std::runtime_error("load_state_dict: unexpected tensor '" + one_line(n) + "'");
  }
}

}  // namespace nf
