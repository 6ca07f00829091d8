#pragma once
// The CUDA backend's plumbing, seen from C++ (no CUDA headers here, so any .cpp may include it
// when NOISEFORMER_CUDA is defined): installing the DeviceHooks, the caching device allocator,
// and a few runtime queries. The kernels themselves are declared in tensor/kernels/cuda/cuda_ops.h.
// See docs/cuda.md.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/device_hooks.h"

namespace nf {

// The hooks the CUDA backend provides (available/alloc/free/copy_to_device/copy_to_host).
// tensor/device_hooks.cpp starts from these when NOISEFORMER_CUDA is defined, so the backend
// is in place before any CUDA tensor can be made. Building them touches no CUDA API.
DeviceHooks cuda_device_hooks();

namespace cuda {

// Number of usable devices (0 when there is no GPU or no driver; never throws, never crashes).
// Queried once and remembered.
int device_count();
bool available();
// "NVIDIA H100 80GB HBM3, sm_90, 79.1 GiB" or "no CUDA device (<reason>)".
std::string device_description();
// Throws std::runtime_error("cuda: no CUDA device ...") when available() is false.
void require_device(const char* what);

// ---- the caching device allocator ----------------------------------------------------------
// Freed blocks are kept in per-size free lists (sizes rounded up to 512 bytes) and handed out
// again, so a training step that repeats its shapes calls cudaMalloc only on its first
// iteration and never calls cudaFree. When cudaMalloc fails, every cached block is released and
// the allocation retried once before the out-of-memory error is thrown. Every kernel runs on
// one stream (the legacy default stream), so a block freed after its last use was enqueued may
// be handed to later work at once.
void* device_alloc(size_t nbytes);
void device_free(void* p, size_t nbytes);
void release_cached();  // cudaFree every cached block
size_t bytes_in_use();
size_t bytes_cached();
size_t bytes_peak();     // the largest bytes_in_use() since the last reset
void reset_peak();
int64_t malloc_calls();  // cudaMalloc calls so far (tests: a repeated step makes none)

// Waits for all queued work (benchmarks time with it).
void synchronize();

// ---- matmul precision -------------------------------------------------------------------------
// TF32 tensor-core matmuls for float32 (≈10-bit mantissa products). Off by default: float32
// matmuls are then full float32, as on the CPU. Also enabled by NOISEFORMER_TF32=1 at start-up.
void set_allow_tf32(bool on);
bool allow_tf32();

}  // namespace cuda
}  // namespace nf
