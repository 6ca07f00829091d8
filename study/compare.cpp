#include "study/compare.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <stdexcept>

#include "nn/attention.h"
#include "tensor/storage.h"
#include "train/eval_scope.h"
#include "train/format.h"
#include "train/train_state.h"
#include "train/config_file.h"
#include "data/dataset.h"
#include "study/json_file.h"
#include "study/plot.h"
#include "study/stats.h"
#include "data/tokenizer.h"
#include "train/train_flags.h"

namespace nf {
namespace fs = std::filesystem;

namespace {

std::string with_commas(int64_t n) {
  std::string s = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i > 0 && (s.size() - i) % 3 == 0) out += ',';
    out += s[i];
  }
  return n < 0 ? "-" + out : out;
}

// The windows the final validation loss uses: all of eval_windows(), or n of them evenly spread.
std::vector<int64_t> chosen_windows(size_t len, int64_t T, int64_t n) {
  std::vector<int64_t> all = eval_windows(len, T);
  if (n <= 0 || static_cast<size_t>(n) >= all.size()) return all;
  std::vector<int64_t> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[i] = all[static_cast<size_t>(i) * all.size() / static_cast<size_t>(n)];
  return out;
}

}  // namespace

// ---- measurements ----------------------------------------------------------------------------

EvalResult evaluate_window_subset(GPT& model, const TokenData& data, int64_t max_windows, int64_t batch_size) {
  if (max_windows <= 0) return evaluate_windows(model, data, batch_size);
  const std::vector<int64_t> starts = chosen_windows(data.size(), model.config().block_size, max_windows);
  if (starts.empty()) throw std::runtime_error(data.name() + ": fewer than block_size+1 tokens");
  return evaluate_windows_at(model, data, starts, batch_size);
}

double max_attention_logit(GPT& model, const TokenData& data, int64_t batch, int64_t batches) {
  if (batch < 1 || batches < 1) throw std::invalid_argument("max_attention_logit: batch and batches must be >= 1");
  EvalScope scope(model);
  const int64_t T = model.config().block_size;
  const std::vector<int64_t> starts = chosen_windows(data.size(), T, batch * batches);
  if (starts.empty()) throw std::runtime_error(data.name() + ": fewer than block_size+1 tokens");
  for (auto& blk : model.blocks) blk->attn->probe().track_max_logit(true);
  double m = 0;
  for (size_t i = 0; i < starts.size(); i += static_cast<size_t>(batch)) {
    const int64_t B = std::min<int64_t>(batch, static_cast<int64_t>(starts.size() - i));
    std::vector<int64_t> x(B * T), y(B * T);
    for (int64_t b = 0; b < B; ++b) fill_window(data, starts[i + b], T, x.data() + b * T, y.data() + b * T);
    model.forward(from_vector(x, {B, T}).to(model.device()));
    for (auto& blk : model.blocks) m = std::max(m, blk->attn->probe().max_logit());
  }
  for (auto& blk : model.blocks) blk->attn->probe().track_max_logit(false);
  return m;
}

LogCurves read_log(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (missing?)");
  std::map<int64_t, double> val, train;
  std::map<int64_t, std::pair<double, double>> steps;  // iter -> (tokens, ms)
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("iter")) continue;  // e.g. a line cut short by a kill
    const int64_t it = j["iter"].get<int64_t>();
    if (j.contains("val_loss")) val[it] = j["val_loss"].get<double>();
    if (j.contains("loss") && j.contains("ms") && j.contains("tok_per_s")) {
      const double ms = j["ms"].get<double>();
      train[it] = j["loss"].get<double>();
      steps[it] = {j["tok_per_s"].get<double>() * ms / 1000.0, ms};
    }
  }
  LogCurves c;
  c.val.assign(val.begin(), val.end());
  c.train.assign(train.begin(), train.end());
  for (const auto& [it, tm] : steps) {
    c.tokens += tm.first;
    c.ms += tm.second;
  }
  c.iterations = static_cast<int64_t>(steps.size());
  return c;
}

// ---- options ---------------------------------------------------------------------------------

