#include "train/draw_plan.h"

#include <stdexcept>
#include <string>

namespace nf {

uint64_t DrawPlan::draws(uint64_t from) {
  std::optional<uint64_t>& d = per_parity_[from & 1];
  if (!d) {
    const uint64_t seed = gen_.seed(), counter = gen_.counter();
    gen_.set_state(seed, from);
    try {
      probe_();
    } catch (...) {
      gen_.set_state(seed, counter);
      throw;
    }
    d = gen_.counter() - from;
    gen_.set_state(seed, counter);
  }
  return *d;
}

uint64_t DrawPlan::start(uint64_t c0, int64_t m) {
  uint64_t c = c0;
  for (int64_t i = 0; i < m; ++i) c += draws(c);
  return c;
}

void DrawPlan::check(uint64_t from, uint64_t to) {
  const uint64_t want = draws(from);
  if (to - from != want)
    throw std::logic_error("data parallelism: a forward pass drew " + std::to_string(to - from) +
                           " random numbers where the plan measured " + std::to_string(want) +
                           "; this model's draws depend on its data, so ranks cannot reproduce one process");
}

}  // namespace nf
