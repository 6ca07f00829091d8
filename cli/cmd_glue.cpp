// `noiseformer glue`: fine-tune a pre-trained checkpoint on one GLUE task and score its dev set(s)
// (glue/finetune.h), or with --all a list of tasks for a list of checkpoints, written as a
// markdown table in the NoiseFormer paper's layout. docs/glue.md has the protocol.
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "io/checkpoint.h"
#include "train/config_file.h"
#include "cli/commands.h"
#include "glue/finetune.h"
#include "train/train_flags.h"

namespace nf::cli {
namespace fs = std::filesystem;

namespace {

std::string slug(const std::string& s) {
  std::string o;
  for (char c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    if (ok) o += c;
    else if (!o.empty() && o.back() != '_') o += '_';
  }
  while (!o.empty() && o.back() == '_') o.pop_back();
  return o.empty() ? "model" : o;
}

}  // namespace

int cmd_glue(int argc, char** argv) {
  GlueOptions o;
  std::vector<std::string> tasks, checkpoints, labels;
  std::string out, table;
  bool all = false;
  CLI::App app = make_app("glue", "Fine-tune a pre-trained checkpoint on GLUE tasks and score the dev sets");
  app.add_option("--task,--tasks", tasks,
                 "GLUE task: CoLA SST-2 MRPC QQP STS-B MNLI QNLI RTE WNLI (--all: several; default the paper's "
                 "MRPC CoLA MNLI QQP RTE QNLI SST-2)");
  app.add_option("--glue-dir", o.glue_dir, "GLUE data: <dir>/<TASK>/train.tsv, dev.tsv (MNLI: dev_matched.tsv, dev_mismatched.tsv)")
      ->required();
  app.add_option("--checkpoint,--checkpoints", checkpoints, "pre-trained model .safetensors (--all: several)")->required();
  app.add_flag("--all", all, "run every task for every checkpoint and write a markdown table (one row per checkpoint)");
  app.add_option("--labels", labels, "--all: the table's row names, one per checkpoint (default: the attention kind)");
  app.add_option("--table", table, "--all: the markdown table's file (default: <out>/glue_table.md)");
  app.add_option("--out", out,
                 "output directory: predictions_<set>.tsv and metrics.json (default glue_out/<TASK>; --all: "
                 "glue_out, one <row>/<TASK>/ folder per run)");
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
    if (!labels.empty() || !table.empty()) throw std::invalid_argument("--labels and --table need --all");
    o.task = tasks[0];
    o.checkpoint = checkpoints[0];
    o.out_dir = out.empty() ? (fs::path("glue_out") / glue_task_info(o.task).name).string() : out;
    GlueRunResult r = run_glue(o);
    std::printf("%s\n", r.summary.dump().c_str());
    return 0;
  }

  // ---- --all: tasks x checkpoints ----
  if (tasks.empty()) tasks = paper_glue_tasks();
  for (std::string& t : tasks) t = glue_task_info(t).name;  // validates, and GLUE's spelling
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
  const fs::path out_dir = out.empty() ? fs::path("glue_out") : fs::path(out);
  const std::string table_path = table.empty() ? (out_dir / "glue_table.md").string() : table;
  // Everything is checked before the first (possibly hours-long) run starts.
  for (const auto& t : tasks) {
    GlueOptions check = o;
    check.task = t;
    check_glue_task_files(check);
  }
  for (const auto& c : checkpoints) check_glue_checkpoint(c);
  std::vector<std::vector<std::unique_ptr<GlueRunResult>>> results(checkpoints.size());
  auto write_table = [&] {
    std::vector<std::vector<const GlueRunResult*>> view(checkpoints.size());
    for (size_t r = 0; r < results.size(); ++r)
      for (const auto& p : results[r]) view[r].push_back(p.get());
    const std::string md = glue_markdown_table(labels, tasks, view);
    const fs::path tp(table_path);
    if (tp.has_parent_path()) fs::create_directories(tp.parent_path());
    const std::string tmp = table_path + ".tmp";
    {
      std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
      f << md;
      if (!f) throw std::runtime_error(tmp + ": write failed");
    }
    fs::rename(tmp, table_path);
    return md;
  };
  for (size_t r = 0; r < checkpoints.size(); ++r) {
    for (const auto& t : tasks) {
      GlueOptions run = o;
      run.task = t;
      run.checkpoint = checkpoints[r];
      run.out_dir = (out_dir / (std::to_string(r + 1) + "_" + slug(labels[r])) / t).string();
      results[r].push_back(std::make_unique<GlueRunResult>(run_glue(run)));
      std::printf("%s\n", results[r].back()->summary.dump().c_str());
      std::fflush(stdout);
      write_table();  // kept current, so a long sweep shows its progress
    }
  }
  const std::string md = write_table();
  if (!o.quiet) std::fprintf(stderr, "\n%s\nwrote %s\n", md.c_str(), table_path.c_str());
  return 0;
}

}  // namespace nf::cli
