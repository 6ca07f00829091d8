// `noiseformer sample`: continue a prompt with the checkpoint's model and tokenizer (KV cache).
#include <cmath>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "tensor/device_hooks.h"
#include "train/config_file.h"
#include "cli/commands.h"
#include "data/tokenizer.h"
#include "train/train_flags.h"

namespace nf::cli {

int cmd_sample(int argc, char** argv) {
  std::string checkpoint, prompt = "\n", device = "cpu";
  int64_t max_new = 200, top_k = 0, num_samples = 1;
  double temperature = 0.8, top_p = 1.0;
  uint64_t seed = 1337;
  std::vector<int64_t> kv_budget;
  CLI::App app = make_app("sample", "Generate text from a checkpoint");
  app.add_option("--checkpoint", checkpoint, "model .safetensors (holds its tokenizer)")->required();
  app.add_option("--prompt", prompt, "text to continue (char tokenizer: only characters it was trained on)")
      ->capture_default_str();
  app.add_option("--max-new-tokens", max_new, "tokens to generate after the prompt")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--temperature", temperature, "0 = greedy")
      ->check(CLI::Validator(
          [](std::string& s) {
            double t = 0;
            // Written so that NaN and infinity fail too (CLI::NonNegativeNumber lets NaN through).
            return CLI::detail::lexical_cast(s, t) && t >= 0 && std::isfinite(t) ? std::string()
                                                                                 : "must be a finite number >= 0, got " + s;
          },
          "NUMBER >= 0"))
      ->capture_default_str();
  app.add_option("--top-k", top_k, "0 = no cut")->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--top-p", top_p,
                 "nucleus sampling, after --top-k: keep the most probable tokens whose probabilities sum to "
                 ">= P, in (0, 1]; 1 = no cut")
      ->check(CLI::Validator(
          [](std::string& s) {
            double p = 0;
            // Written so that NaN fails too.
            return CLI::detail::lexical_cast(s, p) && p > 0 && p <= 1 ? std::string() : "must be in (0, 1], got " + s;
          },
          "(0, 1]"))
      ->capture_default_str();
  app.add_option("--num-samples", num_samples, "independent samples from the same prompt")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", seed, "seed of the sampling generator")->capture_default_str();
  app.add_option("--kv-budget", kv_budget, "cached entries per layer (one value, or one per layer; selective evicts its most-masked key, others their oldest)");
  add_device_option(app, device);
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  LoadedModel lm = load_model(checkpoint);
  lm.model->to(device_named(device));
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
  // A prompt the user gave is encoded strictly: a character the char vocabulary never saw is
  // refused by name, since a stand-in (as GLUE text gets) would sample from text nobody wrote.
  // The default "\n" may be missing from a corpus; it keeps the stand-in.
  std::vector<int> ids;
  if (app.count("--prompt") == 0) {
    ids = tok->encode_lossy(prompt);
  } else {
    try {
      ids = tok->encode(prompt);
    } catch (const std::runtime_error& e) {
      throw std::runtime_error(std::string("--prompt: ") + e.what());
    }
  }
  if (ids.empty()) ids.push_back(0);
  Generator sampler(seed);
  for (int64_t s = 0; s < num_samples; ++s) {
    std::vector<int64_t> p(ids.begin(), ids.end());
    std::vector<int64_t> out = model.generate(p, max_new, temperature, top_k, sampler, budget, top_p);
    std::string text = tok->decode(std::vector<int>(out.begin(), out.end()));
    std::printf("%s\n", text.c_str());
    if (s + 1 < num_samples) std::printf("---------------\n");
  }
  return 0;
}

}  // namespace nf::cli