namespace {
bool is_attention_name(const std::string& name) {
  const std::vector<std::string>& names = attention_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}
std::string preset_path(const CompareOptions& opt, const std::string& variant) {
  return (fs::path(opt.configs_dir) / (opt.preset + "-" + variant + ".json")).string();
}
}  // namespace

TrainOptions resolve_train_options(const CompareOptions& opt, const std::string& variant,
                                   std::optional<uint64_t> seed, const std::string& out_dir) {
  TrainOptions o;
  CLI::App app = cli::make_app("compare", "one run of a comparison");
  cli::add_train_flags(app, o);
  cli::add_config_option(app);
  std::vector<std::string> args{"compare"};
  if (!opt.preset.empty()) {
    const std::string path = preset_path(opt, variant);
    if (!fs::exists(path))
      throw std::runtime_error("preset '" + opt.preset + "': " + path + " is missing (see --configs-dir)");
    args.insert(args.end(), {"--config", path});
  }
  for (const auto& [k, v] : opt.overrides) args.insert(args.end(), {"--" + k, v});
  // A variant named after an attention is that attention whatever its file says; another
  // variant is what its preset file says.
  if (is_attention_name(variant)) args.insert(args.end(), {"--attention", variant});
  if (seed) args.insert(args.end(), {"--seed", std::to_string(*seed)});
  if (!opt.data_dir.empty()) args.insert(args.end(), {"--data", opt.data_dir});
  args.insert(args.end(), {"--out", out_dir});
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw std::runtime_error(variant + " settings: " + what);
  }
  if (o.data_dir.empty()) throw std::runtime_error("no data directory: give --data (or a preset that names one)");
  o.model.validate();
  o.quiet = !opt.verbose || opt.quiet;
  return o;
}


// ---- one run ---------------------------------------------------------------------------------

namespace {

void log_line(const CompareOptions& opt, const std::string& s) {
  if (!opt.quiet) std::cerr << s << std::flush;
}

// Final val loss and max |logit| of the run's checkpoint, into r.
void measure_checkpoint(const CompareOptions& opt, const std::string& ckpt, const TokenData& val, RunSummary& r) {
  LoadedModel lm = load_model(ckpt);
  r.parameters = lm.model->num_parameters();
  EvalResult e = evaluate_window_subset(*lm.model, val, opt.eval_windows, opt.eval_batch);
  r.val_loss = e.loss;
  r.val_tokens = e.tokens;
  r.max_logit = max_attention_logit(*lm.model, val, opt.logit_batch, opt.logit_batches);
}

nlohmann::json summary_json(const RunSummary& r, const nlohmann::json& settings, const nlohmann::json& measure) {
  return {{"attention", r.attention},   {"seed", r.seed},          {"settings", settings}, {"measure", measure},
          {"parameters", r.parameters}, {"iterations", r.iterations}, {"val_loss", r.val_loss},
          {"val_tokens", r.val_tokens}, {"tok_per_s", r.tok_per_s}, {"peak_bytes", r.peak_bytes},
          {"max_logit", r.max_logit},   {"train_seconds", r.train_seconds}};
}

RunSummary run_one(const CompareOptions& opt, const std::string& variant, const TrainOptions& o,
                   const TokenData& val) {
  const fs::path dir(o.out_dir);
  const std::string ckpt = (dir / "ckpt.safetensors").string();
  const std::string summary_path = (dir / "summary.json").string(), settings_path = (dir / "settings.json").string();
  const nlohmann::json settings = train_settings_json(o);
  // "logit": which max-logit statistic; summaries from before it (one batch, the whole score
  // matrix before noise and masks) lack the key and are re-measured.
  const nlohmann::json measure{{"eval_windows", opt.eval_windows},
                               {"logit_batch", opt.logit_batch},
                               {"logit_batches", opt.logit_batches},
                               {"logit", "softmax input, causal entries"}};
  auto different = [&](const std::string& file) {
    return std::runtime_error(file + ": this run was made with different settings; use another --out or delete " +
                              dir.string());
  };

  RunSummary r;
  r.attention = variant;
  r.seed = o.seed;
  r.run_dir = dir.string();

  // Finished before: reuse (re-measuring only if the measurement settings changed).
  if (fs::exists(summary_path) && fs::exists(ckpt)) {
    nlohmann::json s = read_json_file(summary_path);
    if (s.value("settings", nlohmann::json()) != settings) throw different(summary_path);
    r.reused = true;
    r.parameters = s.at("parameters").get<int64_t>();
    r.iterations = s.at("iterations").get<int64_t>();
    r.val_loss = s.at("val_loss").get<double>();
    r.val_tokens = s.at("val_tokens").get<int64_t>();
    r.tok_per_s = s.at("tok_per_s").get<double>();
    r.peak_bytes = s.at("peak_bytes").get<double>();
    r.max_logit = s.at("max_logit").get<double>();
    r.train_seconds = s.at("train_seconds").get<double>();
    if (s.value("measure", nlohmann::json()) != measure) {
      measure_checkpoint(opt, ckpt, val, r);
      write_json_file(summary_path, summary_json(r, settings, measure));
    }
  } else {
    // Interrupted before: resume from the checkpoint state if it was this very run.
    bool resume = false;
    if (fs::exists(settings_path)) {
      if (read_json_file(settings_path) != settings) throw different(settings_path);
      resume = fs::exists(ckpt) && fs::exists(state_path_for(ckpt));
    }
    fs::create_directories(dir);
    if (!resume) write_json_file(settings_path, settings);
    TrainOptions t = o;
    t.resume = resume;
    const size_t before = cpu_bytes_in_use();
    cpu_reset_peak();
    run_training(t);
    const size_t peak = cpu_bytes_peak();
    r.peak_bytes = static_cast<double>(peak > before ? peak - before : 0);
    LogCurves c = read_log((dir / "log.jsonl").string());
    r.iterations = c.iterations;
    r.tok_per_s = c.ms > 0 ? c.tokens / (c.ms / 1000.0) : 0;
    r.train_seconds = c.ms / 1000.0;
    measure_checkpoint(opt, ckpt, val, r);
    write_json_file(summary_path, summary_json(r, settings, measure));
  }
  LogCurves c = read_log((dir / "log.jsonl").string());
  r.val_curve = c.val;
  r.train_curve = c.train;
  return r;
}

}  // namespace

