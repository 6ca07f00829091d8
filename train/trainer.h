#pragma once
// The training loop behind `noiseformer train` (docs/gpt.md walks through it):
// batch -> forward -> loss -> backward -> clip -> AdamW step, with the learning-rate schedule,
// gradient accumulation, periodic evaluation, checkpoints, log.jsonl and a progress line.
#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/gpt.h"
#include "data/dataset.h"
#include "dist/communicator.h"
#include "train/draw_plan.h"

namespace nf {

struct TrainOptions {
  std::string data_dir, out_dir, init, device = "cpu";
  bool resume = false;
  GPTConfig model;  // architecture (ignored with --init/--resume: the checkpoint's config wins)
  int64_t batch_size = 12, max_iters = 2000, grad_accum = 1;
  double lr = 1e-3, min_lr = 1e-4, weight_decay = 0.1, beta1 = 0.9, beta2 = 0.99, grad_clip = 1.0;
  int64_t warmup_iters = 100, lr_decay_iters = -1;  // -1: = max_iters
  int64_t eval_interval = 250, eval_iters = 20, log_interval = 10;
  uint64_t seed = 1337;
  std::string optimizer = "adamw", sampling = "random";
  bool keep_best = false;
  bool quiet = false;  // no progress line (tests)
  // Data parallel: gradients are summed in buckets of about this many MiB (dist/grad_reducer.h).
  // Changes the speed only, never the result.
  double bucket_mb = 4;
  // The settings the user gave explicitly, by flag name with underscores ("batch_size",
  // "n_layer", …). With resume, every other setting is the run's own (from its state file), and
  // a given one that differs is applied with a notice or refused (trainer.cpp: restore_settings).
  std::set<std::string> given;

  // Throws std::invalid_argument naming the first flag whose value is out of range.
  void validate() const;
};

// Everything that decides a run's result, as JSON keyed like the flags (underscores): stored in
// the training state, restored by --resume, and compared by `compare` to reuse finished runs.
// Over `world_size` ranks, grad_accum is stored as the micro-batches of a step over all of them
// (o.grad_accum is per rank): the run is the same as one process with that many.
nlohmann::json train_settings_json(const TrainOptions& o, int world_size = 1);

// Thrown when SIGINT or SIGTERM stopped a run after saving it; what() says where and how to resume.
struct TrainingInterrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct TrainResult {
  double final_train_loss = 0, final_val_loss = 0;
  double tokens_per_second = 0;
  int64_t iterations = 0;
};

// One process.
TrainResult run_training(const TrainOptions& opt);
// Data parallel over the ranks of `comm` (docs/distributed.md): each rank runs --grad-accum
// micro-batches of every step — rank r the micro-batches r, r+W, r+2W, … of the W·grad_accum
// that one process with --grad-accum W·grad_accum would run, with the same data and random
// draws — the gradients are summed over the ranks, every rank takes the same optimizer step,
// and rank 0 alone prints and writes the files. An error on any rank is thrown on every rank as
// the same CollectiveError (dist/collective.h). With one rank this is run_training(opt).
TrainResult run_training(const TrainOptions& opt, Communicator& comm);

// Mean cross-entropy over all non-overlapping block_size windows of `data` (`noiseformer
// eval`'s loss), in batches of `batch_size` windows; model in eval mode, no grad.
struct EvalResult {
  double loss = 0;
  int64_t tokens = 0;
};
EvalResult evaluate_windows(GPT& model, const TokenData& data, int64_t batch_size);
// The same over the (non-empty) list of windows that start at `starts` (`compare` scores a subset).
EvalResult evaluate_windows_at(GPT& model, const TokenData& data, const std::vector<int64_t>& starts,
                               int64_t batch_size);

// Average loss over `iters` random batches (the periodic estimate during training).
double estimate_loss(GPT& model, const TokenData& data, int64_t batch_size, int64_t iters, uint64_t seed);
// The same, the batches shared out over the ranks of `comm` (collective): the same value on every
// rank, equal to one process's. `draws` plans the eval-mode random draws (train/draw_plan.h).
double estimate_loss(GPT& model, const TokenData& data, int64_t batch_size, int64_t iters, uint64_t seed,
                     Communicator& comm, DrawPlan& draws);

}  // namespace nf
