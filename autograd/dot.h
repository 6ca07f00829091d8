#pragma once
// The graph behind a tensor as Graphviz DOT text: one box per recorded op (its name and output
// shape), one ellipse per leaf (parameters blue, other leaves green, named through GraphLabels),
// edges in data-flow order (from an input to the op that read it). Options add the norm of the
// gradient that reached each op in a traced backward pass, collapse modules into one box each,
// and narrow the picture to one module. docs/autograd.md shows what the pictures look like.
//
// Draw before backward(), or after backward(grad, retain_graph=true): a backward pass that frees
// the graph leaves nothing to draw (to_dot says so).
#include <string>
#include <vector>

#include "autograd/graph_labels.h"
#include "autograd/trace.h"

namespace nf {

struct DotOptions {
  GraphLabels labels;
  // When set: each op also shows ‖gradient of its output‖₂ from this trace of a backward pass of
  // the same graph ("none" where no gradient reached it), each leaf the norm of its .grad.
  const std::vector<BackwardStep>* grads = nullptr;
  // One box per module: the ops a module recorded (with its sub-modules' ops) become one box
  // labelled with the module's path and output shape, and the parameters only it reads go inside.
  // A module that recorded no op of its own (a plain container) is see-through: its children are
  // the boxes. The root module's own ops are always drawn one by one.
  bool by_module = false;
  // With by_module: these modules are drawn op by op; their sub-modules stay boxes unless listed.
  std::vector<std::string> expand;
  // Draw only the ops recorded inside this module (path from labels), which is expanded. Tensors
  // coming from outside enter as "from <module>" labels, tensors read outside leave through "to …"
  // labels. Throws std::invalid_argument if no op was recorded inside it.
  std::string focus;
  std::string title;  // a caption at the top, if not empty
};

std::string to_dot(const Tensor& root, const DotOptions& options = {});

}  // namespace nf
