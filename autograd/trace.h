#pragma once
// A backward pass, node by node, in the order the engine runs it: for each node its op, module,
// output shape and the norm of the gradient that reached it, and where it sent gradients. Built
// on the engine's own BackwardObserver (autograd/node.h), so the order is the engine's, not a
// re-derivation of it. For teaching (`noiseformer trace`) and for tests of the engine's order.
#include <limits>
#include <string>
#include <vector>

#include "autograd/graph_labels.h"
#include "autograd/node.h"

namespace nf {

struct BackwardStep {
  const Node* node = nullptr;  // a key only: without retain_graph the node may be gone afterwards
  std::string op;
  const void* scope = nullptr;  // Node::scope
  Shape shape;                  // the node's output shape (that of the gradient it received)
  double grad_norm = 0;         // ‖d loss / d output‖₂

  struct Input {
    bool needs_grad = false;           // false: an input no gradient flows to (token ids, a constant, ε)
    Shape shape;                       // (empty when !needs_grad: the graph keeps no shape for those)
    const Node* node = nullptr;        // the op that produced it, or null for a leaf
    std::string op;                    // that op's name
    const TensorImpl* leaf = nullptr;  // a leaf that receives .grad (parameters, marked inputs)
    // ‖gradient sent to this input‖₂; NaN when none was returned or the node added it straight
    // into its input's gradient buffer (Node::backward_into).
    double grad_norm = std::numeric_limits<double>::quiet_NaN();
  };
  std::vector<Input> inputs;
};

// Runs root.backward(grad, retain_graph) and returns the nodes the engine ran, in its order (a
// node no gradient reached is not run, so not listed). Gradients land in leaves as usual.
std::vector<BackwardStep> trace_backward(const Tensor& root, const Tensor& grad = Tensor(), bool retain_graph = false);

// ‖t‖₂ computed in double, for any float dtype, layout or device.
double l2_norm(const Tensor& t);

// The trace as a table, one line per step after a header: step, op, module ("-": the root
// module), output shape, ‖grad‖, then each input as "<producer op | leaf name> <shape> ‖grad‖"
// ("no grad" for an input that needs none).
std::string format_trace(const std::vector<BackwardStep>& steps, const GraphLabels& labels);

}  // namespace nf
