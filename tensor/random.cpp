#include "tensor/random.h"

#include <cmath>

namespace nf {

double Generator::normal_at(uint64_t pair) const {
  const double u1 = uniform_at(2 * pair), u2 = uniform_at(2 * pair + 1);
  return std::sqrt(-2.0 * std::log(1.0 - u1)) * std::cos(6.283185307179586 * u2);
}

double Generator::normal() {
  // Keep pairs aligned so normal() and bulk fills agree on what a counter means.
  if (counter_ & 1) ++counter_;
  const double z = normal_at(counter_ / 2);
  counter_ += 2;
  return z;
}

Generator& default_generator() {
  static Generator g(1337);
  return g;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

}  // namespace nf
