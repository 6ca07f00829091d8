// `noiseformer glue`: fine-tune a pre-trained checkpoint on one GLUE task and score its dev set(s)
// (glue/finetune.h), or with --all a list of tasks for a list of checkpoints, each with one or
// more seeds, written as a table in the NoiseFormer paper's layout (glue/sweep.h, glue/table.h).
// docs/glue.md has the protocol.
#include <cstdio>
#include <filesystem>
#include <map>

#include "io/checkpoint.h"
#include "train/config_file.h"
#include "cli/commands.h"
#include "glue/finetune.h"
#include "glue/sweep.h"
#include "train/train_flags.h"

namespace nf::cli {
namespace fs = std::filesystem;

int cmd_glue(int argc, char** argv) {
  GlueOptions o;
  std::vector<std::string> tasks, checkpoints, labels;
  std::string out, table;
  bool all = false, skip_missing = false;
  int64_t seeds = 1;
  CLI::App app = make_app("glue", "Fine-tune a pre-trained checkpoint on GLUE tasks and score the dev sets");
  app.add_option("--task,--tasks", tasks,
                 "GLUE task: CoLA SST-2 MRPC QQP STS-B MNLI QNLI RTE WNLI (--all: several; default the paper's "
                 "MRPC CoLA MNLI QQP RTE QNLI SST-2)");
  app.add_option("--glue-dir", o.glue_dir, "GLUE data: <dir>/<TASK>/train.tsv, dev.tsv (MNLI: dev_matched.tsv, dev_mismatched.tsv)")
      ->required();
  app.add_option("--checkpoint,--checkpoints", checkpoints, "pre-trained model .safetensors (--all: several)")->required();
  app.add_flag("--all", all, "run every task for every checkpoint and write a markdown table (one row per checkpoint)");
  app.add_option("--labels", labels, "--all: the table's row names, one per checkpoint (default: the attention kind)");
  app.add_option("--table", table,
                 "--all: the markdown table's file (default: <out>/glue_table.md); its JSON goes beside it as <name>.json");
  app.add_option("--seeds", seeds,
                 "--all: fine-tune every (checkpoint, task) this many times, with seeds --seed, --seed + 1, ...; "
                 "cells show mean ± sample std")
      ->capture_default_str();
  app.add_flag("--skip-missing", skip_missing,
               "--all: leave out tasks whose train or dev file is missing (their cells read n/a) instead of stopping");
  app.add_option("--out", out,
                 "output directory: predictions_<set>.tsv and metrics.json (default glue_out/<TASK>; --all: "
                 "glue_out, one <row>/<TASK>/ folder per run, <row>/<TASK>/seed<S>/ with --seeds > 1; a finished "
                 "run with the same settings is reused)");
  app.add_option("--epochs", o.epochs, "passes over train.tsv (0: score the untrained head)")->capture_default_str();
  app.add_option("--lr", o.lr, "peak learning rate (AdamW; warm-up, then cosine decay to 0)")->capture_default_str();
  app.add_option("--batch-size", o.batch_size, "examples per optimizer step")->capture_default_str();
  app.add_option("--warmup", o.warmup, "fraction of all optimizer steps spent in linear warm-up, in [0, 1)")->capture_default_str();
  app.add_option("--weight-decay", o.weight_decay, "AdamW decay of >= 2-D weights")->capture_default_str();
  app.add_option("--grad-clip", o.grad_clip, "global-norm clip (0: off)")->capture_default_str();
  app.add_option("--max-train", o.max_train, "use a seeded random subset of this many training examples (0: all)")
      ->capture_default_str();
  app.add_option("--seed", o.seed, "head initialisation, shuffling, dropout/noise draws")->capture_default_str();
  add_device_option(app, o.device);
  app.add_flag("--skip-malformed", o.skip_malformed,
               "leave out train/dev rows that cannot be read (counted in metrics.json); without it the first such row "
               "stops the run before training, naming file, line and column");
  app.add_flag("--quiet", o.quiet, "no progress lines on stderr");
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  if (!all) {
    if (tasks.size() != 1 || checkpoints.size() != 1)
      throw std::invalid_argument("give one --task and one --checkpoint (use --all for several)");
    if (!labels.empty() || !table.empty() || seeds != 1 || skip_missing)
      throw std::invalid_argument("--labels, --table, --seeds and --skip-missing need --all");
    o.task = tasks[0];
    o.checkpoint = checkpoints[0];
    o.out_dir = out.empty() ? (fs::path("glue_out") / glue_task_info(o.task).name).string() : out;
    GlueRunResult r = run_glue(o);
    std::printf("%s\n", r.summary.dump().c_str());
    return 0;
  }

  // ---- --all: seeds x checkpoints x tasks ----
  if (!labels.empty() && labels.size() != checkpoints.size())
    throw std::invalid_argument("--labels: " + std::to_string(labels.size()) + " names for " +
                                std::to_string(checkpoints.size()) + " checkpoints");
  if (labels.empty()) {
    std::map<std::string, int> seen;
    std::vector<std::string> kinds;
    for (const auto& c : checkpoints) {
      if (!fs::is_regular_file(c)) throw std::runtime_error(c + ": no such file");
      kinds.push_back(read_checkpoint_config(c).attention);
      ++seen[kinds.back()];
    }
    for (size_t i = 0; i < checkpoints.size(); ++i)
      labels.push_back(seen[kinds[i]] > 1 ? kinds[i] + " (" + checkpoints[i] + ")" : kinds[i]);
  }
  GlueSweepOptions sweep;
  sweep.run = o;
  sweep.tasks = tasks;
  sweep.checkpoints = checkpoints;
  sweep.labels = labels;
  sweep.out_dir = out.empty() ? "glue_out" : out;
  sweep.table_path = table;
  sweep.seeds = seeds;
  sweep.skip_missing = skip_missing;
  const GlueSweepResult r = run_glue_sweep(sweep, [](const nlohmann::ordered_json& summary) {
    std::printf("%s\n", summary.dump().c_str());
    std::fflush(stdout);
  });
  if (!o.quiet)
    std::fprintf(stderr, "\n%s\n%lld runs fine-tuned, %lld reused; wrote %s and %s\n", r.markdown.c_str(),
                 static_cast<long long>(r.trained), static_cast<long long>(r.reused), r.table_path.c_str(),
                 r.json_path.c_str());
  return 0;
}

}  // namespace nf::cli
