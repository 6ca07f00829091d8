#pragma once
// Storage: one reference-counted block of memory that any number of tensors view.
// Views (transpose, narrow, reshape, expand) share a Storage and differ only in shape, strides
// and offset, so they cost no copy (docs/tensor.md).
#include <cstddef>
#include <memory>

#include "tensor/dtype.h"

namespace nf {

// The CPU caching allocator: freed blocks are kept in per-size free lists and handed out again,
// so a training step that repeats the same shapes allocates from the system only on its first
// iteration. Blocks of 1 MiB and more come instead from an arena of large mapped chunks (best
// fit, split, coalesced on free), so memory freed by one phase of a step (forward activations)
// serves the next (backward gradients) and peak RSS stays near the peak of live tensors
// (docs/performance.md). Blocks are 64-byte aligned (one cache line, one AVX-512 register).
void* cpu_alloc(size_t nbytes);
void cpu_free(void* p, size_t nbytes);
// Bytes currently held in the cache and handed out (for benchmarks and memory tests).
size_t cpu_bytes_in_use();
size_t cpu_bytes_cached();
// The largest cpu_bytes_in_use() since the last reset (study tools: peak tensor memory of a run).
size_t cpu_bytes_peak();
void cpu_reset_peak();  // peak := bytes in use now

struct Storage {
  void* data = nullptr;
  size_t nbytes = 0;
  Device device = Device::CPU;

  static std::shared_ptr<Storage> allocate(size_t nbytes, Device device);
  ~Storage();
  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
};

}  // namespace nf
