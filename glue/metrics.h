#pragma once
// The metrics GLUE reports, and which ones each task uses:
//   CoLA            Matthews correlation
//   MRPC, QQP       F1 (positive class 1), then accuracy
//   STS-B           Pearson, then Spearman correlation
//   everything else accuracy; MNLI has two dev sets (matched, mismatched) scored separately.
// The plain metric functions throw std::invalid_argument when the two inputs differ in length or
// are empty. A correlation that is undefined (a constant input, fewer than 2 points) is 0, as is
// an F1 with no positives at all.
#include <string>
#include <utility>
#include <vector>

#include "glue/data.h"

namespace nf {

double accuracy(const std::vector<int>& predictions, const std::vector<int>& labels);
// F1 of class `positive`: 2·TP / (2·TP + FP + FN).
double f1_score(const std::vector<int>& predictions, const std::vector<int>& labels, int positive = 1);
// Matthews correlation coefficient; for more than two classes the multi-class generalisation
// (Gorodkin's R_K, as scikit-learn computes it). 0 when undefined.
double matthews_corrcoef(const std::vector<int>& predictions, const std::vector<int>& labels);
double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y);
// Pearson correlation of the ranks; tied values share the average of their ranks.
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);
// 1-based ranks of x, ties given the average of the ranks they span ({10, 20, 20} -> {1, 2.5, 2.5}).
std::vector<double> average_ranks(const std::vector<double>& x);

// The scores of one evaluation set.
struct GlueScores {
  std::string eval_set;  // as GLUE's leaderboard names it: "CoLA", "SST-2", "MNLI-m", "MNLI-mm", ...
  std::vector<std::pair<std::string, double>> metrics;  // in GlueTaskInfo::metrics order

  double value(const std::string& metric) const;  // throws if this set has no such metric
  double average() const;                         // mean of the metrics
};

// Scores `predictions` against `references` (both as glue_references() gives them: class ids
// for classification tasks, similarity scores for STS-B) for one dev set of `task`.
// `dev_set` is the GlueSplitFile::name of the set: "dev" for every task but MNLI, which must be
// scored once per set, with "matched" and with "mismatched" — the two are separate dev files
// (dev_matched.tsv, dev_mismatched.tsv) and GLUE reports MNLI-m and MNLI-mm separately.
// Throws std::invalid_argument on a length mismatch, an unknown dev_set, or a class id that is
// not an integer in [0, num_classes).
GlueScores glue_metrics(GlueTask task, const std::vector<double>& predictions,
                        const std::vector<double>& references, const std::string& dev_set = "dev");

// The name GLUE's leaderboard gives a dev set of `task` (GlueScores::eval_set): the task's name,
// or "MNLI-m" / "MNLI-mm" for MNLI's "matched" / "mismatched". Throws std::invalid_argument for a
// dev_set the task does not have.
std::string glue_eval_set_name(GlueTask task, const std::string& dev_set);

// GLUE's single number for a task: the mean of its metrics, averaged over its dev sets
// (MRPC: (F1 + accuracy) / 2; MNLI: (MNLI-m + MNLI-mm) / 2).
double glue_task_score(const std::vector<GlueScores>& dev_sets);

}  // namespace nf
