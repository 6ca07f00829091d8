#include "tensor/device_hooks.h"

#include <stdexcept>

#ifdef NOISEFORMER_CUDA
#include "tensor/kernels/cuda/cuda_backend.h"
#endif

namespace nf {
#ifndef NOISEFORMER_CUDA
namespace {
[[noreturn]] void missing() {
  throw std::runtime_error("this noiseformer was built without CUDA (configure with -DNOISEFORMER_CUDA=ON)");
}
bool no_device() { return false; }
void* no_alloc(size_t) { missing(); }
void no_free(void*, size_t) {}
void no_copy(void*, const void*, size_t) { missing(); }
}  // namespace
#endif

DeviceHooks& device_hooks() {
#ifdef NOISEFORMER_CUDA
  // The CUDA backend is in place from the first use on (building its hooks touches no CUDA
  // API; available() asks the driver lazily and is false, not an error, without a GPU).
  static DeviceHooks hooks = cuda_device_hooks();
#else
  static DeviceHooks hooks{no_device, no_alloc, no_free, no_copy, no_copy};
#endif
  return hooks;
}

void require_cuda() {
#ifdef NOISEFORMER_CUDA
  if (!device_hooks().available())
    throw std::runtime_error("--device cuda: no CUDA device found (" + cuda::device_description() + ")");
#else
  throw std::runtime_error("--device cuda: this noiseformer was built without CUDA (configure with -DNOISEFORMER_CUDA=ON)");
#endif
}

Device device_named(const std::string& name) {
  if (name == "cpu") return Device::CPU;
  if (name == "cuda") {
    require_cuda();
    return Device::CUDA;
  }
  throw std::invalid_argument("--device must be cpu or cuda, got '" + name + "'");
}

}  // namespace nf
