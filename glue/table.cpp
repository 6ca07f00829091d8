// The table of `glue --all`: cells from the runs' summaries, as markdown and as JSON (glue/table.h).
#include "glue/table.h"

#include <cmath>

#include "glue/data.h"
#include "glue/metrics.h"
#include "train/format.h"

namespace nf {

namespace {

const char* const kMajorityLabel = "majority class";

// One cell's numbers: per metric, the ×100 value of each finished run, and their mean and sample
// standard deviation (0 with fewer than two runs).
struct CellStats {
  std::vector<std::pair<std::string, std::string>> metrics;
  std::vector<std::vector<double>> x100;  // [metric][run]
  std::vector<double> mean, std;
  bool seeds_agree = true;  // every run gave the same value for every metric
};

CellStats cell_stats(const std::string& task, const GlueTableCell& cell, const std::string& key) {
  CellStats s;
  s.metrics = glue_cell_metrics(task);
  for (const auto& [set, metric] : s.metrics) {
    std::vector<double> v;
    for (const auto& run : cell.runs) v.push_back(100.0 * run.at(key).at(set).at(metric).get<double>());
    double sum = 0;
    for (double x : v) sum += x;
    const double mean = v.empty() ? 0 : sum / static_cast<double>(v.size());
    double ss = 0;
    for (double x : v) {
      ss += (x - mean) * (x - mean);
      if (x != v.front()) s.seeds_agree = false;
    }
    s.mean.push_back(mean);
    s.std.push_back(v.size() < 2 ? 0 : std::sqrt(ss / static_cast<double>(v.size() - 1)));
    s.x100.push_back(std::move(v));
  }
  return s;
}

// {eval set: {metric: value}} from one value per metric, in cell order (null for a NaN: the std
// of a single run).
nlohmann::ordered_json per_metric_json(const std::vector<std::pair<std::string, std::string>>& metrics,
                                       const std::vector<double>& values) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (size_t i = 0; i < metrics.size(); ++i) {
    nlohmann::ordered_json& set = j[metrics[i].first];
    if (std::isnan(values[i])) set[metrics[i].second] = nullptr;
    else set[metrics[i].second] = values[i];
  }
  return j;
}

std::string escape_cell(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '|') o += "\\|";
    else if (c == '\n') o += ' ';
    else o += c;
  }
  return o;
}

std::string seed_range(const std::vector<uint64_t>& seeds) {
  if (seeds.size() == 1) return std::to_string(seeds[0]);
  return std::to_string(seeds.front()) + "–" + std::to_string(seeds.back());
}

// What the cells mean, in the words of docs/glue.md, for the tasks and states this table has.
std::string footnote(const GlueTable& t) {
  bool sts = false, cola = false, missing = false, partial = false, none = false;
  for (const auto& task : t.tasks) {
    sts = sts || task == "STS-B";
    cola = cola || task == "CoLA";
  }
  for (const auto& row : t.cells)
    for (const auto& c : row) {
      missing = missing || c.no_files;
      none = none || (!c.no_files && c.runs.empty());
      partial = partial || (!c.runs.empty() && c.runs.size() < t.seeds.size());
    }
  std::string s;
  if (t.seeds.size() == 1)
    s += "Dev-set metrics × 100, fine-tuned with seed " + std::to_string(t.seeds[0]) + ".";
  else
    s += "Dev-set metrics × 100: mean ± sample standard deviation over " + std::to_string(t.seeds.size()) +
         " fine-tuning seeds (" + seed_range(t.seeds) + ").";
  s += "\n\n*" + std::string(kMajorityLabel) +
       "*: the dev metrics of always predicting the most frequent class of the training set";
  if (sts)
    s += "; for STS-B, of always predicting the mean training score, a constant whose Pearson and Spearman "
         "correlations are undefined and reported as 0";
  if (cola) s += "; CoLA's Matthews correlation of a constant prediction is 0";
  s += ".";
  if (t.seeds.size() > 1)
    s += " One value where every seed has the same baseline; mean ± std where the seeds' training subsets "
         "(--max-train) differ.";
  if (missing) s += "\n\n*n/a (no files)*: the task's train or dev file is not in the GLUE folder; it was not run.";
  if (partial) s += "\n\n*(k/N seeds)*: only k of the N seeds have finished.";
  if (none) s += "\n\n*–*: no run has finished yet.";
  return s + "\n";
}

}  // namespace

const std::vector<std::string>& paper_glue_tasks() {
  static const std::vector<std::string> t = {"MRPC", "CoLA", "MNLI", "QQP", "RTE", "QNLI", "SST-2"};
  return t;
}

std::vector<std::pair<std::string, std::string>> glue_cell_metrics(const std::string& task) {
  const GlueTaskInfo& info = glue_task_info(task);
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& d : info.dev_sets)
    for (const auto& m : info.metrics) out.emplace_back(glue_eval_set_name(info.task, d.name), m);
  return out;
}

std::string glue_table_header(const std::string& task) {
  const GlueTaskInfo& info = glue_task_info(task);
  auto short_name = [](const std::string& m) -> std::string {
    if (m == "f1") return "F1";
    if (m == "accuracy") return "acc";
    if (m == "mcc") return "MCC";
    if (m == "pearson") return "Pearson";
    if (m == "spearman") return "Spearman";
    return m;
  };
  std::string what;
  if (info.dev_sets.size() > 1) {
    for (const auto& d : info.dev_sets)
      what += (what.empty() ? "" : "/") +
              std::string(d.name == "matched" ? "m" : d.name == "mismatched" ? "mm" : d.name);
    what += " " + short_name(info.metrics.front());
  } else {
    for (const auto& m : info.metrics) what += (what.empty() ? "" : "/") + short_name(m);
  }
  return info.name + " (" + what + ")";
}

