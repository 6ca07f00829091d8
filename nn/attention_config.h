#pragma once
// What an attention layer is built from: its size and which variant it is, with the variant's
// own options. GPTConfig (models/gpt_config.h) is an AttentionConfig plus the vocabulary, so one
// config file describes the whole model; the attention layers see only this part.
#include <cstdint>
#include <string>

namespace nf {

struct AttentionConfig {
  // n_layer: the depth of the model the layer sits in. GPT-2 scales the initial weights of each
  // residual projection by 1/√(2·n_layer) so the residual stream's variance does not grow with
  // depth; DIFF's λ_init depends on the layer's index among them.
  int64_t n_layer = 6, n_head = 6, n_embd = 384, block_size = 256;
  bool bias = true;
  double dropout = 0.0;
  // base | symmetric | noise-v1 | noise-v2 | diff | shared-diff | selective
  std::string attention = "base";
  double kl_weight = 1e-3;            // noise: β of the KL term
  std::string noise_mean = "scalar";  // noise: scalar | relpos
  std::string noise_at_eval = "mean"; // noise: mean | sample
  int64_t lowrank = 8;                // shared-diff: rank r
  bool pairwise = false;              // symmetric: learned per-head diagonal c_h
  double selective_mem_weight = 0.0;  // selective: ε of the optional L_mem term
};

bool is_noise(const std::string& attention);
bool is_diff(const std::string& attention);

}  // namespace nf
