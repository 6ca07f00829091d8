// The CUDA backend's runtime side: device discovery, the caching device allocator, the
// DeviceHooks that Storage and Tensor::to(Device) use, and synchronisation. See docs/cuda.md.
#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/block_cache.h"
#include "tensor/kernels/cuda/common.cuh"

namespace nf {
namespace cuda {

namespace {

struct DeviceInfo {
  int count = 0;
  std::string reason;  // why there is none
};

const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo d;
    int n = 0;
    const cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
      cudaGetLastError();
      d.reason = cudaGetErrorString(e);
      return d;
    }
    d.count = n;
    if (n == 0) d.reason = "cudaGetDeviceCount returned 0";
    return d;
  }();
  return info;
}

// ---- caching allocator ----------------------------------------------------------------------------
struct Cache : BlockCache {
  int64_t mallocs = 0;
};
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may outlive static destructors
  return *c;
}
size_t round_up(size_t n) { return n == 0 ? 512 : (n + 511) / 512 * 512; }

void release_locked(Cache& c) {
  c.drain([](void* p) { cudaFree(p); });
}

}  // namespace

int device_count() { return device_info().count; }
bool available() { return device_info().count > 0; }

std::string device_description() {
  if (!available()) return "no CUDA device (" + device_info().reason + ")";
  int dev = 0;
  cudaGetDevice(&dev);
  cudaDeviceProp p{};
  if (cudaGetDeviceProperties(&p, dev) != cudaSuccess) return "CUDA device " + std::to_string(dev);
  char gib[32];
  std::snprintf(gib, sizeof gib, "%.1f", static_cast<double>(p.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));
  return std::string(p.name) + ", sm_" + std::to_string(p.major) + std::to_string(p.minor) + ", " + gib + " GiB";
}

void require_device(const char* what) {
  if (!available())
    throw std::runtime_error(std::string("cuda: ") + what + ": no CUDA device (" + device_info().reason + ")");
}

void* device_alloc(size_t nbytes) {
  require_device("alloc");
  const size_t n = round_up(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (void* p = c.take(n)) return p;
  void* p = nullptr;
  cudaError_t e = cudaMalloc(&p, n);
  ++c.mallocs;
  if (e == cudaErrorMemoryAllocation && c.cached > 0) {  // give the cache back, then retry once
    cudaGetLastError();
    release_locked(c);
    e = cudaMalloc(&p, n);
    ++c.mallocs;
  }
  if (e != cudaSuccess) {
    cudaGetLastError();
    throw std::runtime_error("cuda: out of device memory allocating " + std::to_string(nbytes) + " bytes (" +
                             std::to_string(c.in_use) + " in use): " + cudaGetErrorString(e));
  }
  c.add_in_use(n);
  return p;
}

void device_free(void* p, size_t nbytes) {
  if (!p) return;
  const size_t n = round_up(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.put(p, n);
}

void release_cached() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (available()) release_locked(c);
}

size_t bytes_in_use() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().in_use;
}
size_t bytes_cached() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().cached;
}
size_t bytes_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().peak;
}
void reset_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().peak = cache().in_use;
}
int64_t malloc_calls() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().mallocs;
}

void synchronize() {
  if (available()) check(cudaDeviceSynchronize(), "synchronize");
}

namespace {
bool hook_available() { return available(); }
void* hook_alloc(size_t nbytes) { return device_alloc(nbytes); }
void hook_free(void* p, size_t nbytes) { device_free(p, nbytes); }
void hook_copy_to_device(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  require_device("copy to device");
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyHostToDevice), "copy to device");
}
void hook_copy_to_host(void* dst, const void* src, size_t nbytes) {
  if (nbytes == 0) return;
  require_device("copy to host");
  // Synchronous on the legacy default stream: every kernel that wrote src has finished.
  check(cudaMemcpy(dst, src, nbytes, cudaMemcpyDeviceToHost), "copy to host");
}
}  // namespace

}  // namespace cuda

DeviceHooks cuda_device_hooks() {
  return DeviceHooks{cuda::hook_available, cuda::hook_alloc, cuda::hook_free, cuda::hook_copy_to_device,
                     cuda::hook_copy_to_host};
}

}  // namespace nf
