#include "tensor/device_hooks.h"

#include <stdexcept>

namespace nf {
namespace {
[[noreturn]] void missing() {
  throw std::runtime_error("this noiseformer was built without CUDA (configure with -DNOISEFORMER_CUDA=ON)");
}
bool no_device() { return false; }
void* no_alloc(size_t) { missing(); }
void no_free(void*, size_t) {}
void no_copy(void*, const void*, size_t) { missing(); }
}  // namespace

DeviceHooks& device_hooks() {
  static DeviceHooks hooks{no_device, no_alloc, no_free, no_copy, no_copy};
  return hooks;
}

void require_cuda() {
  if (!device_hooks().available())
    throw std::runtime_error("--device cuda: no usable CUDA device (or CUDA support not built)");
}

}  // namespace nf
