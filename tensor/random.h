#pragma once
// The random number generator: counter-based, so draw n of a seed is a pure function
// hash(seed, n). That makes every draw reproducible from (seed, counter) alone — the whole
// state a checkpoint needs to resume exactly — and lets threads (or a GPU) fill a tensor in
// parallel with the same numbers a serial loop would produce.
//
//   u64(n)     = splitmix64_mix(seed * 0x9E3779B97F4A7C15 + n)   (Steele, Lea, Flood 2014)
//   uniform    = top 53 bits of u64 / 2^53 in [0, 1)
//   normal     = Box–Muller on two uniforms: sqrt(-2 ln(1-u1)) * cos(2π u2), one normal per pair
#include <cstdint>

namespace nf {

inline uint64_t splitmix64_mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

class Generator {
 public:
  explicit Generator(uint64_t seed = 1337) : seed_(seed), counter_(0) {}
  void manual_seed(uint64_t seed) { seed_ = seed; counter_ = 0; }

  // The n-th raw draw of this seed (does not advance the generator).
  uint64_t at(uint64_t n) const { return splitmix64_mix(seed_ * 0x9E3779B97F4A7C15ULL + n); }
  double uniform_at(uint64_t n) const { return static_cast<double>(at(n) >> 11) * 0x1.0p-53; }
  double normal_at(uint64_t pair) const;  // uses draws 2*pair and 2*pair+1

  uint64_t next_u64() { return at(counter_++); }
  double uniform() { return uniform_at(counter_++); }
  double normal();
  // Reserves `n` consecutive counters and returns the first, for bulk parallel fills.
  uint64_t reserve(uint64_t n) { uint64_t c = counter_; counter_ += n; return c; }

  uint64_t seed() const { return seed_; }
  uint64_t counter() const { return counter_; }
  void set_state(uint64_t seed, uint64_t counter) { seed_ = seed; counter_ = counter; }

 private:
  uint64_t seed_, counter_;
};

// The process-wide generator used when none is given (weight init, dropout by default).
Generator& default_generator();
void manual_seed(uint64_t seed);

}  // namespace nf
