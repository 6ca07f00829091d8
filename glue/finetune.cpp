// GLUE fine-tuning: encoding, the training loop, dev evaluation and predictions.
// The protocol and its choices are in glue_finetune.h and docs/glue.md.
#include "glue/finetune.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "models/sequence_classifier.h"
#include "tensor/device_hooks.h"
#include "io/checkpoint.h"
#include "io/file.h"
#include "optim/optim.h"
#include "train/eval_scope.h"
#include "train/format.h"
#include "train/step.h"

namespace nf {
namespace fs = std::filesystem;

// ---- encoding ----------------------------------------------------------------------------------

void truncate_longest_first(std::vector<int>& a, std::vector<int>& b, size_t budget) {
  while (a.size() + b.size() > budget) {
    if (a.size() > b.size()) a.pop_back();
    else b.pop_back();  // b is at least as long (a tie trims sentence2)
  }
}

GlueEncoder::GlueEncoder(const Tokenizer& tok, int64_t block_size) : tok_(tok), block_(block_size), sep_(0) {
  if (block_size < 1) throw std::invalid_argument("GlueEncoder: block_size must be >= 1");
  try {
    const std::vector<int> nl = tok.encode("\n");
    if (nl.size() == 1) sep_ = nl[0];
  } catch (const std::exception&) {
    // A char vocabulary without '\n': the separator is id 0.
  }
}

std::vector<int64_t> GlueEncoder::encode(const GlueExample& ex, bool pair, bool* truncated) const {
  std::vector<int> a = tok_.encode_lossy(ex.text_a);
  std::vector<int> b;
  bool cut = false;
  if (pair) {
    b = tok_.encode_lossy(ex.text_b);
    const size_t budget = static_cast<size_t>(block_ - 1);
    cut = a.size() + b.size() > budget;
    truncate_longest_first(a, b, budget);
  } else if (a.size() > static_cast<size_t>(block_)) {
    a.resize(static_cast<size_t>(block_));
    cut = true;
  }
  if (truncated) *truncated = cut;
  std::vector<int64_t> ids(a.begin(), a.end());
  if (pair) {
    ids.push_back(sep_);
    ids.insert(ids.end(), b.begin(), b.end());
  }
  if (ids.empty()) ids.push_back(sep_);
  return ids;
}

// ---- helpers -------------------------------------------------------------------------------------
namespace {

struct Encoded {
  std::vector<std::vector<int64_t>> ids;
  int64_t truncated = 0;
};

Encoded encode_all(const GlueEncoder& enc, const std::vector<GlueExample>& ex, bool pair) {
  Encoded e;
  e.ids.reserve(ex.size());
  for (const GlueExample& x : ex) {
    bool cut = false;
    e.ids.push_back(enc.encode(x, pair, &cut));
    e.truncated += cut ? 1 : 0;
  }
  return e;
}

// Rows `rows` of `seqs`, right-padded with `pad` to the longest: idx (B, T) and last (B), on `device`.
void make_batch(const std::vector<std::vector<int64_t>>& seqs, const std::vector<size_t>& rows, int64_t pad,
                Device device, Tensor& idx, Tensor& last) {
  const int64_t B = static_cast<int64_t>(rows.size());
  size_t T = 1;
  for (size_t r : rows) T = std::max(T, seqs[r].size());
  std::vector<int64_t> x(B * T, pad), l(B);
  for (int64_t b = 0; b < B; ++b) {
    const auto& s = seqs[rows[b]];
    std::copy(s.begin(), s.end(), x.begin() + b * static_cast<int64_t>(T));
    l[b] = static_cast<int64_t>(s.size()) - 1;
  }
  idx = from_vector(x, {B, static_cast<int64_t>(T)}).to(device);
  last = from_vector(l, {B}).to(device);
}

// Model outputs -> predictions for every row of `seqs` (class ids, or regression values), in
// batches of similar length (sorted), eval mode, no grad.
std::vector<double> predict(SequenceClassifier& clf, const std::vector<std::vector<int64_t>>& seqs, int64_t batch,
                            int64_t pad) {
  EvalScope scope(clf);
  std::vector<size_t> order(seqs.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t i, size_t j) { return seqs[i].size() < seqs[j].size(); });
  std::vector<double> pred(seqs.size());
  const int64_t K = clf.num_outputs();
  for (size_t s = 0; s < order.size(); s += static_cast<size_t>(batch)) {
    std::vector<size_t> rows(order.begin() + s, order.begin() + std::min(order.size(), s + static_cast<size_t>(batch)));
    Tensor idx, last;
    make_batch(seqs, rows, pad, clf.device(), idx, last);
    std::vector<double> out = clf.forward(idx, last).to_vector<double>();
    for (size_t b = 0; b < rows.size(); ++b) {
      if (K == 1) {
        pred[rows[b]] = out[b];
      } else {
        const double* row = out.data() + b * K;
        pred[rows[b]] = static_cast<double>(std::max_element(row, row + K) - row);
      }
    }
  }
  return pred;
}

nlohmann::ordered_json metrics_json(const GlueScores& s) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  for (auto& [name, v] : s.metrics) j[name] = v;
  return j;
}

