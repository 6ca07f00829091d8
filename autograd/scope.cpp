#include "autograd/scope.h"

namespace nf {

namespace {
thread_local const void* g_scope = nullptr;
}

const void* current_scope() { return g_scope; }
ScopeGuard::ScopeGuard(const void* scope) : prev_(g_scope) { g_scope = scope; }
ScopeGuard::~ScopeGuard() { g_scope = prev_; }

}  // namespace nf
