#pragma once
// Readers for the GLUE benchmark's TSV files in the standard layout that
// download_glue_data.py writes: <glue_dir>/<TASK>/{train,dev,test}.tsv (MNLI: dev_matched.tsv,
// dev_mismatched.tsv, test_matched.tsv, test_mismatched.tsv).
//
// The files are tab-separated and NOT CSV-quoted: a `"` inside a sentence is just a character
// (several real rows hold unmatched quotes), so lines are split on tabs only. Columns are found by
// their header names; only CoLA's distributed train/dev files have no header (4 columns: source,
// label, original judgement mark, sentence), and the reader detects which CoLA form it has.
// The reader itself is tolerant: a row that cannot be read (wrong column count, unknown label,
// ...) is counted and described (file, line, column), and a missing file or a header without the
// needed text columns throws. Whether a bad row is fatal is the caller's choice: `noiseformer
// glue` refuses any before training unless told --skip-malformed (glue/finetune.h).
#include <string>
#include <vector>

namespace nf {

enum class GlueTask { CoLA, SST2, MRPC, QQP, STSB, MNLI, QNLI, RTE, WNLI };

// One evaluation (or test) file of a task. Every task has one dev set named "dev" except MNLI,
// which has two, "matched" and "mismatched"; GLUE reports each as its own score (MNLI-m, MNLI-mm).
struct GlueSplitFile {
  std::string name;  // "dev", "matched", "mismatched", "test"
  std::string file;  // file name inside <glue_dir>/<dir>/, e.g. "dev_matched.tsv"
};

struct GlueTaskInfo {
  GlueTask task;
  std::string name;                      // as GLUE writes it: "CoLA", "SST-2", "STS-B", ...
  std::string dir;                       // directory under glue_dir (same as name)
  int num_classes;                       // 1 for STS-B, the one regression task
  bool is_pair;                          // two sentences per example
  std::vector<std::string> metrics;      // what glue_metrics() reports, in GLUE's order
  std::vector<std::string> label_names;  // label_names[class id] as written in the files
  std::string train_file;
  std::vector<GlueSplitFile> dev_sets;
  std::vector<GlueSplitFile> test_sets;
};

// All nine tasks, in GLUE's order.
const std::vector<GlueTaskInfo>& glue_tasks();
const GlueTaskInfo& glue_task_info(GlueTask task);
// By name, ignoring case and dashes: "cola", "SST-2", "sst2", "sts-b", "mnli", ...; throws a
// one-line error listing the valid names otherwise.
const GlueTaskInfo& glue_task_info(const std::string& name);

struct GlueExample {
  std::string id;      // the file's index/id column; for files without one, the 0-based row number
  std::string text_a;  // first (or only) sentence, exactly as in the file
  std::string text_b;  // second sentence for pair tasks, else empty
  int label = -1;      // class id (index into label_names); -1 for STS-B or without a label
  double score = 0.0;  // STS-B similarity in [0, 5], exactly as the file writes it
  bool has_label = false;  // false for test files, which carry no labels
};

struct GlueSplit {
  std::string path;
  std::vector<GlueExample> examples;
  bool has_labels = false;            // the file has a label column (train/dev files must; test files don't)
  std::string label_column;           // the label column's usual header name, e.g. "label", "gold_label"
  int malformed_rows = 0;             // rows skipped because they could not be read
  std::vector<std::string> problems;  // "file:line: [column N (name):] reason" for the first few of those rows
};

// Reads one TSV file of `task`. Throws (one line, naming the file) if it is missing or has no
// usable header; bad rows only increase malformed_rows.
GlueSplit read_glue_file(GlueTask task, const std::string& path);

// Reads <glue_dir>/<task dir>/<file>, e.g. read_glue_split(dir, GlueTask::MNLI, "dev_matched.tsv").
GlueSplit read_glue_split(const std::string& glue_dir, GlueTask task, const std::string& file);

// The reference value of each example as glue_metrics() takes it: the class id, or the STS-B score.
std::vector<double> glue_references(GlueTask task, const std::vector<GlueExample>& examples);

}  // namespace nf
