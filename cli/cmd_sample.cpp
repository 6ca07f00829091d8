// `noiseformer sample`: continue a prompt with the checkpoint's model and tokenizer (KV cache).
#include <cstdio>

#include <nlohmann/json.hpp>

#include "tensor/device_hooks.h"
#include "io/checkpoint.h"
#include "train/config_file.h"
#include "cli/commands.h"
#include "data/tokenizer.h"

namespace nf::cli {

int cmd_sample(int argc, char** argv) {
  std::string checkpoint, prompt = "\n", device = "cpu";
  int64_t max_new = 200, top_k = 0, num_samples = 1;
  double temperature = 0.8;
  uint64_t seed = 1337;
  std::vector<int64_t> kv_budget;
  CLI::App app = make_app("sample", "Generate text from a checkpoint");
  app.add_option("--checkpoint", checkpoint, "model .safetensors (holds its tokenizer)")->required();
  app.add_option("--prompt", prompt, "text to continue")->capture_default_str();
  app.add_option("--max-new-tokens", max_new)->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--temperature", temperature, "0 = greedy")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--top-k", top_k, "0 = no cut")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--num-samples", num_samples)->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", seed)->capture_default_str();
  app.add_option("--kv-budget", kv_budget, "selective: cached entries per layer (one value, or one per layer)");
  app.add_option("--device", device)->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  if (device == "cuda") require_cuda();

  LoadedModel lm = load_model(checkpoint);
  if (lm.tokenizer_meta.empty()) throw std::runtime_error(checkpoint + ": no tokenizer stored with this checkpoint");
  std::unique_ptr<Tokenizer> tok;
  try {
    tok = load_tokenizer_from_json(nlohmann::json::parse(lm.tokenizer_meta));
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(checkpoint + ": stored tokenizer is not valid JSON");
  }
  GPT& model = *lm.model;
  model.eval();
  std::vector<int64_t> budget;
  if (kv_budget.size() == 1) budget.assign(model.config().n_layer, kv_budget[0]);
  else budget = kv_budget;
  std::vector<int> ids = tok->encode_lossy(prompt);
  if (ids.empty()) ids.push_back(0);
  Generator sampler(seed);
  for (int64_t s = 0; s < num_samples; ++s) {
    std::vector<int64_t> p(ids.begin(), ids.end());
    std::vector<int64_t> out = model.generate(p, max_new, temperature, top_k, sampler, budget);
    std::string text = tok->decode(std::vector<int>(out.begin(), out.end()));
    std::printf("%s\n", text.c_str());
    if (s + 1 < num_samples) std::printf("---------------\n");
  }
  return 0;
}

}  // namespace nf::cli
