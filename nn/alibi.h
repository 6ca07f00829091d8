#pragma once
// ALiBi, Attention with Linear Biases (Press, Smith & Lewis, "Train Short, Test Long", ICLR 2022),
// as a fixed position bias on the attention logits (config key pos_bias = "alibi"):
//   Z_h[i, j] += −m_h · (i − j)    for every key j ≤ i of query i
//   m_h = 2^(−8(h+1)/H)            head h = 0 … H−1 of H: a geometric sequence from 2^(−8/H) to 2^(−8)
// added after the 1/√d scaling (and NoiseFormer's noise), before the causal mask. It has no
// parameters: each head prefers recent keys at its own fixed rate. In this project it is a
// control (docs/results.md): selective attention learns to down-weight old keys, and a model
// given a recency preference for free shows how much of selective's gain that alone explains.
#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace nf {

// The position biases a config may name: "none" (the default) or "alibi".
const std::vector<std::string>& pos_bias_names();

// m_h for h = 0 … H−1.
std::vector<double> alibi_slopes(int64_t H);

// The bias (1, H, Tq, Tk) for queries at positions q_pos and keys at k_pos: −m_h · (q_i − k_j)
// where k_j ≤ q_i, and 0 where k_j > q_i (a future key, which the causal mask removes anyway).
// A constant: no gradient flows into it.
Tensor alibi_bias(int64_t H, const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos, DType dtype,
                  Device device = Device::CPU);

}  // namespace nf
