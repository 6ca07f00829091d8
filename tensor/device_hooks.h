#pragma once
// The seam between the CPU core and an optional accelerator backend. The CPU build installs
// hooks that explain the backend is missing; the CUDA backend (tensor/kernels/cuda/) replaces them at
// start-up. Ops consult `device_hooks()` only through Storage and Tensor::to(Device), so models
// never change when a backend is added.
#include <cstddef>
#include <string>

#include "tensor/dtype.h"

namespace nf {

struct DeviceHooks {
  bool (*available)();
  void* (*alloc)(size_t nbytes);
  void (*free)(void* p, size_t nbytes);
  void (*copy_to_device)(void* dst, const void* src, size_t nbytes);
  void (*copy_to_host)(void* dst, const void* src, size_t nbytes);
};

DeviceHooks& device_hooks();
// Throws a one-line error when CUDA cannot be used: a CPU-only build says it was built without
// CUDA; a CUDA build on a machine without a GPU says no CUDA device was found, and why.
void require_cuda();
// The device a `--device` value names ("cpu" or "cuda"; cuda checked with require_cuda()).
// Throws std::invalid_argument for any other name.
Device device_named(const std::string& name);

}  // namespace nf
