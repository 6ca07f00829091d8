// `noiseformer eval`: mean cross-entropy over all non-overlapping windows of a split.
#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "tensor/device_hooks.h"
#include "train/config_file.h"
#include "cli/commands.h"
#include "data/dataset.h"
#include "data/tokenizer.h"
#include "train/kv_eval.h"
#include "train/train_flags.h"
#include "train/trainer.h"

namespace nf::cli {

int cmd_eval(int argc, char** argv) {
  std::string checkpoint, data_dir, split = "val", device = "cpu";
  int64_t batch_size = 8, max_windows = 0;
  std::vector<int64_t> kv_budget;
  CLI::App app = make_app("eval", "Mean cross-entropy of a checkpoint over every block_size window of a split");
  app.add_option("--checkpoint", checkpoint, "model .safetensors")->required();
  app.add_option("--data", data_dir, "prepared data directory")->required();
  app.add_option("--split", split, "which split to score: val.bin or train.bin")->check(CLI::IsMember({"val", "train"}))->capture_default_str();
  app.add_option("--batch-size", batch_size, "windows per forward pass")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--kv-budget", kv_budget,
                 "decode token by token keeping at most N cached entries per layer (one value, or one per "
                 "layer; selective evicts its most-masked key, other variants their oldest); reports the memory held");
  app.add_option("--max-windows", max_windows, "with --kv-budget: evaluate only the first N windows (0 = all)")
      ->check(CLI::NonNegativeNumber);
  add_device_option(app, device);
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  LoadedModel lm = load_model(checkpoint);
  lm.model->to(device_named(device));
  const std::filesystem::path dir(data_dir);
  const std::string meta = (dir / "meta.json").string();
  if (!std::filesystem::exists(meta)) throw std::runtime_error(meta + ": missing");
  const int vocab = load_tokenizer(meta)->vocab_size();
  if (vocab != lm.model->config().vocab_size)
    throw std::runtime_error(checkpoint + ": vocab_size " + std::to_string(lm.model->config().vocab_size) +
                             " does not match " + meta + " (" + std::to_string(vocab) + ")");
  TokenData data = TokenData::load((dir / (split + ".bin")).string(), vocab);
  nlohmann::json out;
  if (!kv_budget.empty()) {
    std::vector<int64_t> budget = kv_budget.size() == 1 ? std::vector<int64_t>(lm.model->config().n_layer, kv_budget[0]) : kv_budget;
    KVEvalResult r = evaluate_windows_cached(*lm.model, data, budget, max_windows);
    out = {{"loss", r.loss}, {"tokens", r.tokens}, {"windows", r.windows}, {"kv_budget", budget},
           {"peak_cached_entries", r.peak_entries}, {"attention_memory_bytes", r.peak_bytes},
           {"full_cache_bytes", r.full_cache_bytes}};
  } else {
    EvalResult r = evaluate_windows(*lm.model, data, batch_size);
    out = {{"loss", r.loss}, {"tokens", r.tokens}};
  }
  out["split"] = split;  // the loss alone does not say which data it measures
  if (is_noise(lm.model->config().kind())) out["noise_at_eval"] = lm.model->config().noise_at_eval;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace nf::cli
