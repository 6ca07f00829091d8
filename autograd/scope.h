#pragma once
// Which module recorded an op. While a module's forward runs it holds a ScopeGuard (nn's
// ModuleScope), and record() stamps every node it makes with current_scope(). The scope is an
// opaque key: autograd knows nothing of modules, and GraphLabels (autograd/dot.h) maps the key to
// a module path such as "h.0.attn" when a graph is drawn or traced. The cost is two thread-local
// writes per forward call and a pointer per node; nothing numeric depends on it.
namespace nf {

// The innermost scope open on this thread, or null.
const void* current_scope();

class ScopeGuard {
 public:
  explicit ScopeGuard(const void* scope);
  ~ScopeGuard();
  ScopeGuard(const ScopeGuard&) = delete;
  ScopeGuard& operator=(const ScopeGuard&) = delete;

 private:
  const void* prev_;
};

}  // namespace nf
