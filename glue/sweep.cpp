// `glue --all`: the runs of every (seed, checkpoint, task), reused where an earlier invocation
// finished them, and the table after each (glue/sweep.h).
#include "glue/sweep.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <stdexcept>

#include "glue/data.h"
#include "io/file.h"

namespace nf {
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

// The first of the task's train and dev files that is not in glue_dir, or "" when all are there.
std::string missing_task_file(const std::string& glue_dir, const GlueTaskInfo& info) {
  std::vector<std::string> files = {info.train_file};
  for (const auto& d : info.dev_sets) files.push_back(d.file);
  for (const auto& f : files) {
    const fs::path p = fs::path(glue_dir) / info.dir / f;
    std::error_code ec;
    if (!fs::is_regular_file(p, ec)) return p.string();
  }
  return "";
}

// The table's JSON twin: the markdown file's name with the extension .json.
std::string json_path_beside(const std::string& table_path) {
  fs::path p(table_path);
  if (p.extension() == ".json")
    throw std::invalid_argument("--table " + table_path +
                                ": the table's JSON is written beside the markdown as <name>.json, so the markdown "
                                "file needs another extension (e.g. .md)");
  return p.replace_extension(".json").string();
}

bool same_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  std::error_code ec;
  return fs::equivalent(a, b, ec);
}

}  // namespace

std::string glue_run_dir(const std::string& out_dir, size_t row, const std::string& label, const std::string& task,
                         uint64_t seed, int64_t seeds) {
  fs::path p = fs::path(out_dir) / (std::to_string(row + 1) + "_" + slug(label)) / glue_task_info(task).name;
  if (seeds > 1) p /= "seed" + std::to_string(seed);
  return p.string();
}

std::optional<nlohmann::ordered_json> reusable_glue_run(const GlueOptions& opt, std::string* why_not) {
  auto no = [&](const std::string& why) -> std::optional<nlohmann::ordered_json> {
    if (why_not) *why_not = why;
    return std::nullopt;
  };
  if (why_not) why_not->clear();
  const GlueTaskInfo& info = glue_task_info(opt.task);
  const fs::path mp = fs::path(opt.out_dir) / "metrics.json";
  std::error_code ec;
  if (!fs::is_regular_file(mp, ec)) return no("");
  nlohmann::ordered_json j;
  try {
    j = nlohmann::ordered_json::parse(read_file(mp.string()));
  } catch (const std::exception&) {
    return no("not a complete JSON file");
  }
  if (!j.is_object()) return no("not a glue summary");
  auto text = [&](const char* key) { return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : ""; };

  // The settings that decide the result.
  if (text("task") != info.name) return no("made for task " + (j.contains("task") ? j["task"].dump() : "none"));
  if (!same_file(text("checkpoint"), opt.checkpoint))
    return no("made from another checkpoint (" + (j.contains("checkpoint") ? j["checkpoint"].dump() : "none") + ")");
  const std::vector<std::pair<const char*, nlohmann::ordered_json>> settings = {
      {"seed", opt.seed},       {"epochs", opt.epochs},         {"lr", opt.lr},
      {"batch_size", opt.batch_size}, {"warmup", opt.warmup}, {"weight_decay", opt.weight_decay},
      {"grad_clip", opt.grad_clip}, {"max_train", opt.max_train}};
  for (const auto& [key, want] : settings) {
    if (!j.contains(key)) return no(std::string("has no ") + key);
    if (j[key] != want) return no(std::string("made with ") + key + " " + j[key].dump() + ", not " + want.dump());
  }

  // Complete: every number the table needs, and the predictions it describes.
  for (const char* part : {"metrics", "majority"})
    for (const auto& [set, metric] : glue_cell_metrics(info.name)) {
      const bool there = j.contains(part) && j[part].is_object() && j[part].contains(set) && j[part][set].is_object() &&
                         j[part][set].contains(metric) && j[part][set][metric].is_number();
      if (!there) return no(std::string("incomplete: no ") + part + "." + set + "." + metric);
    }
  for (const auto& d : info.dev_sets) {
    const fs::path pred = fs::path(opt.out_dir) / ("predictions_" + d.name + ".tsv");
    if (!fs::is_regular_file(pred, ec)) return no("incomplete: no " + pred.filename().string());
  }

  // A checkpoint trained again in place since is another model.
  const auto ckpt_time = fs::last_write_time(opt.checkpoint, ec);
  if (!ec && ckpt_time > fs::last_write_time(mp, ec)) return no("the checkpoint was written after it");
  return j;
}

