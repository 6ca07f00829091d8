#pragma once
// The model configuration, with the key names interfaces.md fixes for checkpoints' metadata.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace nf {

struct GPTConfig {
  int64_t n_layer = 6, n_head = 6, n_embd = 384, block_size = 256, vocab_size = 65;
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

  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
  nlohmann::json to_json() const;
  static GPTConfig from_json(const nlohmann::json& j);  // unknown keys are an error
};

bool is_noise(const std::string& attention);
bool is_diff(const std::string& attention);

}  // namespace nf
