#pragma once
// A Node is one recorded operation in the autograd graph: the tensors it read (its edges back
// toward the leaves) and a closure that, given d(loss)/d(output), returns d(loss)/d(input) for
// each input. That is all the engine needs (docs/autograd.md).
//
// Closures capture what backward needs. They must not capture the op's own output as a full
// Tensor (output -> grad_fn -> closure -> output is a cycle that would leak): capture
// `out.detach()`, which shares the data without the history.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nf {

using BackwardFn = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

struct Node {
  std::string name;
  std::vector<Tensor> inputs;  // grads returned by `backward` line up with these
  BackwardFn backward;
  // The module whose forward was running when the op was recorded (current_scope(),
  // autograd/scope.h), or null. Only pictures and traces read it, as a key into GraphLabels.
  const void* scope = nullptr;
  // Optional, for ops whose output is a part of their single input (narrow, hence split): adds
  // grad_output into the matching part of the input's gradient buffer `input_grad` (full input
  // shape, owned by the engine), instead of `backward` building a zero tensor of the input's
  // shape per part. The engine uses it when the input is not a leaf; `backward` stays valid.
  std::function<void(Tensor& input_grad, const Tensor& grad_output)> backward_into;
};

// ---- grad mode ---------------------------------------------------------------------------------
bool grad_enabled();
// RAII guard, like torch::NoGradGuard: nothing is recorded while it lives.
class NoGradGuard {
 public:
  NoGradGuard();
  ~NoGradGuard();
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};
using no_grad = NoGradGuard;

// True when grad mode is on and at least one input requires grad: only then do ops record.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Makes `out` the output of a new node `name` over `inputs` with backward `fn`.
void record(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn);

// Every node behind `root`, each listed after the nodes that produced its inputs (a post-order
// depth-first walk). The engine runs them in reverse; pictures and traces use the same order.
// The list owns its nodes, so the walk may free their inputs without freeing nodes to come.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root);

// A look at the backward sweep as it runs (autograd/trace.h builds traces on it). `visit` is
// called once per node the engine runs, in the engine's order, with the gradient of the node's
// output and the gradients it returned for its inputs (lined up with node.inputs; empty when the
// node added straight into its input's buffer, see Node::backward_into). The tensors must only
// be read, and no handle to them kept: the engine's in-place accumulation depends on it.
class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  virtual void visit(const Node& node, const Tensor& grad_output, const std::vector<Tensor>& grad_inputs) = 0;
};
// RAII: `observer` sees the backward passes run on this thread while the guard lives.
class ObserveBackward {
 public:
  explicit ObserveBackward(BackwardObserver& observer);
  ~ObserveBackward();
  ObserveBackward(const ObserveBackward&) = delete;
  ObserveBackward& operator=(const ObserveBackward&) = delete;

 private:
  BackwardObserver* prev_;
};

// The engine: back-propagates `grad` (d loss / d root) through root's graph in reverse
// topological order, accumulating into leaves' .grad(). Frees the graph unless retain_graph.
void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph);

// ---- gradient-ready hook -----------------------------------------------------------------------
// While a GradReadyHook lives, run_backward on this thread calls it once for each leaf that
// requires grad, the moment the sweep has passed every node reading that leaf: from then on the
// leaf's .grad() holds its whole gradient of this backward pass. Data parallelism
// (dist/grad_reducer.h) uses it to start summing a bucket of gradients over the ranks while the
// rest of the backward pass still runs, as PyTorch's DDP does with its autograd hooks. A leaf the
// graph does not reach is not reported. Without a hook the engine does no extra work.
using GradReadyFn = std::function<void(const Tensor& leaf)>;
class GradReadyHook {
 public:
  explicit GradReadyHook(GradReadyFn fn);
  ~GradReadyHook();  // puts back the hook that was set before (usually none)
  GradReadyHook(const GradReadyHook&) = delete;
  GradReadyHook& operator=(const GradReadyHook&) = delete;

 private:
  GradReadyFn fn_;
  GradReadyFn* prev_;
};

}  // namespace nf
