#pragma once
// `noiseformer glue --all`: every task for every checkpoint, each fine-tuned with several seeds,
// collected into the table of glue/table.h (markdown and JSON, rewritten after every run).
//
// Runs:     seed S+i of checkpoint r (1-based) labelled L, task T, writes to
//           <out>/<r>_<L'>/<T>/ with one seed, <out>/<r>_<L'>/<T>/seed<S+i>/ with several (L':
//           L with each run of characters other than letters, digits, '-', '.' turned into '_').
//           All first seeds run before any second one, so an interrupted sweep has a complete
//           one-seed table as early as possible.
// Checks:   every option, every task file and every checkpoint is checked before the first run.
//           With skip_missing, a task whose train or dev file is absent is left out of the runs
//           and its cells read "n/a (no files)"; a file that is there but unreadable still stops
//           the sweep.
// Resuming: a run whose folder holds a complete metrics.json made with the same settings
//           (reusable_glue_run) is not fine-tuned again; its summary is read back instead.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "glue/finetune.h"
#include "glue/table.h"

namespace nf {

struct GlueSweepOptions {
  GlueOptions run;                       // the settings of every run; task, checkpoint, seed and out_dir are set per run
  std::vector<std::string> tasks;        // names glue_task_info() accepts; empty: the paper's seven
  std::vector<std::string> checkpoints;  // one table row each
  std::vector<std::string> labels;       // the rows' names, one per checkpoint
  std::string out_dir = "glue_out";
  std::string table_path;                // the markdown table ("": <out_dir>/glue_table.md)
  int64_t seeds = 1;                     // run.seed, run.seed + 1, ...
  bool skip_missing = false;             // leave out tasks whose files are missing instead of stopping
};

struct GlueSweepResult {
  GlueTable table;
  std::string markdown;                  // the table as written to table_path
  std::string table_path, json_path;     // where the markdown and the JSON went
  int64_t trained = 0, reused = 0;       // runs fine-tuned now, runs read back from an earlier invocation
  std::vector<std::string> skipped_tasks;  // left out for missing files (skip_missing)
};

// The folder of one run, as above.
std::string glue_run_dir(const std::string& out_dir, size_t row, const std::string& label, const std::string& task,
                         uint64_t seed, int64_t seeds);

// The summary in <opt.out_dir>/metrics.json when it can stand for running `opt` again: it parses,
// holds every dev metric and majority value of the task, its prediction files exist, its
// checkpoint, task, seed, epochs, lr, batch_size, warmup, weight_decay, grad_clip and max_train
// equal opt's (checkpoint: the same path, or a path to the same file), and the checkpoint has not
// been written since. Otherwise nullopt, and `why_not` (optional) says why ("" when there is no
// metrics.json at all).
std::optional<nlohmann::ordered_json> reusable_glue_run(const GlueOptions& opt, std::string* why_not = nullptr);

// The whole sweep. `on_run` gets each run's summary (fresh or reused) as it becomes available.
// Errors throw one-line exceptions, before the first run whenever the inputs are at fault.
GlueSweepResult run_glue_sweep(const GlueSweepOptions& opt,
                               const std::function<void(const nlohmann::ordered_json&)>& on_run = {});

}  // namespace nf