// ---- the whole comparison --------------------------------------------------------------------

CompareResult run_compare(const CompareOptions& opt) {
  if (opt.out_dir.empty()) throw std::invalid_argument("compare: --out is required");
  if (opt.seeds < 1) throw std::invalid_argument("--seeds must be >= 1");
  if (opt.logit_batch < 1 || opt.logit_batches < 1) throw std::invalid_argument("--logit-batch and --logit-batches must be >= 1");
  std::vector<std::string> attentions = opt.attentions.empty() ? attention_names() : opt.attentions;
  for (const auto& a : attentions)
    if (!is_attention_name(a) && (opt.preset.empty() || !fs::exists(preset_path(opt, a)))) {
      std::string names;
      for (const std::string& n : attention_names()) names += (names.empty() ? "" : "|") + n;
      throw std::invalid_argument("unknown variant '" + a + "': not an attention (" + names + ")" +
                                  (opt.preset.empty() ? " (a preset variant needs --preset)"
                                                      : " and no " + preset_path(opt, a)));
    }
  for (size_t i = 0; i < attentions.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (attentions[i] == attentions[j]) throw std::invalid_argument("variant '" + attentions[i] + "' listed twice");

  // Seeds: --seed, else the preset's (the first variant's) seed.
  const fs::path out(opt.out_dir);
  const uint64_t seed0 = opt.seed ? *opt.seed : resolve_train_options(opt, attentions[0], std::nullopt, opt.out_dir).seed;
  std::vector<TrainOptions> plan;
  std::vector<std::string> plan_variant;
  for (const auto& a : attentions)
    for (int64_t s = 0; s < opt.seeds; ++s) {
      const uint64_t seed = seed0 + static_cast<uint64_t>(s);
      plan.push_back(resolve_train_options(opt, a, seed, (out / (a + "-seed" + std::to_string(seed))).string()));
      plan_variant.push_back(a);
    }
  // Every run must read the same data.
  for (const auto& t : plan)
    if (train_settings_json(t)["data"] != train_settings_json(plan[0])["data"])
      throw std::runtime_error("the runs name different data directories (" + plan[0].data_dir + ", " + t.data_dir + ")");

  const fs::path data(plan[0].data_dir);
  const int vocab = load_tokenizer((data / "meta.json").string())->vocab_size();
  TokenData val = TokenData::load((data / "val.bin").string(), vocab);
  fs::create_directories(out);

  CompareResult res;
  {
    GPTConfig base = plan[0].model;
    base.attention = attention_name(AttentionKind::Base);
    base.pos_bias = "none";
    base.vocab_size = vocab;
    res.base_parameters = count_parameters(base);
  }
  for (size_t i = 0; i < plan.size(); ++i) {
    const TrainOptions& t = plan[i];
    char head[160];
    std::snprintf(head, sizeof head, "[%zu/%zu] %s seed %llu: ", i + 1, plan.size(), plan_variant[i].c_str(),
                  static_cast<unsigned long long>(t.seed));
    log_line(opt, std::string(head) + "training " + std::to_string(t.max_iters) + " iterations…\n");
    const auto t0 = std::chrono::steady_clock::now();
    RunSummary r = run_one(opt, plan_variant[i], t, val);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    char tail[200];
    std::snprintf(tail, sizeof tail, "%s in %.1f s: val loss %.4f, %.0f tok/s, max |logit| %.2f\n",
                  r.reused ? "reused" : "done", sec, r.val_loss, r.tok_per_s, r.max_logit);
    log_line(opt, std::string(head) + tail);
    (r.reused ? res.reused : res.trained) += 1;
    res.runs.push_back(std::move(r));
  }
  res.variants = summarize_runs(res.runs, res.base_parameters);

  const TrainOptions& t0 = plan[0];
  std::vector<uint64_t> seeds;
  for (int64_t s = 0; s < opt.seeds; ++s) seeds.push_back(seed0 + static_cast<uint64_t>(s));
  const int64_t n_windows = static_cast<int64_t>(eval_windows(val.size(), t0.model.block_size).size());
  res.settings = {{"data", t0.data_dir},
                  {"preset", opt.preset},
                  {"attentions", attentions},
                  {"seeds", seeds},
                  {"max_iters", t0.max_iters},
                  {"batch_size", t0.batch_size},
                  {"grad_accum", t0.grad_accum},
                  {"n_layer", t0.model.n_layer},
                  {"n_head", t0.model.n_head},
                  {"n_embd", t0.model.n_embd},
                  {"block_size", t0.model.block_size},
                  {"vocab_size", vocab},
                  {"eval_interval", t0.eval_interval},
                  {"eval_iters", t0.eval_iters},
                  {"eval_windows", opt.eval_windows > 0 ? std::min(opt.eval_windows, n_windows) : n_windows},
                  {"val_windows_total", n_windows},
                  {"logit_batch", opt.logit_batch},
                  {"logit_batches", opt.logit_batches},
                  {"overrides", opt.overrides}};

  write_file_atomic((out / "results.md").string(), results_markdown(res));
  write_file_atomic((out / "results.json").string(), results_json(res).dump(2) + "\n");
  write_loss_curves(res.runs, (out / "loss_curves.png").string(), (out / "train_loss_curves.png").string());
  return res;
}

std::vector<VariantSummary> summarize_runs(const std::vector<RunSummary>& runs, int64_t base_parameters) {
  std::vector<VariantSummary> out;
  std::vector<std::string> order;
  for (const auto& r : runs)
    if (std::find(order.begin(), order.end(), r.attention) == order.end()) order.push_back(r.attention);
  for (const auto& a : order) {
    VariantSummary v;
    v.attention = a;
    std::vector<double> val, tok, logit;
    for (const auto& r : runs) {
      if (r.attention != a) continue;
      ++v.runs;
      v.parameters = r.parameters;
      val.push_back(r.val_loss);
      tok.push_back(r.tok_per_s);
      logit.push_back(r.max_logit);
      v.peak_mib = std::max(v.peak_mib, r.peak_bytes / (1024.0 * 1024.0));
    }
    v.params_vs_base_pct = base_parameters > 0 ? 100.0 * static_cast<double>(v.parameters - base_parameters) /
                                                     static_cast<double>(base_parameters)
                                               : 0;
    v.val_mean = mean_of(val);
    v.val_std = sample_std(val);
    v.tok_per_s = mean_of(tok);
    v.max_logit_mean = mean_of(logit);
    v.max_logit_std = sample_std(logit);
    out.push_back(v);
  }
  return out;
}

std::string results_markdown(const CompareResult& r) {
  const nlohmann::json& s = r.settings;
  std::ostringstream md;
  md << "# Attention variants compared\n\n";
  if (s.is_object() && !s.empty()) {
    auto get = [&](const char* k) { return s.contains(k) ? (s[k].is_string() ? s[k].get<std::string>() : s[k].dump()) : std::string("?"); };
    md << "- data: `" << get("data") << "` (vocabulary " << get("vocab_size") << ")";
    if (s.contains("preset") && !s["preset"].get<std::string>().empty()) md << ", preset `" << get("preset") << "`";
    md << "\n- model: " << get("n_layer") << " layers, " << get("n_head") << " heads, n_embd " << get("n_embd")
       << ", block_size " << get("block_size") << "; batch " << get("batch_size");
    if (s.value("grad_accum", 1) > 1) md << "×" << get("grad_accum");
    md << ", " << get("max_iters") << " iterations, seeds " << get("seeds") << "\n";
    md << "- val loss: `noiseformer eval`'s mean cross-entropy over " << get("eval_windows") << " of the "
       << get("val_windows_total") << " non-overlapping block_size windows of val.bin"
       << (s.value("eval_windows", 0) < s.value("val_windows_total", 0) ? " (evenly spaced)" : " (all)")
       << ", at the final checkpoint; mean ± sample std over seeds (noise variants at noise_at_eval)\n";
  }
  md << "\n| attention | parameters | vs base | val loss | train tok/s | peak tensor MiB | max \\|logit\\| |\n";
  md << "|---|---:|---:|---:|---:|---:|---:|\n";
  for (const auto& v : r.variants) {
    md << "| " << v.attention << " | " << with_commas(v.parameters) << " | " << format_double("%+.1f%%", v.params_vs_base_pct)
       << " | " << format_double("%.4f", v.val_mean) << (v.runs > 1 ? " ± " + format_double("%.4f", v.val_std) : std::string()) << " | "
       << with_commas(static_cast<int64_t>(std::lround(v.tok_per_s))) << " | " << format_double("%.1f", v.peak_mib) << " | "
       << format_double("%.2f", v.max_logit_mean) << (v.runs > 1 ? " ± " + format_double("%.2f", v.max_logit_std) : std::string())
       << " |\n";
  }
  md << "\nColumns: *parameters* counts every trained tensor (lm_head is tied to wte); *vs base* against a base "
        "model of the same size (" << with_commas(r.base_parameters) << "). *train tok/s*: training steps only "
        "(Σ tokens / Σ step time from log.jsonl, evaluation excluded), mean over seeds — wall-clock on a shared "
        "machine, so compare it within one table only. *peak tensor MiB*: the most tensor memory in use at once "
        "during training (parameters, gradients, AdamW moments, activations; nf::cpu_bytes_peak), max over seeds. "
        "*max |logit|*: the largest |logit| the softmax sees — s·q·k plus NoiseFormer's noise at its eval "
        "setting, ALiBi's bias, minus selective's mask; for DIFF either branch — of any head in any layer, on the "
        "entries the causal mask keeps (key ≤ query), over "
        << (s.is_object() && s.contains("logit_batches") ? s["logit_batches"].dump() : std::string("several"))
        << " eval-mode forward passes of "
        << (s.is_object() && s.contains("logit_batch") ? s["logit_batch"].dump() : std::string("a few"))
        << " val windows each, spread evenly over val.bin; mean ± std over seeds.\n\n";
  md << "Per-run numbers: results.json. Curves: loss_curves.png (validation), train_loss_curves.png (training).\n";
  return md.str();
}

nlohmann::json results_json(const CompareResult& r) {
  nlohmann::json variants = nlohmann::json::array(), runs = nlohmann::json::array();
  for (const auto& v : r.variants)
    variants.push_back({{"attention", v.attention},
                        {"parameters", v.parameters},
                        {"params_vs_base_pct", v.params_vs_base_pct},
                        {"runs", v.runs},
                        {"val_loss_mean", v.val_mean},
                        {"val_loss_std", v.val_std},
                        {"tok_per_s", v.tok_per_s},
                        {"peak_tensor_mib", v.peak_mib},
                        {"max_logit_mean", v.max_logit_mean},
                        {"max_logit_std", v.max_logit_std}});
  for (const auto& x : r.runs)
    runs.push_back({{"attention", x.attention},   {"seed", x.seed},       {"run_dir", x.run_dir},
                    {"parameters", x.parameters}, {"iterations", x.iterations}, {"val_loss", x.val_loss},
                    {"val_tokens", x.val_tokens}, {"tok_per_s", x.tok_per_s}, {"peak_bytes", x.peak_bytes},
                    {"max_logit", x.max_logit},   {"train_seconds", x.train_seconds}, {"reused", x.reused}});
  return {{"settings", r.settings}, {"base_parameters", r.base_parameters}, {"variants", variants}, {"runs", runs}};
}

namespace {

// Trailing moving average over `w` points.
std::vector<double> smooth(const std::vector<double>& y, size_t w) {
  std::vector<double> out(y.size());
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    s += y[i];
    if (i >= w) s -= y[i - w];
    out[i] = s / static_cast<double>(std::min(i + 1, w));
  }
  return out;
}

// A variant's curve: at every iteration all of its runs logged, the mean over the runs and the
// lowest and highest of them (the band that shows the seed spread). Training losses are noisy
// step to step, so each run's is first smoothed by a moving average over 1/25 of its length.
struct SeedCurve {
  std::vector<double> x, mean, lo, hi;
};
SeedCurve seed_curve(const std::vector<RunSummary>& runs, const std::string& attention, bool val) {
  std::map<int64_t, std::vector<double>> at;
  size_t n = 0;
  for (const auto& r : runs) {
    if (r.attention != attention) continue;
    ++n;
    const auto& curve = val ? r.val_curve : r.train_curve;
    std::vector<double> l(curve.size());
    for (size_t k = 0; k < curve.size(); ++k) l[k] = curve[k].second;
    if (!val) l = smooth(l, std::max<size_t>(1, l.size() / 25));
    for (size_t k = 0; k < curve.size(); ++k) at[curve[k].first].push_back(l[k]);
  }
  SeedCurve c;
  for (const auto& [it, ls] : at)
    if (ls.size() == n) {
      c.x.push_back(static_cast<double>(it));
      c.mean.push_back(mean_of(ls));
      c.lo.push_back(*std::min_element(ls.begin(), ls.end()));
      c.hi.push_back(*std::max_element(ls.begin(), ls.end()));
    }
  return c;
}

}  // namespace

