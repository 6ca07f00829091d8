// libFuzzer target: the model config JSON a checkpoint stores in __metadata__["config"]
// -> GPTConfig::from_json (models/gpt_config.h), as read_checkpoint_config / load_model read it.
// An accepted config must survive to_json -> from_json unchanged; a small one (bounded below)
// is also built into a GPT and run forward on a few tokens, which must not fail.
#include <algorithm>
#include <exception>

#include "fuzz/fuzz_util.h"
#include "models/gpt.h"
#include "tensor/tensor.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nf::GPTConfig cfg;
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(data, data + size);
  } catch (const std::exception&) {
    return 0;  // load_model reports this as "the config in the metadata is not valid JSON"
  }
  try {
    cfg = nf::GPTConfig::from_json(j);
  } catch (const std::exception& e) {
    nf::fuzz::check_one_line("gpt_config", e);
    return 0;
  }
  for (const char* k : {"n_layer", "n_head", "n_embd", "block_size", "vocab_size", "lowrank"})
    if (j.contains(k) && !j[k].is_number_integer())
      nf::fuzz::invariant_failed("gpt_config", std::string("accepted a non-integer ") + k + ": " + j[k].dump());
  nf::GPTConfig again;
  try {
    again = nf::GPTConfig::from_json(cfg.to_json());
  } catch (const std::exception& e) {
    nf::fuzz::invariant_failed("gpt_config", std::string("to_json of an accepted config is refused: ") + e.what());
  }
  if (again.to_json() != cfg.to_json())
    nf::fuzz::invariant_failed("gpt_config", "to_json -> from_json changed the config: " +
                                                 cfg.to_json().dump() + " vs " + again.to_json().dump());

  // Build and run only models that are cheap, so each execution takes milliseconds; validate()
  // accepts models up to its own bounds (models/gpt_config.h), far larger than that.
  if (nf::count_parameters(cfg) > 20000 || cfg.block_size > 4096) return 0;
  try {
    nf::GPT model(cfg);
    const int64_t T = std::min<int64_t>(cfg.block_size, 3);
    std::vector<int64_t> ids(T);
    for (int64_t t = 0; t < T; ++t) ids[t] = t % cfg.vocab_size;
    nf::Tensor idx = nf::from_vector(ids, {1, T});
    nf::GPTOutput out = model.forward(idx, idx);
    (void)out;
  } catch (const std::exception& e) {
    nf::fuzz::invariant_failed("gpt_config", "a config that validate() accepts fails to build or run: " +
                                                 cfg.to_json().dump() + ": " + e.what());
  }
  return 0;
}
