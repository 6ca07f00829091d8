#include "tensor/storage.h"

#include <cstdlib>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/device_hooks.h"

namespace nf {
namespace {

// Under AddressSanitizer the cache is off, so use-after-free is still caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCache = false;
#else
constexpr bool kCache = true;
#endif

struct Cache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // rounded size -> blocks
  size_t in_use = 0, cached = 0;
};
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may outlive static destructors
  return *c;
}
size_t round_up(size_t n) { return n == 0 ? 64 : (n + 63) / 64 * 64; }

}  // namespace

void* cpu_alloc(size_t nbytes) {
  const size_t n = round_up(nbytes);
  Cache& c = cache();
  if (kCache) {
    std::lock_guard<std::mutex> lock(c.mu);
    auto it = c.free_blocks.find(n);
    if (it != c.free_blocks.end() && !it->second.empty()) {
      void* p = it->second.back();
      it->second.pop_back();
      c.cached -= n;
      c.in_use += n;
      return p;
    }
  }
  void* p = std::aligned_alloc(64, n);
  if (!p) throw std::bad_alloc();
  std::lock_guard<std::mutex> lock(c.mu);
  c.in_use += n;
  return p;
}

void cpu_free(void* p, size_t nbytes) {
  if (!p) return;
  const size_t n = round_up(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  c.in_use -= n;
  if (kCache) {
    c.free_blocks[n].push_back(p);
    c.cached += n;
  } else {
    std::free(p);
  }
}

void cpu_release_cached() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  for (auto& kv : c.free_blocks)
    for (void* p : kv.second) std::free(p);
  c.free_blocks.clear();
  c.cached = 0;
}

size_t cpu_bytes_in_use() { return cache().in_use; }
size_t cpu_bytes_cached() { return cache().cached; }

std::shared_ptr<Storage> Storage::allocate(size_t nbytes, Device device) {
  auto s = std::make_shared<Storage>();
  s->nbytes = nbytes;
  s->device = device;
  if (device == Device::CPU) {
    s->data = cpu_alloc(nbytes);
  } else {
    s->data = device_hooks().alloc(nbytes);
  }
  return s;
}

Storage::~Storage() {
  if (device == Device::CPU) cpu_free(data, nbytes);
  else if (data) device_hooks().free(data, nbytes);
}

}  // namespace nf