void report_malformed(const GlueSplit& s, bool quiet) {
  if (quiet || s.malformed_rows == 0) return;
  std::fprintf(stderr, "noiseformer glue: %s: %d malformed row%s skipped%s%s\n", s.path.c_str(), s.malformed_rows,
               s.malformed_rows == 1 ? "" : "s", s.problems.empty() ? "" : " (first: ",
               s.problems.empty() ? "" : (s.problems[0] + ")").c_str());
}

// One train or dev file, read in full and checked before anything is trained: it must have a
// label column, and a row that cannot be read stops the run with the first problem (file, line,
// column) unless the user chose to skip such rows. Hours of fine-tuning must never end in an
// error about a file that was wrong from the start.
GlueSplit read_labelled_split(const GlueOptions& opt, const GlueTaskInfo& info, const std::string& file) {
  GlueSplit s = read_glue_split(opt.glue_dir, info.task, file);
  if (!s.has_labels)
    throw std::runtime_error("GLUE " + info.name + " file '" + s.path + "', line 1: header has no '" + s.label_column +
                             "' column; train and dev files need their labels");
  if (s.malformed_rows > 0 && !opt.skip_malformed) {
    const int more = s.malformed_rows - 1;
    throw std::runtime_error(s.problems.front() +
                             (more > 0 ? " (and " + std::to_string(more) + " more bad row" + (more == 1 ? "" : "s") + ")" : "") +
                             "; fix the file, or pass --skip-malformed to leave such rows out");
  }
  report_malformed(s, opt.quiet);
  return s;
}

const GlueTaskInfo& checked_options(const GlueOptions& o) {
  const GlueTaskInfo& info = glue_task_info(o.task);
  if (o.epochs < 0) throw std::invalid_argument("--epochs must be >= 0");
  if (o.batch_size < 1) throw std::invalid_argument("--batch-size must be >= 1");
  if (!(o.lr > 0)) throw std::invalid_argument("--lr must be > 0");
  if (!(o.warmup >= 0 && o.warmup < 1))
    throw std::invalid_argument("--warmup is the fraction of optimizer steps spent warming up: it must be in [0, 1), got " +
                                format_double("%g", o.warmup));
  if (!(o.grad_clip >= 0)) throw std::invalid_argument("--grad-clip must be >= 0");
  if (!(o.weight_decay >= 0)) throw std::invalid_argument("--weight-decay must be >= 0");
  if (o.max_train < 0) throw std::invalid_argument("--max-train must be >= 0");
  device_named(o.device);
  return info;
}

std::unique_ptr<Tokenizer> checkpoint_tokenizer(const std::string& path, const std::string& meta, int64_t vocab) {
  if (meta.empty())
    throw std::runtime_error(path + ": no tokenizer in its metadata, so GLUE text cannot be tokenised as in "
                                    "pre-training (write it again with `noiseformer train`)");
  std::unique_ptr<Tokenizer> tok;
  try {
    tok = load_tokenizer_from_json(nlohmann::json::parse(meta));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": bad tokenizer metadata: " + e.what());
  }
  if (tok->vocab_size() != vocab)
    throw std::runtime_error(path + ": its tokenizer has " + std::to_string(tok->vocab_size()) +
                             " tokens but the model's vocab_size is " + std::to_string(vocab));
  return tok;
}

}  // namespace

