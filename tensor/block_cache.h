#pragma once
// The bookkeeping both caching allocators share (CPU: tensor/storage.cpp, CUDA:
// tensor/kernels/cuda/allocator.cu): freed blocks kept on one list per rounded size, so the next request
// of that size is a pop instead of a trip to the system, and the byte totals the allocator
// statistics report. Each allocator rounds sizes its own way and holds `mu` around every call.
#include <cstddef>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace nf {

struct BlockCache {
  std::mutex mu;
  std::unordered_map<size_t, std::vector<void*>> free_blocks;  // rounded size -> blocks
  size_t in_use = 0, cached = 0, peak = 0;

  void add_in_use(size_t n) {
    in_use += n;
    if (in_use > peak) peak = in_use;
  }
  // A cached block of exactly n bytes, now counted in use; nullptr if there is none.
  void* take(size_t n) {
    auto it = free_blocks.find(n);
    if (it == free_blocks.end() || it->second.empty()) return nullptr;
    void* p = it->second.back();
    it->second.pop_back();
    cached -= n;
    add_in_use(n);
    return p;
  }
  // Keeps a block of n bytes that is no longer in use for a later take(n).
  void put(void* p, size_t n) {
    in_use -= n;
    free_blocks[n].push_back(p);
    cached += n;
  }
  // Hands every cached block to release(p) and forgets them.
  template <class F>
  void drain(F&& release) {
    for (auto& kv : free_blocks)
      for (void* p : kv.second) release(p);
    free_blocks.clear();
    cached = 0;
  }
};

}  // namespace nf
