#include "train/noise_log.h"

#include <memory>

#include "nn/noise_attention.h"

namespace nf {

void add_noise_fields(nlohmann::json& line, const GPT& model) {
  nlohmann::json sigma = nlohmann::json::array(), mu = nlohmann::json::array();
  for (const auto& blk : model.blocks) {
    const auto noise = std::dynamic_pointer_cast<const NoiseAttention>(blk->attn);
    if (!noise) return;  // every layer is the same variant: not a noise model
    sigma.push_back(noise->sigma_per_map());
    mu.push_back(noise->mu_per_map());
  }
  if (sigma.empty()) return;
  line["noise_sigma"] = sigma;
  line["noise_mu"] = mu;
}

}  // namespace nf
