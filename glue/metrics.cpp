// GLUE metrics; definitions and conventions in glue_metrics.h.
#include "glue/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>

namespace nf {
namespace {

template <class A, class B>
void check_pair(const char* what, const std::vector<A>& a, const std::vector<B>& b) {
  if (a.size() != b.size())
    throw std::invalid_argument(std::string(what) + ": " + std::to_string(a.size()) +
                                " predictions but " + std::to_string(b.size()) + " labels");
  if (a.empty()) throw std::invalid_argument(std::string(what) + ": no examples");
}

// Class ids arrive as doubles (one signature for all tasks); they must be exact integers in range.
std::vector<int> class_ids(const std::vector<double>& v, int num_classes, const char* which) {
  std::vector<int> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (!(v[i] >= 0 && v[i] < num_classes && v[i] == std::floor(v[i])))
      throw std::invalid_argument(std::string("glue_metrics: ") + which + " " + std::to_string(i) +
                                  " is " + std::to_string(v[i]) + ", not a class id in [0, " +
                                  std::to_string(num_classes) + ")");
    out[i] = static_cast<int>(v[i]);
  }
  return out;
}

}  // namespace

double accuracy(const std::vector<int>& predictions, const std::vector<int>& labels) {
  check_pair("accuracy", predictions, labels);
  size_t correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) correct += predictions[i] == labels[i];
  return static_cast<double>(correct) / static_cast<double>(labels.size());
}

double f1_score(const std::vector<int>& predictions, const std::vector<int>& labels, int positive) {
  check_pair("f1_score", predictions, labels);
  double tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    const bool p = predictions[i] == positive, t = labels[i] == positive;
    tp += p && t;
    fp += p && !t;
    fn += !p && t;
  }
  const double denom = 2 * tp + fp + fn;
  return denom == 0 ? 0.0 : 2 * tp / denom;
}

double matthews_corrcoef(const std::vector<int>& predictions, const std::vector<int>& labels) {
  check_pair("matthews_corrcoef", predictions, labels);
  // From the confusion matrix's margins: with n examples, c correct, p_k predictions and t_k true
  // labels of class k,  MCC = (c·n − Σ p_k t_k) / sqrt((n² − Σ p_k²)(n² − Σ t_k²)).
  // For two classes this is the familiar (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN)).
  std::map<int, double> pred_count, true_count;
  double correct = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    pred_count[predictions[i]] += 1;
    true_count[labels[i]] += 1;
    correct += predictions[i] == labels[i];
  }
  const double n = static_cast<double>(labels.size());
  double pt = 0, pp = 0, tt = 0;
  for (const auto& [k, p] : pred_count) {
    pp += p * p;
    auto it = true_count.find(k);
    if (it != true_count.end()) pt += p * it->second;
  }
  for (const auto& [k, t] : true_count) tt += t * t;
  const double denom = std::sqrt((n * n - pp) * (n * n - tt));
  return denom == 0 ? 0.0 : (correct * n - pt) / denom;
}

double pearson_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair("pearson_correlation", x, y);
  // A constant input is undefined (0). Test it exactly: its mean is rounded, so x − mean can be
  // a tiny non-zero and leave a correlation of ~1e-16 instead of 0.
  auto constant = [](const std::vector<double>& v) {
    return std::all_of(v.begin(), v.end(), [&](double e) { return e == v.front(); });
  };
  if (constant(x) || constant(y)) return 0.0;
  // Two passes (means first) rather than running sums, which lose precision on large means.
  const double n = static_cast<double>(x.size());
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx == 0 || syy == 0) return 0.0;
  // Rounding can push |r| a hair past 1 for perfectly correlated inputs.
  return std::clamp(sxy / std::sqrt(sxx * syy), -1.0, 1.0);
}

std::vector<double> average_ranks(const std::vector<double>& x) {
  std::vector<size_t> order(x.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return x[a] < x[b]; });
  std::vector<double> ranks(x.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i + 1;
    while (j < order.size() && x[order[j]] == x[order[i]]) ++j;
    // Sorted positions i..j-1 hold equal values: 1-based ranks i+1..j, whose mean is (i+1+j)/2.
    const double rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) ranks[order[k]] = rank;
    i = j;
  }
  return ranks;
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair("spearman_correlation", x, y);
  return pearson_correlation(average_ranks(x), average_ranks(y));
}

double GlueScores::value(const std::string& metric) const {
  for (const auto& [name, v] : metrics)
    if (name == metric) return v;
  throw std::invalid_argument("GLUE scores of " + eval_set + " have no metric '" + metric + "'");
}

double GlueScores::average() const {
  if (metrics.empty()) return 0.0;
  double sum = 0;
  for (const auto& m : metrics) sum += m.second;
  return sum / static_cast<double>(metrics.size());
}

std::string glue_eval_set_name(GlueTask task, const std::string& dev_set) {
  if (task == GlueTask::MNLI) {
    if (dev_set == "matched") return "MNLI-m";
    if (dev_set == "mismatched") return "MNLI-mm";
    throw std::invalid_argument("glue_metrics: MNLI has two dev sets; score each with dev_set "
                                "\"matched\" or \"mismatched\", not \"" + dev_set + "\"");
  }
  const GlueTaskInfo& info = glue_task_info(task);
  if (dev_set != "dev")
    throw std::invalid_argument("glue_metrics: " + info.name + " has one dev set, \"dev\", not \"" + dev_set + "\"");
  return info.name;
}

GlueScores glue_metrics(GlueTask task, const std::vector<double>& predictions,
                        const std::vector<double>& references, const std::string& dev_set) {
  const GlueTaskInfo& info = glue_task_info(task);
  check_pair("glue_metrics", predictions, references);

  GlueScores out;
  out.eval_set = glue_eval_set_name(task, dev_set);

  if (info.num_classes == 1) {  // STS-B: regression
    out.metrics = {{"pearson", pearson_correlation(predictions, references)},
                   {"spearman", spearman_correlation(predictions, references)}};
    return out;
  }
  const std::vector<int> pred = class_ids(predictions, info.num_classes, "prediction");
  const std::vector<int> ref = class_ids(references, info.num_classes, "reference");
  for (const std::string& m : info.metrics) {
    if (m == "mcc") out.metrics.emplace_back(m, matthews_corrcoef(pred, ref));
    else if (m == "f1") out.metrics.emplace_back(m, f1_score(pred, ref, 1));
    else if (m == "accuracy") out.metrics.emplace_back(m, accuracy(pred, ref));
    else throw std::logic_error("glue_metrics: no implementation of metric '" + m + "'");
  }
  return out;
}

double glue_task_score(const std::vector<GlueScores>& dev_sets) {
  if (dev_sets.empty()) throw std::invalid_argument("glue_task_score: no dev sets");
  double sum = 0;
  for (const GlueScores& s : dev_sets) sum += s.average();
  return sum / static_cast<double>(dev_sets.size());
}

}  // namespace nf
