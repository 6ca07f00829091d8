#include "models/gpt_config.h"
#include "tensor/one_line.h"

#include <cmath>
#include <cstdint>
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
  // Upper bounds, checked before anything is allocated: far above what this project trains, low
  // enough that no size computed from them overflows and a typo (or a corrupt checkpoint) fails
  // here with its name instead of as an allocation of petabytes.
  auto at_most = [&](const char* key, int64_t v, int64_t max) {
    if (v > max) bad(std::string(key) + " = " + std::to_string(v) + " is above the limit " + std::to_string(max));
  };
  at_most("n_layer", n_layer, kMaxLayers);
  at_most("n_head", n_head, kMaxHeads);
  at_most("n_embd", n_embd, kMaxEmbd);
  at_most("block_size", block_size, kMaxBlockSize);
  if (n_embd % n_head != 0) bad("n_embd (" + std::to_string(n_embd) + ") must be divisible by n_head (" + std::to_string(n_head) + ")");
  if (is_diff(k) && n_head % 2 != 0) bad(attention + " attention needs an even n_head (it uses n_head/2 heads of two branches)");
  if (noise_mean != "scalar" && noise_mean != "relpos") bad("noise_mean must be scalar or relpos");
  if (noise_at_eval != "mean" && noise_at_eval != "sample") bad("noise_at_eval must be mean or sample");
  if (!(dropout >= 0 && dropout < 1)) bad("dropout must be in [0, 1)");
  if (lowrank < 1) bad("lowrank must be >= 1");
  if (k == AttentionKind::SharedDiff && lowrank > n_embd) bad("lowrank must be at most n_embd");
  if (!std::isfinite(kl_weight) || kl_weight < 0) bad("kl_weight must be a finite number >= 0");
  if (!std::isfinite(selective_mem_weight) || selective_mem_weight < 0)
    bad("selective_mem_weight must be a finite number >= 0");
  if (vocab_size > 65536) bad("vocab_size must be <= 65536 (token files are uint16)");
  if (const std::string why = pos_bias_problem(*this); !why.empty()) bad(why);
}

nlohmann::json GPTConfig::to_json() const {
  return {{"n_layer", n_layer}, {"n_head", n_head}, {"n_embd", n_embd}, {"block_size", block_size},
          {"vocab_size", vocab_size}, {"bias", bias}, {"dropout", dropout}, {"attention", attention},
          {"kl_weight", kl_weight}, {"noise_mean", noise_mean}, {"noise_at_eval", noise_at_eval},
          {"lowrank", lowrank}, {"pairwise", pairwise}, {"selective_mem_weight", selective_mem_weight},
          {"pos_bias", pos_bias}};
}

GPTConfig GPTConfig::from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("config: expected a JSON object");
  GPTConfig c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& k = it.key();
    const auto& v = it.value();
    // Each value must have its key's JSON type exactly: nlohmann's get<int64_t>() would turn
    // 1.5 into 1 and 2^70 into garbage, get<bool>() would accept 0 — all silently.
    auto wrong = [&](const char* want) {
      return std::invalid_argument("config: key '" + one_line(k) + "' must be " + want + ", got " + one_line(v.dump()));
    };
    auto integer = [&](int64_t& out) {
      if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t(INT64_MAX)))
        throw wrong("an integer");
      out = v.get<int64_t>();
    };
    auto number = [&](double& out) {
      if (!v.is_number()) throw wrong("a number");
      out = v.get<double>();
    };
    auto boolean = [&](bool& out) {
      if (!v.is_boolean()) throw wrong("true or false");
      out = v.get<bool>();
    };
    auto text = [&](std::string& out) {
      if (!v.is_string()) throw wrong("a string");
      out = v.get<std::string>();
    };
    if (k == "n_layer") integer(c.n_layer);
    else if (k == "n_head") integer(c.n_head);
    else if (k == "n_embd") integer(c.n_embd);
    else if (k == "block_size") integer(c.block_size);
    else if (k == "vocab_size") integer(c.vocab_size);
    else if (k == "bias") boolean(c.bias);
    else if (k == "dropout") number(c.dropout);
    else if (k == "attention") text(c.attention);
    else if (k == "kl_weight") number(c.kl_weight);
    else if (k == "noise_mean") text(c.noise_mean);
    else if (k == "noise_at_eval") text(c.noise_at_eval);
    else if (k == "lowrank") integer(c.lowrank);
    else if (k == "pairwise") boolean(c.pairwise);
    else if (k == "selective_mem_weight") number(c.selective_mem_weight);
    else if (k == "pos_bias") text(c.pos_bias);  // absent in checkpoints made before it: "none"
    else throw std::invalid_argument("config: unknown key '" + one_line(k) + "'");
  }
  c.validate();
  return c;
}

}  // namespace nf
