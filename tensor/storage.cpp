#include "tensor/storage.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "tensor/block_cache.h"
#include "tensor/device_hooks.h"

namespace nf {
namespace {

// Under AddressSanitizer the cache is off, so use-after-free is still caught.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kCache = false;
#else
constexpr bool kCache = true;
#endif

using Cache = BlockCache;
Cache& cache() {
  static Cache* c = new Cache();  // never destroyed: tensors may outlive static destructors
  return *c;
}
size_t round_up(size_t n) { return n == 0 ? 64 : (n + 63) / 64 * 64; }

// Large blocks (≥ kLargeBlock) come from an arena instead of the exact-size free lists: ranges of
// big mmapped chunks, handed out best-fit, split, and coalesced with their free neighbours when
// freed. A training step's large tensors change sizes between phases (activations in forward,
// weight-shaped gradients in backward); exact-size lists would keep every phase's blocks
// resident at once, while the arena lets one phase's freed memory serve the next — peak RSS
// stays near the peak of live tensors. Chunks stay mapped (no page faults after the first step)
// and are advised as transparent huge pages where the kernel allows it. Caller holds Cache::mu.
constexpr size_t kLargeBlock = size_t{1} << 20;
constexpr size_t kLargeAlign = size_t{1} << 16;  // large sizes round to 64 KiB: fewer slivers
constexpr size_t kChunk = size_t{64} << 20;      // arena grows by at least 64 MiB (untouched
                                                 // pages cost no RSS)
struct Arena {
  std::map<char*, size_t> free_by_addr;        // free range start -> size
  std::multimap<size_t, char*> free_by_size;   // size -> free range start
  std::unordered_map<void*, size_t> used;      // handed-out block -> its size
  std::vector<std::pair<char*, size_t>> chunks;
  size_t reserved = 0;                         // bytes mapped

  void insert_free(char* p, size_t n) {
    free_by_addr.emplace(p, n);
    free_by_size.emplace(n, p);
  }
  void erase_free(std::map<char*, size_t>::iterator it) {
    auto range = free_by_size.equal_range(it->second);
    for (auto s = range.first; s != range.second; ++s)
      if (s->second == it->first) {
        free_by_size.erase(s);
        break;
      }
    free_by_addr.erase(it);
  }
  void* alloc(size_t n) {
    auto best = free_by_size.lower_bound(n);
    if (best == free_by_size.end()) {
      const size_t size = std::max(kChunk, (n + (size_t{2} << 20) - 1) / (size_t{2} << 20) * (size_t{2} << 20));
      void* m = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (m == MAP_FAILED) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
      madvise(m, size, MADV_HUGEPAGE);
#endif
      chunks.emplace_back(static_cast<char*>(m), size);
      reserved += size;
      insert_free(static_cast<char*>(m), size);
      best = free_by_size.lower_bound(n);
    }
    char* p = best->second;
    const size_t have = best->first;
    erase_free(free_by_addr.find(p));
    if (have > n) insert_free(p + n, have - n);
    used.emplace(p, n);
    return p;
  }
  // Returns false if p is not an arena block.
  bool free(void* vp) {
    auto u = used.find(vp);
    if (u == used.end()) return false;
    char* p = static_cast<char*>(vp);
    size_t n = u->second;
    used.erase(u);
    auto next = free_by_addr.find(p + n);  // coalesce with the following free range
    if (next != free_by_addr.end()) {
      n += next->second;
      erase_free(next);
    }
    auto after = free_by_addr.lower_bound(p);  // and with the preceding one
    if (after != free_by_addr.begin()) {
      auto prev = std::prev(after);
      if (prev->first + prev->second == p) {
        p = prev->first;
        n += prev->second;
        erase_free(prev);
      }
    }
    insert_free(p, n);
    return true;
  }
};
Arena& arena() {
  static Arena* a = new Arena();  // never destroyed, like the cache
  return *a;
}
size_t block_size(size_t nbytes) {
  const size_t n = round_up(nbytes);
  return kCache && n >= kLargeBlock ? (n + kLargeAlign - 1) / kLargeAlign * kLargeAlign : n;
}

}  // namespace

void* cpu_alloc(size_t nbytes) {
  const size_t n = block_size(nbytes);
  Cache& c = cache();
  if (kCache && n >= kLargeBlock) {
    std::lock_guard<std::mutex> lock(c.mu);
    void* p = arena().alloc(n);
    c.add_in_use(n);
    return p;
  }
  if (kCache) {
    std::lock_guard<std::mutex> lock(c.mu);
    if (void* p = c.take(n)) return p;
  }
  void* p = std::aligned_alloc(64, n);
  if (!p) throw std::bad_alloc();
  std::lock_guard<std::mutex> lock(c.mu);
  c.add_in_use(n);
  return p;
}

void cpu_free(void* p, size_t nbytes) {
  if (!p) return;
  const size_t n = block_size(nbytes);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  if (kCache && n >= kLargeBlock && arena().free(p)) {
    c.in_use -= n;
  } else if (kCache) {
    c.put(p, n);
  } else {
    c.in_use -= n;
    std::free(p);
  }
}

size_t cpu_bytes_in_use() { return cache().in_use; }
size_t cpu_bytes_cached() {
  std::lock_guard<std::mutex> lock(cache().mu);
  // exact-size free lists + the arena's mapped bytes not handed out
  size_t arena_used = 0;
  for (const auto& kv : arena().used) arena_used += kv.second;
  return cache().cached + (arena().reserved - arena_used);
}
size_t cpu_bytes_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  return cache().peak;
}
void cpu_reset_peak() {
  std::lock_guard<std::mutex> lock(cache().mu);
  cache().peak = cache().in_use;
}

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