void write_loss_curves(const std::vector<RunSummary>& runs, const std::string& val_png, const std::string& train_png) {
  std::vector<std::string> order;
  std::map<std::string, size_t> seeds;
  for (const auto& r : runs) {
    if (std::find(order.begin(), order.end(), r.attention) == order.end()) order.push_back(r.attention);
    ++seeds[r.attention];
  }
  size_t n = seeds.empty() ? 0 : seeds.begin()->second;
  std::vector<plot::Series> val, train;
  for (size_t i = 0; i < order.size(); ++i) {
    const auto& a = order[i];
    SeedCurve v = seed_curve(runs, a, true), t = seed_curve(runs, a, false);
    val.push_back({a, v.x, v.mean, plot::category_color(i), true});
    train.push_back({a, t.x, t.mean, plot::category_color(i), false});
    if (n > 1) {
      val.back().lo = v.lo, val.back().hi = v.hi;
      train.back().lo = t.lo, train.back().hi = t.hi;
    }
  }
  const std::string over = n > 1 ? " (mean of " + std::to_string(n) + " seeds, band min-max)" : "";
  plot::line_chart(val, "Validation loss" + over, "iteration", "val loss").write_png(val_png);
  plot::line_chart(train, "Training loss, moving average" + over, "iteration", "train loss").write_png(train_png);
}

}  // namespace nf
