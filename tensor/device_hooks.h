#pragma once
// The seam between the CPU core and an optional accelerator backend. The CPU build installs
// hooks that explain the backend is missing; the CUDA backend (tensor/kernels/cuda/) replaces them at
// start-up. Ops consult `device_hooks()` only through Storage and Tensor::to(Device), so models
// never change when a backend is added.
#include <cstddef>

namespace nf {

struct DeviceHooks {
  bool (*available)();
  void* (*alloc)(size_t nbytes);
  void (*free)(void* p, size_t nbytes);
  void (*copy_to_device)(void* dst, const void* src, size_t nbytes);
  void (*copy_to_host)(void* dst, const void* src, size_t nbytes);
};

DeviceHooks& device_hooks();
// Throws a one-line error when no usable CUDA device exists (e.g. `--device cuda` on a CPU box).
void require_cuda();

}  // namespace nf
