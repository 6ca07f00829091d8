#include "nn/alibi.h"

#include <cmath>

namespace nf {

const std::vector<std::string>& pos_bias_names() {
  static const std::vector<std::string> names{"none", "alibi"};
  return names;
}

std::vector<double> alibi_slopes(int64_t H) {
  std::vector<double> m(static_cast<size_t>(H));
  for (int64_t h = 0; h < H; ++h) m[h] = std::exp2(-8.0 * static_cast<double>(h + 1) / static_cast<double>(H));
  return m;
}

Tensor alibi_bias(int64_t H, const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos, DType dtype,
                  Device device) {
  const std::vector<double> m = alibi_slopes(H);
  const int64_t Tq = static_cast<int64_t>(q_pos.size()), Tk = static_cast<int64_t>(k_pos.size());
  std::vector<double> b(static_cast<size_t>(H * Tq * Tk), 0.0);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < Tq; ++i)
      for (int64_t j = 0; j < Tk; ++j) {
        const int64_t dist = q_pos[i] - k_pos[j];
        if (dist >= 0) b[(h * Tq + i) * Tk + j] = -m[h] * static_cast<double>(dist);
      }
  return from_vector(b, {1, H, Tq, Tk}).to(dtype).to(device);
}

}  // namespace nf
