// The backward engine: topological sort of the recorded graph, then one sweep from the output
// to the leaves — micrograd's algorithm, with tensors instead of scalars.
#include <unordered_map>
#include <unordered_set>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/scope.h"

namespace nf {

namespace {
thread_local bool g_grad_enabled = true;
thread_local BackwardObserver* g_observer = nullptr;
thread_local GradReadyFn* g_grad_ready = nullptr;
}

GradReadyHook::GradReadyHook(GradReadyFn fn) : fn_(std::move(fn)), prev_(g_grad_ready) { g_grad_ready = &fn_; }
GradReadyHook::~GradReadyHook() { g_grad_ready = prev_; }

bool grad_enabled() { return g_grad_enabled; }
NoGradGuard::NoGradGuard() : prev_(g_grad_enabled) { g_grad_enabled = false; }
NoGradGuard::~NoGradGuard() { g_grad_enabled = prev_; }

ObserveBackward::ObserveBackward(BackwardObserver& observer) : prev_(g_observer) { g_observer = &observer; }
ObserveBackward::~ObserveBackward() { g_observer = prev_; }

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}
bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!g_grad_enabled) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

namespace {
// A node keeps of each input only what the walk needs, never its data (so an activation that no
// closure saved — the attention scores before their softmax, say — is freed as soon as the
// forward pass drops it, as in PyTorch, instead of living until the node's backward):
//  - an input that does not require grad: nothing (an undefined tensor; its gradient is dropped);
//  - a leaf that requires grad: the tensor itself (its TensorImpl receives .grad);
//  - any other input: a shell with its shape, dtype, device and grad_fn but no storage.
const std::shared_ptr<Storage>& empty_storage(Device d) {
  static const std::shared_ptr<Storage> cpu = [] {
    auto s = std::make_shared<Storage>();
    s->device = Device::CPU;
    return s;
  }();
  static const std::shared_ptr<Storage> cuda = [] {
    auto s = std::make_shared<Storage>();
    s->device = Device::CUDA;
    return s;
  }();
  return d == Device::CPU ? cpu : cuda;
}
Tensor edge_of(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return Tensor();
  if (!t.grad_fn()) return t;
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = empty_storage(t.device());
  impl->shape = t.shape();
  impl->strides = t.strides();
  impl->dtype = t.dtype();
  impl->requires_grad = true;
  impl->grad_fn = t.grad_fn();
  return Tensor(impl);
}
}  // namespace

void record(Tensor& out, const char* name, std::vector<Tensor> inputs, BackwardFn fn) {
  auto node = std::make_shared<Node>();
  node->name = name;
  for (Tensor& t : inputs) t = edge_of(t);
  node->inputs = std::move(inputs);
  node->backward = std::move(fn);
  node->scope = current_scope();
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
}

// Post-order DFS without recursion (a deep GPT graph would overflow the stack). The order holds
// owning pointers: freeing a node's inputs during the sweep must not free nodes still to come.
std::vector<std::shared_ptr<Node>> topological_order(const std::shared_ptr<Node>& root) {
  std::vector<std::shared_ptr<Node>> order;
  std::unordered_set<Node*> seen{root.get()};
  std::vector<std::pair<std::shared_ptr<Node>, size_t>> stack{{root, 0}};
  while (!stack.empty()) {
    auto& [node, next] = stack.back();
    if (next < node->inputs.size()) {
      const Tensor& in = node->inputs[next++];
      std::shared_ptr<Node> child = in.defined() ? in.grad_fn() : nullptr;
      if (child && seen.insert(child.get()).second) stack.push_back({child, 0});
    } else {
      order.push_back(node);
      stack.pop_back();
    }
  }
  return order;  // children before parents; walk it backwards
}

namespace {

void accumulate(Tensor& slot, const Tensor& g) {
  if (!slot.defined()) {
    slot = g;
  } else if (slot.use_count() == 1 && slot.storage().use_count() == 1 && slot.device() == Device::CPU &&
             slot.shape() == g.shape() && slot.dtype() == g.dtype()) {
    // Nothing but this slot sees the buffer (one handle to its TensorImpl, one TensorImpl on its
    // storage — so it is no closure's saved tensor, no user's seed, not `g`): add in place.
    slot.add_(g);
  } else {
    slot = add(slot, g);  // fresh tensor: `slot` may alias a tensor a closure still holds
  }
}

}  // namespace

