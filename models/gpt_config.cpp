#include "models/gpt_config.h"

#include <stdexcept>

namespace nf {

void GPTConfig::validate() const {
  auto bad = [](const std::string& m) { throw std::invalid_argument("config: " + m); };
  const AttentionKind k = [&] {
    try {
      return kind();
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("config: ") + e.what());
    }
  }();
  if (n_layer < 1 || n_head < 1 || n_embd < 1 || block_size < 1 || vocab_size < 1)
    bad("n_layer, n_head, n_embd, block_size and vocab_size must be positive");
  if (n_embd % n_head != 0) bad("n_embd (" + std::to_string(n_embd) + ") must be divisible by n_head (" + std::to_string(n_head) + ")");
  if (is_diff(k) && n_head % 2 != 0) bad(attention + " attention needs an even n_head (it uses n_head/2 heads of two branches)");
  if (noise_mean != "scalar" && noise_mean != "relpos") bad("noise_mean must be scalar or relpos");
  if (noise_at_eval != "mean" && noise_at_eval != "sample") bad("noise_at_eval must be mean or sample");
  if (dropout < 0 || dropout >= 1) bad("dropout must be in [0, 1)");
  if (lowrank < 1) bad("lowrank must be >= 1");
  if (vocab_size > 65536) bad("vocab_size must be <= 65536 (token files are uint16)");
}

nlohmann::json GPTConfig::to_json() const {
  return {{"n_layer", n_layer}, {"n_head", n_head}, {"n_embd", n_embd}, {"block_size", block_size},
          {"vocab_size", vocab_size}, {"bias", bias}, {"dropout", dropout}, {"attention", attention},
          {"kl_weight", kl_weight}, {"noise_mean", noise_mean}, {"noise_at_eval", noise_at_eval},
          {"lowrank", lowrank}, {"pairwise", pairwise}, {"selective_mem_weight", selective_mem_weight}};
}

GPTConfig GPTConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("config: expected a JSON object");
  GPTConfig c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    try {
      if (k == "n_layer") c.n_layer = v.get<int64_t>();
      else if (k == "n_head") c.n_head = v.get<int64_t>();
      else if (k == "n_embd") c.n_embd = v.get<int64_t>();
      else if (k == "block_size") c.block_size = v.get<int64_t>();
      else if (k == "vocab_size") c.vocab_size = v.get<int64_t>();
      else if (k == "bias") c.bias = v.get<bool>();
      else if (k == "dropout") c.dropout = v.get<double>();
      else if (k == "attention") c.attention = v.get<std::string>();
      else if (k == "kl_weight") c.kl_weight = v.get<double>();
      else if (k == "noise_mean") c.noise_mean = v.get<std::string>();
      else if (k == "noise_at_eval") c.noise_at_eval = v.get<std::string>();
      else if (k == "lowrank") c.lowrank = v.get<int64_t>();
      else if (k == "pairwise") c.pairwise = v.get<bool>();
      else if (k == "selective_mem_weight") c.selective_mem_weight = v.get<double>();
      else throw std::invalid_argument("config: unknown key '" + k + "'");
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument("config: key '" + k + "' has the wrong type");
    }
  }
  c.validate();
  return c;
}

}  // namespace nf
