#pragma once
// `noiseformer kv-sweep`: the KV-cache budget at which a model matches a reference's loss — the
// comparison Selective Attention's paper makes ("equal perplexity"). Every finished run of the
// chosen variants in a `compare` folder is decoded token by token through its KV cache at each
// budget (train/kv_eval.h): selective models evict their most-masked key, every other variant
// its oldest (a sliding window), both keeping the first token. Then, per variant, the smallest
// budget whose mean loss over seeds is within `tolerance` of the reference variant's
// full-context loss, with the attention memory held there.
//   OUT/kv_sweep.json   settings, and one record per (variant, seed, budget); a record whose
//                       settings match is reused, so an interrupted sweep resumes
//   OUT/kv_sweep.md     loss per budget and variant (mean ± std over seeds), then the
//                       equal-loss table
//   OUT/kv_sweep.png    loss against budget (log scale), one curve per variant (band: min–max over seeds),
//                       and the reference's loss × (1 + tolerance) as a grey line
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace nf {

struct KVSweepOptions {
  std::string runs_dir;               // a `compare` folder: RUNS/<variant>-seed<S>/ckpt.safetensors
  std::vector<std::string> variants;  // which variants' runs to decode
  std::vector<int64_t> budgets;       // cached entries per layer; 0 = the whole context
  std::string reference = "base";     // whose full-context loss the others must reach
  double tolerance = 0.01;            // "within 1 %": loss ≤ reference · (1 + tolerance)
  std::string data_dir;               // "" = the data each run trained on (its settings.json)
  int64_t max_windows = 200;          // the first N block_size windows of val.bin (0 = all)
  std::string out_dir;                // "" = RUNS/kv-sweep
};

struct KVSweepPoint {
  std::string variant;
  uint64_t seed = 0;
  int64_t budget = 0;          // as requested (0 = the whole context)
  double loss = 0;
  int64_t tokens = 0;
  int64_t memory_bytes = 0;    // attention memory held: Σ over layers of peak entries × bytes each
  int64_t full_cache_bytes = 0;
  bool reused = false;
};

// Per variant: the mean over seeds at each budget, and the smallest budget within tolerance.
struct KVSweepVariant {
  std::string variant;
  std::vector<int64_t> budgets;
  std::vector<double> mean, std, lo, hi;  // loss over seeds at each budget
  std::vector<int64_t> memory_bytes;      // max over seeds at each budget
  int64_t equal_budget = -1;              // smallest budget within tolerance; -1: none
  double equal_loss = 0;
  int64_t equal_memory_bytes = 0, full_cache_bytes = 0;
};

struct KVSweepResult {
  std::vector<KVSweepPoint> points;
  std::vector<KVSweepVariant> variants;
  double reference_loss = 0;  // the reference variant's full-context loss, mean over seeds
  int64_t block_size = 0;
  nlohmann::json settings;
};

// Runs (or reuses) every point, calling `progress` after each, then writes the three files.
// Throws one line when the folder has no finished run of a variant, when the reference is not
// among the variants or budgets lack 0 (the full context it is measured at), or on a budget
// that is not 0 or in [2, block_size].
KVSweepResult run_kv_sweep(const KVSweepOptions& opt,
                           const std::function<void(const KVSweepPoint&)>& progress = nullptr);

// The per-variant summaries and the equal-loss budgets from the points (budgets ascending).
std::vector<KVSweepVariant> summarize_kv_sweep(const std::vector<KVSweepPoint>& points,
                                               const std::vector<std::string>& variants, double reference_loss,
                                               double tolerance, int64_t block_size);

}  // namespace nf