// ---- the run -------------------------------------------------------------------------------------

void check_glue_task_files(const GlueOptions& opt) {
  const GlueTaskInfo& info = checked_options(opt);
  read_labelled_split(opt, info, info.train_file);
  for (const auto& d : info.dev_sets) read_labelled_split(opt, info, d.file);
}

void check_glue_checkpoint(const std::string& path) {
  LoadedModel lm = load_model(path);
  checkpoint_tokenizer(path, lm.tokenizer_meta, lm.model->config().vocab_size);
}

GlueRunResult run_glue(const GlueOptions& opt) {
  const auto t_start = std::chrono::steady_clock::now();
  const GlueTaskInfo& info = checked_options(opt);
  const bool regression = info.num_classes == 1;

  // ---- model and tokenizer ----
  LoadedModel lm = load_model(opt.checkpoint);
  const GPTConfig cfg = lm.model->config();
  std::unique_ptr<Tokenizer> tok = checkpoint_tokenizer(opt.checkpoint, lm.tokenizer_meta, cfg.vocab_size);
  const GlueEncoder enc(*tok, cfg.block_size);

  // ---- data ----
  GlueSplit train = read_labelled_split(opt, info, info.train_file);
  if (train.examples.empty())
    throw std::runtime_error("GLUE " + info.name + ": " + train.path + ": no labelled training examples");
  Generator shuffle_gen(opt.seed + 1);
  if (opt.max_train > 0 && static_cast<size_t>(opt.max_train) < train.examples.size()) {
    // A seeded random subset (Fisher–Yates on the first max_train slots), in file order.
    std::vector<size_t> idx(train.examples.size());
    std::iota(idx.begin(), idx.end(), size_t{0});
    Generator sub(opt.seed + 2);
    for (size_t i = 0; i < static_cast<size_t>(opt.max_train); ++i)
      std::swap(idx[i], idx[i + sub.next_u64() % (idx.size() - i)]);
    idx.resize(static_cast<size_t>(opt.max_train));
    std::sort(idx.begin(), idx.end());
    std::vector<GlueExample> kept;
    for (size_t i : idx) kept.push_back(std::move(train.examples[i]));
    train.examples = std::move(kept);
  }
  std::vector<GlueSplit> devs;
  for (const auto& d : info.dev_sets) {
    devs.push_back(read_labelled_split(opt, info, d.file));
    if (devs.back().examples.empty())
      throw std::runtime_error("GLUE " + info.name + ": " + devs.back().path + ": no examples");
  }
  const std::vector<double> train_ref = glue_references(info.task, train.examples);
  std::vector<std::vector<double>> dev_ref;
  for (const auto& d : devs) dev_ref.push_back(glue_references(info.task, d.examples));

  const Encoded train_enc = encode_all(enc, train.examples, info.is_pair);
  std::vector<Encoded> dev_enc;
  int64_t dev_truncated = 0;
  for (const auto& d : devs) {
    dev_enc.push_back(encode_all(enc, d.examples, info.is_pair));
    dev_truncated += dev_enc.back().truncated;
  }

  // ---- classifier ----
  std::shared_ptr<GPT> gpt(std::move(lm.model));
  gpt->rng.set_state(opt.seed ^ 0x5eedULL, 0);  // dropout masks and NoiseFormer's ε
  Generator head_gen(opt.seed);
  SequenceClassifier clf(gpt, regression ? 1 : info.num_classes, head_gen);
  const Device device = device_named(opt.device);
  clf.to(device);  // the GPT and the head: the optimizer's moments are made beside them
  clf.train();
  AdamW optimizer({{clf.decay_parameters(), opt.weight_decay}, {clf.no_decay_parameters(), 0.0}}, 0.9, 0.999);

  const int64_t N = static_cast<int64_t>(train_enc.ids.size());
  const int64_t steps_per_epoch = (N + opt.batch_size - 1) / opt.batch_size;
  const int64_t total_steps = steps_per_epoch * opt.epochs;
  const int64_t warmup_steps = static_cast<int64_t>(std::llround(opt.warmup * static_cast<double>(total_steps)));
  if (!opt.quiet)
    std::fprintf(stderr,
                 "noiseformer glue: %s, %s (%s, %lld parameters), %lld train examples (%lld truncated), "
                 "%lld epochs x %lld steps, lr %.2e, warm-up %lld steps\n",
                 info.name.c_str(), opt.checkpoint.c_str(), cfg.attention.c_str(),
                 static_cast<long long>(clf.num_parameters()), static_cast<long long>(N),
                 static_cast<long long>(train_enc.truncated), static_cast<long long>(opt.epochs),
                 static_cast<long long>(steps_per_epoch), opt.lr, static_cast<long long>(warmup_steps));

  GlueRunResult result;
  result.task = info.name;
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  std::vector<size_t> perm(static_cast<size_t>(N));
  std::iota(perm.begin(), perm.end(), size_t{0});
  int64_t step = 0;
  double last_train_loss = 0;
  std::vector<std::vector<double>> preds(devs.size());
  std::vector<GlueScores> scores(devs.size());
  for (int64_t epoch = 1; epoch <= std::max<int64_t>(opt.epochs, 1); ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    if (opt.epochs > 0) {
      for (size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[shuffle_gen.next_u64() % i]);
      double loss_sum = 0;
      for (int64_t s = 0; s < steps_per_epoch; ++s, ++step) {
        const size_t lo = static_cast<size_t>(s * opt.batch_size);
        const std::vector<size_t> rows(perm.begin() + lo, perm.begin() + std::min(perm.size(), lo + opt.batch_size));
        Tensor idx, last;
        make_batch(train_enc.ids, rows, enc.sep_id(), device, idx, last);
        Tensor targets;
        if (regression) {
          std::vector<float> y;
          for (size_t r : rows) y.push_back(static_cast<float>(train_ref[r]));
          targets = from_vector(y, {static_cast<int64_t>(rows.size())}).to(device);
        } else {
          std::vector<int64_t> y;
          for (size_t r : rows) y.push_back(static_cast<int64_t>(train_ref[r]));
          targets = from_vector(y, {static_cast<int64_t>(rows.size())}).to(device);
        }
        double task_loss = 0;
        const double lr = learning_rate(step, opt.lr, 0.0, warmup_steps, total_steps);
        train_step(clf, optimizer, {1, opt.grad_clip, lr}, [&](int64_t) {
          Tensor loss = clf.task_loss(clf.forward(idx, last), targets);
          task_loss = loss.item();
          if (!std::isfinite(task_loss))
            throw std::runtime_error("fine-tuning diverged: loss is " + std::to_string(task_loss) + " at step " +
                                     std::to_string(step) + " (try a lower --lr)");
          if (Tensor reg = clf.regularizer(); reg.defined()) loss = add(loss, reg);
          return loss;
        });
        loss_sum += task_loss * static_cast<double>(rows.size());
      }
      last_train_loss = loss_sum / static_cast<double>(N);
    }
    nlohmann::ordered_json h{{"epoch", opt.epochs > 0 ? epoch : 0}};
    if (opt.epochs > 0) h["train_loss"] = last_train_loss;
    for (size_t d = 0; d < devs.size(); ++d) {
      preds[d] = predict(clf, dev_enc[d].ids, opt.batch_size, enc.sep_id());
      scores[d] = glue_metrics(info.task, preds[d], dev_ref[d], info.dev_sets[d].name);
      h[scores[d].eval_set] = metrics_json(scores[d]);
    }
    const double score = glue_task_score(scores);
    h["score"] = score;
    history.push_back(h);
    if (!opt.quiet) {
      std::string line = "epoch " + std::to_string(opt.epochs > 0 ? epoch : 0) + "/" + std::to_string(opt.epochs);
      if (opt.epochs > 0) line += "  train loss " + format_double("%.4f", last_train_loss);
      for (const auto& s : scores)
        for (auto& [name, v] : s.metrics) line += "  " + s.eval_set + " " + name + " " + format_double("%.4f", v);
      line += "  (" + format_double("%.1f", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()) + " s)";
      std::fprintf(stderr, "%s\n", line.c_str());
    }
  }

  // ---- majority-class baseline (what "beats the majority class" is measured against) ----
  double majority_value = 0;
  if (regression) {
    majority_value = std::accumulate(train_ref.begin(), train_ref.end(), 0.0) / static_cast<double>(train_ref.size());
  } else {
    std::vector<int64_t> counts(info.num_classes, 0);
    for (double y : train_ref) ++counts[static_cast<size_t>(y)];
    majority_value = static_cast<double>(std::max_element(counts.begin(), counts.end()) - counts.begin());
  }

  // ---- outputs ----
  if (!opt.out_dir.empty()) {
    fs::create_directories(opt.out_dir);
    // An earlier run's metrics.json goes before the new predictions replace its own, so that a
    // run killed in between never leaves a metrics.json beside predictions it did not make.
    fs::remove(fs::path(opt.out_dir) / "metrics.json");
  }
  nlohmann::ordered_json metrics = nlohmann::ordered_json::object(), majority = nlohmann::ordered_json::object(),
                         pred_files = nlohmann::ordered_json::object(), malformed = nlohmann::ordered_json::object();
  malformed["train"] = train.malformed_rows;
  for (size_t d = 0; d < devs.size(); ++d) {
    GlueDevResult r;
    r.scores = scores[d];
    r.predictions = preds[d];
    r.majority = glue_metrics(info.task, std::vector<double>(dev_ref[d].size(), majority_value), dev_ref[d],
                              info.dev_sets[d].name);
    metrics[r.scores.eval_set] = metrics_json(r.scores);
    majority[r.scores.eval_set] = metrics_json(r.majority);
    malformed[info.dev_sets[d].name] = devs[d].malformed_rows;
    if (!opt.out_dir.empty()) {
      r.predictions_file = (fs::path(opt.out_dir) / ("predictions_" + info.dev_sets[d].name + ".tsv")).string();
      std::ostringstream f;
      f << "index\tprediction\tlabel\n";
      for (size_t i = 0; i < preds[d].size(); ++i) {
        const GlueExample& ex = devs[d].examples[i];
        if (regression)
          // Every digit the metric saw: the file's numbers give back the reported Pearson and
          // Spearman exactly.
          f << ex.id << '\t' << format_exact(preds[d][i]) << '\t' << format_exact(dev_ref[d][i]) << '\n';
        else
          f << ex.id << '\t' << info.label_names[static_cast<size_t>(preds[d][i])] << '\t'
            << info.label_names[static_cast<size_t>(dev_ref[d][i])] << '\n';
      }
      write_file_atomic(r.predictions_file, f.str());
      pred_files[info.dev_sets[d].name] = r.predictions_file;
    }
    result.dev.push_back(std::move(r));
  }
  result.score = glue_task_score(scores);

  nlohmann::ordered_json& j = result.summary;
  j["task"] = info.name;
  j["checkpoint"] = opt.checkpoint;
  j["attention"] = cfg.attention;
  if (is_noise(cfg.kind())) j["noise_at_eval"] = cfg.noise_at_eval;
  j["metrics"] = metrics;
  j["score"] = result.score;
  j["majority"] = majority;
  j["epochs"] = opt.epochs;
  j["lr"] = opt.lr;
  j["batch_size"] = opt.batch_size;
  j["warmup"] = opt.warmup;
  j["weight_decay"] = opt.weight_decay;
  j["grad_clip"] = opt.grad_clip;
  j["seed"] = opt.seed;
  j["max_train"] = opt.max_train;
  j["train_examples"] = N;
  j["train_loss"] = last_train_loss;
  j["truncated"] = {{"train", train_enc.truncated}, {"dev", dev_truncated}};
  j["malformed_rows"] = malformed;
  j["separator_id"] = enc.sep_id();
  j["history"] = history;
  if (!opt.out_dir.empty()) j["predictions"] = pred_files;
  j["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
  // Written last and atomically: a metrics.json that exists is complete and describes the
  // predictions beside it, which is what lets `glue --all` reuse a finished run.
  if (!opt.out_dir.empty()) write_file_atomic((fs::path(opt.out_dir) / "metrics.json").string(), j.dump(2) + "\n");
  return result;
}

}  // namespace nf