void run_backward(const Tensor& root, const Tensor& grad, bool retain_graph) {
  if (!root.requires_grad())
    op_error("backward", "the tensor does not require grad (no graph to walk)");
  Tensor seed = grad;
  if (!seed.defined()) {
    if (root.numel() != 1)
      op_error("backward", "grad can be implicit only for a one-element output, got shape " +
                               shape_str(root.shape()));
    seed = ones(root.shape(), root.dtype(), root.device());
  } else if (seed.shape() != root.shape()) {
    op_error("backward", "grad shape " + shape_str(seed.shape()) + " != output shape " +
                             shape_str(root.shape()));
  }
  NoGradGuard no_record;  // backward itself is not recorded

  auto accumulate_leaf = [](const Tensor& leaf, const Tensor& g) {
    TensorImpl* impl = leaf.impl();
    if (!impl->grad) {
      // Own the buffer, always: `g` may be a view of something else (e.g. an expanded ones), and
      // even a contiguous g whose storage has one owner can be a handle shared with the caller's
      // grad argument or with pending gradients of other nodes (add passes g through unchanged);
      // accumulating in place into it later would corrupt those.
      // (A fresh contiguous g that nothing else holds — the usual matmul or kernel output — is
      // taken as it is, saving a copy per parameter per step.)
      const bool exclusive = g.use_count() == 1 && g.storage().use_count() == 1 && g.is_contiguous() &&
                             g.offset() == 0 && g.storage()->nbytes == g.numel() * dtype_size(g.dtype());
      Tensor own = exclusive ? g : g.device() == Device::CPU ? g.clone() : g.contiguous();
      impl->grad = std::make_shared<TensorImpl>(*own.impl());
      impl->grad->grad_fn.reset();
      impl->grad->requires_grad = false;
    } else {
      Tensor(impl->grad).add_(g);
    }
  };

  GradReadyFn* const ready = g_grad_ready;
  if (!root.grad_fn()) {  // backward() on a leaf: its gradient is the seed
    accumulate_leaf(root, seed);
    if (ready) (*ready)(root);
    return;
  }

  std::vector<std::shared_ptr<Node>> order = topological_order(root.grad_fn());
  // With a gradient-ready hook: how many nodes still to be swept read each leaf. A leaf is
  // reported when its count reaches zero, whether or not the last of them passed it a gradient.
  std::unordered_map<TensorImpl*, int> readers;
  if (ready)
    for (const auto& node : order)
      for (const Tensor& in : node->inputs)
        if (in.defined() && in.requires_grad() && !in.grad_fn()) ++readers[in.impl()];
  auto leaves_done = [&](const std::vector<Tensor>& inputs) {
    for (const Tensor& in : inputs)
      if (in.defined() && in.requires_grad() && !in.grad_fn() && --readers[in.impl()] == 0) (*ready)(in);
  };
  std::unordered_map<Node*, Tensor> grads;
  grads[root.grad_fn().get()] = seed;
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    Node* node = it->get();
    auto found = grads.find(node);
    if (found == grads.end()) {  // no gradient flowed here
      if (ready) leaves_done(node->inputs);
      continue;
    }
    Tensor g = std::move(found->second);
    grads.erase(found);
    if (!node->backward)
      op_error("backward", "graph of '" + node->name +
                               "' was already freed; call backward(grad, retain_graph=true) "
                               "to walk it twice");
    if (node->backward_into && node->inputs.size() == 1 && node->inputs[0].defined() &&
        node->inputs[0].requires_grad() && node->inputs[0].grad_fn() && node->inputs[0].device() == Device::CPU) {
      // A part of its input (narrow): add g into that part of the input's gradient buffer.
      if (g_observer) g_observer->visit(*node, g, {});
      const Tensor& in = node->inputs[0];
      Tensor& slot = grads[in.grad_fn().get()];
      if (!slot.defined()) {
        slot = zeros(in.shape(), in.dtype(), in.device());
      } else if (!(slot.use_count() == 1 && slot.storage().use_count() == 1 && slot.shape() == in.shape())) {
        slot = slot.clone();  // not ours alone: accumulate into a private copy
      }
      node->backward_into(slot, g);
      // (its one input is not a leaf: nothing to report)
      if (!retain_graph) {
        node->backward = nullptr;
        node->backward_into = nullptr;
        node->inputs.clear();
      }
      continue;
    }
    std::vector<Tensor> in_grads = node->backward(g);
    if (g_observer) g_observer->visit(*node, g, in_grads);
    for (size_t i = 0; i < node->inputs.size() && i < in_grads.size(); ++i) {
      const Tensor& in = node->inputs[i];
      const Tensor& ig = in_grads[i];
      if (!in.defined() || !ig.defined() || !in.requires_grad()) continue;
      if (ig.shape() != in.shape())
        op_error("backward", "'" + node->name + "' returned grad of shape " +
                                 shape_str(ig.shape()) + " for input " + std::to_string(i) +
                                 " of shape " + shape_str(in.shape()));
      if (in.grad_fn()) accumulate(grads[in.grad_fn().get()], ig);
      else accumulate_leaf(in, ig);
    }
    if (ready) leaves_done(node->inputs);
    if (!retain_graph) {  // free saved tensors as soon as this node is done
      node->backward = nullptr;
      node->backward_into = nullptr;
      node->inputs.clear();
    }
  }
}

}  // namespace nf
