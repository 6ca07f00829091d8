#pragma once
// The names a picture (autograd/dot.h) or a trace (autograd/trace.h) gives to what the graph
// holds only as pointers: the scope keys on nodes (autograd/scope.h) and the leaf tensors. nn's
// Module::graph_labels() fills one from a model: module paths ("h.0.attn") and parameter names
// ("h.0.attn.c_attn.weight"); a caller adds the inputs it wants named.
#include <string>
#include <unordered_map>

#include "tensor/tensor.h"

namespace nf {

struct GraphLabels {
  // scope key -> module path; "" is the root module. A node whose scope is missing here counts
  // as recorded by the root.
  std::unordered_map<const void*, std::string> modules;
  // Leaves by their TensorImpl: parameters, and other leaves the caller names ("inputs").
  std::unordered_map<const TensorImpl*, std::string> parameters;
  std::unordered_map<const TensorImpl*, std::string> inputs;

  // The module path of a scope key ("" when unknown).
  std::string module_of(const void* scope) const {
    auto it = modules.find(scope);
    return it == modules.end() ? std::string() : it->second;
  }
};

}  // namespace nf
