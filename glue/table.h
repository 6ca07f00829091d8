#pragma once
// The table of `glue --all` in the NoiseFormer paper's layout (docs/glue.md, "Reading the
// table"): one row per pre-trained model and a last "majority class" row; one column per task,
// in the order given. Everything in it comes from the runs' metrics.json summaries, and the JSON
// twin (glue_table_json) holds each run's metrics, so every cell can be recomputed from files.
//
// A cell holds the task's dev metrics ×100 with 2 decimals, in the order its header names them
// (MRPC, QQP: F1/accuracy; STS-B: Pearson/Spearman; MNLI: matched/mismatched accuracy; CoLA:
// Matthews correlation; the others accuracy):
//   one planned seed    the run's values joined by "/", e.g. "81.63/70.10";
//   several seeds       "mean ± std" of each metric over the seeds (sample std, n − 1), joined by
//                       " / ", e.g. "81.63 ± 0.52 / 70.10 ± 1.03";
//   seeds still running the finished seeds' values and "(k/N seeds)"; "–" when none has finished;
//   files missing       "n/a (no files)": the task was left out (glue --all --skip-missing).
// The majority row is each run's `majority` (always the most frequent training class; STS-B: the
// mean training score), taken from the first model row that ran the seed. It depends only on the
// training set, so it is one value per metric when every seed gives the same (always, without
// --max-train), and mean ± std like a model cell when the seeds' training subsets differ.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace nf {

struct GlueTableCell {
  bool no_files = false;                     // the task was left out: its files are missing
  std::vector<nlohmann::ordered_json> runs;  // the finished runs' summaries (metrics.json), in seed order
  std::vector<std::string> files;            // the metrics.json each run is in ("" when none was written)
};

struct GlueTable {
  std::vector<std::string> tasks;                 // GLUE's names, in column order
  std::vector<uint64_t> seeds;                    // the seeds every cell is planned to have
  std::vector<std::string> labels;                // the model rows' names
  std::vector<std::string> checkpoints;           // each model row's checkpoint
  std::vector<std::vector<GlueTableCell>> cells;  // [model row][task]
};

// A task's metrics in the order its cell shows them: (eval set, metric) pairs as metrics.json
// names them, e.g. {("MNLI-m", "accuracy"), ("MNLI-mm", "accuracy")}.
std::vector<std::pair<std::string, std::string>> glue_cell_metrics(const std::string& task);

// A task's column header, e.g. "MRPC (F1/acc)", "MNLI (m/mm acc)".
std::string glue_table_header(const std::string& task);

// The majority row's cell of column `task`: per seed, the `majority` of the first model row that
// has a run with that seed (the same data and seed give the same baseline in every row).
GlueTableCell glue_majority_cell(const GlueTable& t, size_t task);

// The text of one cell. `key` is "metrics" for a model row, "majority" for the baseline.
std::string glue_table_cell(const GlueTable& t, const GlueTableCell& cell, size_t task, const std::string& key);

// The markdown table, then a footnote that says what the cells are.
std::string glue_markdown_table(const GlueTable& t);

// The same table as JSON: the seeds, the columns, and per row and task the cell's text, each
// run's seed, metrics.json path and metrics (fractions), and the mean and std ×100 that the
// cell shows. docs/formats.md §7 lists the keys.
nlohmann::ordered_json glue_table_json(const GlueTable& t);

// The paper's task order: MRPC, CoLA, MNLI, QQP, RTE, QNLI, SST-2.
const std::vector<std::string>& paper_glue_tasks();

}  // namespace nf