GlueTableCell glue_majority_cell(const GlueTable& t, size_t task) {
  GlueTableCell out;
  for (const auto& row : t.cells) out.no_files = out.no_files || row.at(task).no_files;
  for (uint64_t seed : t.seeds) {
    for (const auto& row : t.cells) {
      const GlueTableCell& c = row.at(task);
      bool found = false;
      for (size_t i = 0; i < c.runs.size() && !found; ++i)
        if (c.runs[i].at("seed").get<uint64_t>() == seed) {
          out.runs.push_back(c.runs[i]);
          out.files.push_back(i < c.files.size() ? c.files[i] : "");
          found = true;
        }
      if (found) break;
    }
  }
  return out;
}

std::string glue_table_cell(const GlueTable& t, const GlueTableCell& cell, size_t task, const std::string& key) {
  if (cell.no_files) return "n/a (no files)";
  if (cell.runs.empty()) return "–";
  const CellStats s = cell_stats(t.tasks.at(task), cell, key);
  const size_t done = cell.runs.size(), planned = t.seeds.size();
  // One value per metric: one run, or a baseline that every seed agrees on.
  const bool single = done == 1 || (key == "majority" && s.seeds_agree);
  std::string text;
  for (size_t m = 0; m < s.metrics.size(); ++m) {
    if (single) text += (m ? "/" : "") + format_double("%.2f", s.x100[m][0]);
    else text += (m ? " / " : "") + format_double("%.2f", s.mean[m]) + " ± " + format_double("%.2f", s.std[m]);
  }
  if (done < planned) text += " (" + std::to_string(done) + "/" + std::to_string(planned) + " seeds)";
  return text;
}

std::string glue_markdown_table(const GlueTable& t) {
  std::string out = "| Model |";
  for (const auto& task : t.tasks) out += " " + glue_table_header(task) + " |";
  out += "\n|---|";
  for (size_t i = 0; i < t.tasks.size(); ++i) out += "---|";
  out += "\n";
  for (size_t r = 0; r < t.labels.size(); ++r) {
    out += "| " + escape_cell(t.labels[r]) + " |";
    for (size_t c = 0; c < t.tasks.size(); ++c) out += " " + glue_table_cell(t, t.cells.at(r).at(c), c, "metrics") + " |";
    out += "\n";
  }
  out += "| " + std::string(kMajorityLabel) + " |";
  for (size_t c = 0; c < t.tasks.size(); ++c) out += " " + glue_table_cell(t, glue_majority_cell(t, c), c, "majority") + " |";
  out += "\n\n" + footnote(t);
  return out;
}

nlohmann::ordered_json glue_table_json(const GlueTable& t) {
  auto cell_json = [&](const GlueTableCell& cell, size_t task, const std::string& key) {
    nlohmann::ordered_json j;
    j["text"] = glue_table_cell(t, cell, task, key);
    j["status"] = cell.no_files ? "no files"
                  : cell.runs.empty() ? "not run"
                  : cell.runs.size() < t.seeds.size() ? "partial"
                                                      : "done";
    nlohmann::ordered_json runs = nlohmann::ordered_json::array();
    for (size_t i = 0; i < cell.runs.size(); ++i)
      runs.push_back({{"seed", cell.runs[i].at("seed")},
                      {"metrics_file", i < cell.files.size() ? cell.files[i] : ""},
                      {"metrics", cell.runs[i].at(key)}});
    j["runs"] = runs;
    if (!cell.runs.empty()) {
      const CellStats s = cell_stats(t.tasks[task], cell, key);
      j["mean"] = per_metric_json(s.metrics, s.mean);
      std::vector<double> std = s.std;
      if (cell.runs.size() < 2) std.assign(std.size(), std::nan(""));
      j["std"] = per_metric_json(s.metrics, std);
    }
    return j;
  };
  nlohmann::ordered_json j;
  j["seeds"] = t.seeds;
  j["units"] = "runs[].metrics are fractions, as in metrics.json; mean and std are x 100, as in the cells "
               "(std: sample standard deviation over the runs, null for one run)";
  nlohmann::ordered_json tasks = nlohmann::ordered_json::array();
  for (const auto& task : t.tasks) {
    nlohmann::ordered_json metrics = nlohmann::ordered_json::array();
    for (const auto& [set, metric] : glue_cell_metrics(task)) metrics.push_back({{"set", set}, {"metric", metric}});
    tasks.push_back({{"task", task}, {"header", glue_table_header(task)}, {"metrics", metrics}});
  }
  j["tasks"] = tasks;
  nlohmann::ordered_json rows = nlohmann::ordered_json::array();
  for (size_t r = 0; r <= t.labels.size(); ++r) {
    const bool majority = r == t.labels.size();
    nlohmann::ordered_json row;
    row["label"] = majority ? kMajorityLabel : t.labels[r];
    if (majority || r >= t.checkpoints.size()) row["checkpoint"] = nullptr;
    else row["checkpoint"] = t.checkpoints[r];
    nlohmann::ordered_json cells = nlohmann::ordered_json::object();
    for (size_t c = 0; c < t.tasks.size(); ++c)
      cells[t.tasks[c]] = majority ? cell_json(glue_majority_cell(t, c), c, "majority")
                                   : cell_json(t.cells.at(r).at(c), c, "metrics");
    row["cells"] = cells;
    rows.push_back(row);
  }
  j["rows"] = rows;
  j["footnote"] = footnote(t);
  return j;
}

}  // namespace nf
