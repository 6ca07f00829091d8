#pragma once
// `noiseformer compare`: train several attention variants on the same data, preset, iterations
// and seeds, measure each run, and write a results folder (docs/results.md shows one). A variant
// is an attention name, or — with a preset — any name X whose <configs-dir>/<preset>-X.json
// exists (e.g. base-alibi: base attention with ALiBi); the file says which attention it is.
//   OUT/<variant>-seed<S>/     one run each: ckpt.safetensors (+ state), log.jsonl, meta.json,
//                              settings.json (the resolved training options) and, once the run
//                              is finished and measured, summary.json (the done-marker)
//   OUT/results.md             the table (per variant: parameters and % vs base, final val loss
//                              mean ± std over seeds, training tok/s, peak tensor memory,
//                              max |attention logit| as the softmax sees it, after the mask)
//   OUT/results.json           the same numbers, per variant and per run
//   OUT/loss_curves.png        validation loss vs iteration, one colour per variant: the mean over
//                              seeds, and a band from the lowest to the highest seed
//   OUT/train_loss_curves.png  training loss (moving average), likewise
// A run whose summary.json matches the requested settings is reused, not retrained; a run with
// settings.json but no summary.json (interrupted) resumes from its checkpoint state.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/trainer.h"

namespace nf {

struct CompareOptions {
  std::string data_dir;  // "" with a preset: the preset's "data"
  std::string out_dir;
  std::vector<std::string> attentions;  // the variants; empty: the seven attentions
  std::string preset;                   // e.g. "tiny", "small", "english"; "" (none: TrainOptions defaults)
  std::string configs_dir = "configs";  // where <preset>-<variant>.json live
  // `noiseformer train` flags (name without "--", value), applied over the preset file.
  std::vector<std::pair<std::string, std::string>> overrides;
  int64_t seeds = 3;
  std::optional<uint64_t> seed;  // first seed (default: the preset's seed, else 1337)
  // Final validation loss: `noiseformer eval`'s loss over `eval_windows` non-overlapping
  // block_size windows spread evenly over val.bin (0 = all of them, exactly `eval`).
  int64_t eval_windows = 0;
  int64_t eval_batch = 16;
  // max |logit|: logit_batches forwards of logit_batch val windows each, the windows spread
  // evenly over val.bin.
  int64_t logit_batch = 8, logit_batches = 8;
  bool verbose = false;     // the trainer's own progress lines
  bool quiet = false;       // nothing on stderr at all
};

struct RunSummary {
  std::string attention;  // the variant's name (an attention name, or a preset variant's)
  std::string run_dir;
  uint64_t seed = 0;
  int64_t parameters = 0, iterations = 0;
  double val_loss = 0;      // final, over the evaluation windows
  int64_t val_tokens = 0;   // targets it averaged over
  double tok_per_s = 0;     // training steps only: Σ tokens / Σ ms over log.jsonl's iterations
  double peak_bytes = 0;    // peak tensor bytes in use while training (nf::cpu_bytes_peak)
  double max_logit = 0;     // max_attention_logit over the logit windows
  double train_seconds = 0; // Σ ms of the iterations / 1000
  bool reused = false;      // taken from an earlier invocation's summary.json
  std::vector<std::pair<int64_t, double>> val_curve, train_curve;  // (iter, loss) from log.jsonl
};

struct VariantSummary {
  std::string attention;
  int64_t parameters = 0, runs = 0;
  double params_vs_base_pct = 0;           // 100·(params − base)/base
  double val_mean = 0, val_std = 0;        // sample std (n−1); 0 for one run
  double tok_per_s = 0;                    // mean over runs
  double peak_mib = 0;                     // max over runs, MiB
  double max_logit_mean = 0, max_logit_std = 0;
};

struct CompareResult {
  std::vector<RunSummary> runs;
  std::vector<VariantSummary> variants;
  int64_t base_parameters = 0;  // a base model of the same size (by formula)
  int64_t trained = 0, reused = 0;
  nlohmann::json settings;      // what the table's header states (preset, iterations, seeds, …)
};

// The options one run of `variant` trains with: the preset file (if any), then `overrides`,
// then the attention (when the variant is an attention's name), seed, data and out. Throws
// naming the preset file or the bad flag.
TrainOptions resolve_train_options(const CompareOptions& opt, const std::string& variant,
                                   std::optional<uint64_t> seed, const std::string& out_dir);

// Trains (or reuses) every run, measures it, and writes results.md, results.json and the plots.
CompareResult run_compare(const CompareOptions& opt);

// Per-variant statistics of `runs` (in the order variants first appear).
std::vector<VariantSummary> summarize_runs(const std::vector<RunSummary>& runs, int64_t base_parameters);
// The markdown table (with a header stating the settings and what each column measures).
std::string results_markdown(const CompareResult& r);
nlohmann::json results_json(const CompareResult& r);
// Validation (and training) loss curves, mean over seeds per variant, one colour each.
void write_loss_curves(const std::vector<RunSummary>& runs, const std::string& val_png, const std::string& train_png);

// `noiseformer eval`'s loss over `max_windows` of its windows spread evenly over `data`
// (max_windows <= 0: all, i.e. evaluate_windows).
EvalResult evaluate_window_subset(GPT& model, const TokenData& data, int64_t max_windows, int64_t batch_size);
// Eval-mode forwards over `batches` batches of `batch` block_size windows of `data`, the windows
// spread evenly over it, with every layer's track_max_logit on: the largest |attention logit|
// over all layers, heads and batches — of the logits the softmax sees (scaled, with the noise
// at noise_at_eval, ALiBi's bias, selective's mask; DIFF: both branches), on the entries the
// causal mask keeps.
double max_attention_logit(GPT& model, const TokenData& data, int64_t batch, int64_t batches);

// log.jsonl -> curves and training throughput (duplicate iterations from a resume: last wins).
struct LogCurves {
  std::vector<std::pair<int64_t, double>> val, train;
  double tokens = 0, ms = 0;
  int64_t iterations = 0;
};
LogCurves read_log(const std::string& log_jsonl);

}  // namespace nf
