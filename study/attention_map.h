#pragma once
// `noiseformer attention-map`: every head's attention map of one layer for one prompt, as a PNG
// grid of T×T heatmaps (row = query position i, column = key position j; future cells j > i are
// grey). What is shown depends on the variant:
//   base, symmetric     A = softmax(Z + M)
//   noise-v1, noise-v2  two rows: noise-free (N = μ, the eval mean) and sampled (N = μ + σ ε,
//                       training-mode noise with dropout off), in every layer alike
//   diff, shared-diff   three rows: A1, A2 and A1 − λA2 (diverging colours: blue < 0 < red)
//   selective           the mask F (one per layer, from head 0) and the final maps softmax(Z − F + M)
// Each row has one colour scale from 0 (or −max|v|) to the row's largest value, printed beside
// it; colours follow the square root of value/max so thinly spread attention stays visible.
#include <cstdint>
#include <string>
#include <vector>

#include "models/gpt.h"
#include "study/plot.h"

namespace nf {

struct AttentionMapRow {
  std::string title;
  bool diverging = false;                    // signed values, symmetric colour scale
  std::vector<std::vector<float>> panels;    // each T·T, row-major: [i·T + j] = query i, key j
  std::vector<std::string> panel_titles;
};

struct AttentionMaps {
  std::string attention;
  int64_t layer = 0, T = 0;
  std::vector<std::string> tokens;  // one label per position (filled by the caller; may be empty)
  int64_t prompt_tokens = 0;        // write_attention_map: the prompt's length before truncation
  std::vector<AttentionMapRow> rows;
};

// Runs `ids` (length ≤ block_size) through the model with layer `layer`'s map hooks on and
// collects the rows above. `seed` seeds the sampled NoiseFormer map. The model ends in eval mode.
AttentionMaps compute_attention_maps(GPT& model, const std::vector<int64_t>& ids, int64_t layer, uint64_t seed);

// The PNG picture: `cell` pixels per map entry (0: chosen from T), with a title line.
plot::Canvas render_attention_maps(const AttentionMaps& maps, int cell, const std::string& title);

struct AttentionMapOptions {
  std::string checkpoint, prompt, out;
  int64_t layer = 0;
  int cell = 0;
  uint64_t seed = 1337;
};
// Loads the checkpoint and its tokenizer, encodes the prompt (its last block_size tokens),
// computes and writes the PNG. Returns the maps.
AttentionMaps write_attention_map(const AttentionMapOptions& opt);

}  // namespace nf
