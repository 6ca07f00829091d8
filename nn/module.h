#pragma once
// Module: the base of every layer, as in PyTorch. A module owns named parameters and named
// sub-modules; `named_parameters()` walks them with dotted names ("h.0.attn.c_attn.weight"),
// which are the names checkpoints use.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "autograd/graph_labels.h"
#include "autograd/scope.h"
#include "tensor/tensor.h"

namespace nf {

class Module {
 public:
  virtual ~Module() = default;

  // Registers (and returns) a parameter; it is marked requires_grad.
  Tensor register_parameter(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<Tensor> parameters() const;
  int64_t num_parameters() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const { return children_; }

  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }

  void zero_grad();
  // Converts every parameter in place (all handles, e.g. members of sub-modules, see the change).
  void to(DType dtype);
  void to(Device device);
  // Where the parameters live (the first one's device; CPU for a module without parameters).
  Device device() const;

  // Names for pictures and traces of the graphs this module's forward records (autograd/dot.h):
  // the path of every module below it ("" for itself, then "h.0", "h.0.attn", …), as their
  // ModuleScope keys, and every parameter by its named_parameters() name.
  GraphLabels graph_labels() const;

  // name -> tensor for every parameter; load copies values in (shapes must match).
  std::map<std::string, Tensor> state_dict() const;
  void load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

 protected:
  virtual void on_train(bool) {}

 private:
  void collect(const std::string& prefix, std::vector<std::pair<std::string, Tensor>>& out) const;
  void collect_modules(const std::string& path, GraphLabels& out) const;
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

// Held at the top of a module's forward: the ops recorded meanwhile belong to `m` (Node::scope),
// which is how a picture of the graph knows that a matmul came from "h.0.attn". Costs two
// thread-local writes; changes no result.
class ModuleScope {
 public:
  explicit ModuleScope(const Module* m) : guard_(static_cast<const void*>(m)) {}

 private:
  ScopeGuard guard_;
};

}  // namespace nf