GlueSweepResult run_glue_sweep(const GlueSweepOptions& opt,
                               const std::function<void(const nlohmann::ordered_json&)>& on_run) {
  const GlueOptions& base = opt.run;
  if (opt.checkpoints.empty()) throw std::invalid_argument("glue --all: give at least one --checkpoint");
  if (opt.labels.size() != opt.checkpoints.size())
    throw std::invalid_argument("--labels: " + std::to_string(opt.labels.size()) + " names for " +
                                std::to_string(opt.checkpoints.size()) + " checkpoints");
  if (opt.seeds < 1) throw std::invalid_argument("--seeds must be >= 1");
  if (base.seed > std::numeric_limits<uint64_t>::max() - static_cast<uint64_t>(opt.seeds - 1))
    throw std::invalid_argument("--seed " + std::to_string(base.seed) + " with --seeds " + std::to_string(opt.seeds) +
                                " runs past the largest seed");
  std::vector<std::string> tasks = opt.tasks.empty() ? paper_glue_tasks() : opt.tasks;
  for (std::string& t : tasks) t = glue_task_info(t).name;  // validates, and GLUE's spelling
  for (size_t i = 0; i < tasks.size(); ++i)
    for (size_t k = 0; k < i; ++k)
      if (tasks[i] == tasks[k]) throw std::invalid_argument("--tasks: " + tasks[i] + " is listed twice");

  GlueSweepResult res;
  res.table_path = opt.table_path.empty() ? (fs::path(opt.out_dir) / "glue_table.md").string() : opt.table_path;
  res.json_path = json_path_beside(res.table_path);
  GlueTable& table = res.table;
  table.tasks = tasks;
  table.labels = opt.labels;
  table.checkpoints = opt.checkpoints;
  for (int64_t s = 0; s < opt.seeds; ++s) table.seeds.push_back(base.seed + static_cast<uint64_t>(s));
  table.cells.assign(opt.checkpoints.size(), std::vector<GlueTableCell>(tasks.size()));

  // Everything is checked before the first (possibly hours-long) run starts.
  std::vector<bool> runs_task(tasks.size(), true);
  for (size_t c = 0; c < tasks.size(); ++c) {
    if (opt.skip_missing) {
      const std::string missing = missing_task_file(base.glue_dir, glue_task_info(tasks[c]));
      if (!missing.empty()) {
        runs_task[c] = false;
        res.skipped_tasks.push_back(tasks[c]);
        for (auto& row : table.cells) row[c].no_files = true;
        if (!base.quiet)
          std::fprintf(stderr, "noiseformer glue: %s left out (--skip-missing): no %s\n", tasks[c].c_str(),
                       missing.c_str());
        continue;
      }
    }
    GlueOptions check = base;
    check.task = tasks[c];
    check_glue_task_files(check);
  }
  if (res.skipped_tasks.size() == tasks.size())
    throw std::runtime_error("--skip-missing: none of the tasks has its train and dev files in " + base.glue_dir);
  for (const auto& c : opt.checkpoints) check_glue_checkpoint(c);

  auto write_table = [&] {
    res.markdown = glue_markdown_table(table);
    const fs::path tp(res.table_path);
    if (tp.has_parent_path()) fs::create_directories(tp.parent_path());
    write_file_atomic(res.table_path, res.markdown);
    write_file_atomic(res.json_path, glue_table_json(table).dump(2) + "\n");
  };
  const size_t total = static_cast<size_t>(opt.seeds) * opt.checkpoints.size() *
                       static_cast<size_t>(std::count(runs_task.begin(), runs_task.end(), true));
  size_t done = 0;
  for (int64_t s = 0; s < opt.seeds; ++s)
    for (size_t r = 0; r < opt.checkpoints.size(); ++r)
      for (size_t c = 0; c < tasks.size(); ++c) {
        if (!runs_task[c]) continue;
        GlueOptions run = base;
        run.task = tasks[c];
        run.checkpoint = opt.checkpoints[r];
        run.seed = table.seeds[static_cast<size_t>(s)];
        run.out_dir = glue_run_dir(opt.out_dir, r, opt.labels[r], tasks[c], run.seed, opt.seeds);
        const std::string metrics_file = (fs::path(run.out_dir) / "metrics.json").string();
        const std::string head = "noiseformer glue: [" + std::to_string(++done) + "/" + std::to_string(total) + "] " +
                                 opt.labels[r] + ", " + tasks[c] + ", seed " + std::to_string(run.seed) + ": ";
        std::string why_not;
        nlohmann::ordered_json summary;
        if (auto earlier = reusable_glue_run(run, &why_not)) {
          summary = std::move(*earlier);
          ++res.reused;
          if (!base.quiet) std::fprintf(stderr, "%sreused %s\n", head.c_str(), metrics_file.c_str());
        } else {
          if (!base.quiet)
            std::fprintf(stderr, "%sfine-tuning%s\n", head.c_str(),
                         why_not.empty() ? "" : (" (" + metrics_file + " not reused: " + why_not + ")").c_str());
          summary = run_glue(run).summary;
          ++res.trained;
        }
        GlueTableCell& cell = table.cells[r][c];
        cell.runs.push_back(summary);
        cell.files.push_back(metrics_file);
        if (on_run) on_run(summary);
        write_table();  // kept current, so a long sweep shows its progress
      }
  write_table();
  return res;
}

}  // namespace nf
