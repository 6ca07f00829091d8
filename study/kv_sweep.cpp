#include "study/kv_sweep.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "data/dataset.h"
#include "data/tokenizer.h"
#include "io/checkpoint.h"
#include "study/json_file.h"
#include "study/plot.h"
#include "study/stats.h"
#include "train/format.h"
#include "train/kv_eval.h"

namespace nf {
namespace fs = std::filesystem;

namespace {

struct Run {
  uint64_t seed = 0;
  fs::path dir;
};

// The finished runs of `variant` in a compare folder (summary.json is compare's done-marker),
// by seed.
std::vector<Run> finished_runs(const fs::path& runs_dir, const std::string& variant) {
  std::vector<Run> runs;
  const std::regex name(std::regex_replace(variant, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)") + R"(-seed(\d+))");
  for (const auto& e : fs::directory_iterator(runs_dir)) {
    std::smatch m;
    const std::string leaf = e.path().filename().string();
    if (!e.is_directory() || !std::regex_match(leaf, m, name)) continue;
    if (!fs::exists(e.path() / "summary.json") || !fs::exists(e.path() / "ckpt.safetensors")) continue;
    runs.push_back({std::stoull(m[1].str()), e.path()});
  }
  std::sort(runs.begin(), runs.end(), [](const Run& a, const Run& b) { return a.seed < b.seed; });
  if (runs.empty())
    throw std::runtime_error(runs_dir.string() + ": no finished run of '" + variant + "' (" + variant +
                             "-seed<S>/ with ckpt.safetensors and summary.json)");
  return runs;
}

// The budget as an entry count: 0 (the whole context) is block_size.
int64_t entries(int64_t budget, int64_t block_size) { return budget == 0 ? block_size : budget; }

std::string budget_label(int64_t budget, int64_t block_size) {
  return budget == 0 ? "full (" + std::to_string(block_size) + ")" : std::to_string(budget);
}

std::string bytes_label(double b) {
  if (b >= 1024.0 * 1024.0) return format_double("%.2f MiB", b / (1024.0 * 1024.0));
  return format_double("%.1f KiB", b / 1024.0);
}

nlohmann::json point_json(const KVSweepPoint& p) {
  return {{"variant", p.variant}, {"seed", p.seed},     {"budget", p.budget},
          {"loss", p.loss},       {"tokens", p.tokens}, {"memory_bytes", p.memory_bytes},
          {"full_cache_bytes", p.full_cache_bytes}};
}

void write_results(const fs::path& out, const KVSweepResult& r, const std::vector<KVSweepPoint>& points) {
  nlohmann::json j = {{"settings", r.settings}, {"points", nlohmann::json::array()}};
  for (const auto& p : points) j["points"].push_back(point_json(p));
  if (!r.variants.empty()) {
    j["reference_loss"] = r.reference_loss;
    j["equal_loss"] = nlohmann::json::array();
    for (const auto& v : r.variants)
      j["equal_loss"].push_back({{"variant", v.variant},
                                 {"budget", v.equal_budget},
                                 {"loss", v.equal_loss},
                                 {"memory_bytes", v.equal_memory_bytes},
                                 {"full_cache_bytes", v.full_cache_bytes}});
  }
  write_json_file((out / "kv_sweep.json").string(), j);
}

void write_table(const fs::path& out, const KVSweepOptions& opt, const KVSweepResult& r) {
  std::ostringstream md;
  const auto& s = r.settings;
  md << "# KV-cache budget at equal loss\n\n"
     << "- runs: `" << s["runs"].get<std::string>() << "`; data: " << s["data"].get<std::string>() << "\n"
     << "- loss: mean cross-entropy of every target in the first " << s["windows"].get<int64_t>()
     << " block_size windows of val.bin (" << s["tokens"].get<int64_t>() << " targets), decoded token by token "
     << "through the KV cache with at most *budget* entries per layer; mean ± sample std over seeds\n"
     << "- eviction: selective attention drops its most-masked key, every other variant its oldest; both keep "
        "the first token\n\n";
  md << "| budget |";
  for (const auto& v : r.variants) md << " " << v.variant << " |";
  md << "\n|---:|";
  for (size_t i = 0; i < r.variants.size(); ++i) md << "---:|";
  md << "\n";
  const std::vector<int64_t>& budgets = r.variants.front().budgets;
  for (size_t b = budgets.size(); b-- > 0;) {
    md << "| " << budget_label(budgets[b], r.block_size) << " |";
    for (const auto& v : r.variants)
      md << " " << format_double("%.4f", v.mean[b]) << (v.std[b] > 0 ? " ± " + format_double("%.4f", v.std[b]) : "") << " |";
    md << "\n";
  }
  md << "\n## Equal loss\n\nReference: " << opt.reference << " with the whole context, "
     << format_double("%.4f", r.reference_loss) << "; target: within "
     << format_double("%g", 100 * opt.tolerance) << " %, loss ≤ " << format_double("%.4f", r.reference_loss * (1 + opt.tolerance))
     << ".\n\n| variant | smallest budget | of context | loss | attention memory held | vs full cache |\n"
     << "|---|---:|---:|---:|---:|---:|\n";
  for (const auto& v : r.variants) {
    if (v.equal_budget < 0) {
      md << "| " << v.variant << " | none of the budgets | | | | |\n";
      continue;
    }
    const int64_t e = entries(v.equal_budget, r.block_size);
    md << "| " << v.variant << " | " << budget_label(v.equal_budget, r.block_size) << " | "
       << format_double("%.1f %%", 100.0 * static_cast<double>(e) / static_cast<double>(r.block_size)) << " | "
       << format_double("%.4f", v.equal_loss) << " | " << bytes_label(static_cast<double>(v.equal_memory_bytes)) << " | "
       << format_double("%.1f×", static_cast<double>(v.full_cache_bytes) / std::max<double>(1, static_cast<double>(v.equal_memory_bytes)))
       << " less |\n";
  }
  md << "\n*Attention memory held*: Σ over layers of the most entries the layer held × (keys and values) bytes, "
        "the largest over seeds. Per-run numbers: kv_sweep.json. Curve: kv_sweep.png.\n";
  write_file_atomic((out / "kv_sweep.md").string(), md.str());
}

void write_plot(const fs::path& out, const KVSweepOptions& opt, const KVSweepResult& r) {
  std::vector<plot::Series> series;
  for (size_t i = 0; i < r.variants.size(); ++i) {
    const auto& v = r.variants[i];
    plot::Series s{v.variant, {}, v.mean, plot::category_color(i), true};
    for (int64_t b : v.budgets) s.x.push_back(static_cast<double>(entries(b, r.block_size)));
    if (v.lo != v.hi) s.lo = v.lo, s.hi = v.hi;
    series.push_back(s);
  }
  const double lo = series.front().x.front(), hi = series.front().x.back();
  const double target = r.reference_loss * (1 + opt.tolerance);
  series.push_back({opt.reference + " full context +" + format_double("%g", 100 * opt.tolerance) + "%", {lo, hi},
                    {target, target}, plot::kGrey, false});
  plot::line_chart(series, "Val loss against KV-cache budget", "cached entries per layer (log scale)", "val loss", 900, 560,
                   /*log2_x=*/true)
      .write_png((out / "kv_sweep.png").string());
}

}  // namespace

std::vector<KVSweepVariant> summarize_kv_sweep(const std::vector<KVSweepPoint>& points,
                                               const std::vector<std::string>& variants, double reference_loss,
                                               double tolerance, int64_t block_size) {
  std::vector<KVSweepVariant> out;
  for (const auto& name : variants) {
    std::map<int64_t, std::vector<const KVSweepPoint*>> at;  // by entries, ascending
    for (const auto& p : points)
      if (p.variant == name) at[entries(p.budget, block_size)].push_back(&p);
    KVSweepVariant v;
    v.variant = name;
    for (const auto& [e, ps] : at) {
      std::vector<double> l;
      int64_t mem = 0;
      for (const auto* p : ps) l.push_back(p->loss), mem = std::max(mem, p->memory_bytes);
      v.budgets.push_back(ps.front()->budget);
      v.mean.push_back(mean_of(l));
      v.std.push_back(sample_std(l));
      v.lo.push_back(*std::min_element(l.begin(), l.end()));
      v.hi.push_back(*std::max_element(l.begin(), l.end()));
      v.memory_bytes.push_back(mem);
      v.full_cache_bytes = ps.front()->full_cache_bytes;
    }
    for (size_t b = 0; b < v.budgets.size(); ++b)
      if (v.mean[b] <= reference_loss * (1 + tolerance)) {
        v.equal_budget = v.budgets[b];
        v.equal_loss = v.mean[b];
        v.equal_memory_bytes = v.memory_bytes[b];
        break;
      }
    out.push_back(v);
  }
  return out;
}

KVSweepResult run_kv_sweep(const KVSweepOptions& opt, const std::function<void(const KVSweepPoint&)>& progress) {
  if (opt.variants.empty()) throw std::invalid_argument("kv-sweep: no variants");
  if (std::find(opt.variants.begin(), opt.variants.end(), opt.reference) == opt.variants.end())
    throw std::invalid_argument("kv-sweep: the reference '" + opt.reference + "' is not among the variants");
  if (std::find(opt.budgets.begin(), opt.budgets.end(), 0) == opt.budgets.end())
    throw std::invalid_argument("kv-sweep: the budgets must include 0 (the whole context, where the reference is measured)");
  if (!(opt.tolerance >= 0)) throw std::invalid_argument("kv-sweep: the tolerance must be >= 0");
  if (opt.max_windows < 0) throw std::invalid_argument("kv-sweep: max windows must be >= 0");
  const fs::path runs_dir(opt.runs_dir);
  if (!fs::is_directory(runs_dir)) throw std::runtime_error(opt.runs_dir + ": not a directory");
  const fs::path out = opt.out_dir.empty() ? runs_dir / "kv-sweep" : fs::path(opt.out_dir);
  fs::create_directories(out);

  std::map<std::string, std::vector<Run>> runs;
  for (const auto& v : opt.variants) runs[v] = finished_runs(runs_dir, v);

  KVSweepResult r;
  r.settings = {{"runs", opt.runs_dir}, {"data", opt.data_dir.empty() ? "each run's own" : opt.data_dir},
                {"max_windows", opt.max_windows}};
  // Points of an earlier invocation with the same data and windows are reused.
  std::map<std::tuple<std::string, uint64_t, int64_t>, KVSweepPoint> earlier;
  const fs::path json = out / "kv_sweep.json";
  if (fs::exists(json)) {
    const nlohmann::json j = read_json_file(json.string());
    const auto& s = j.at("settings");
    if (s.value("data", "") == r.settings["data"] && s.value("max_windows", int64_t(-1)) == opt.max_windows)
      for (const auto& p : j.at("points")) {
        KVSweepPoint k{p.at("variant"), p.at("seed"), p.at("budget"), p.at("loss"), p.at("tokens"),
                       p.at("memory_bytes"), p.at("full_cache_bytes"), true};
        earlier[{k.variant, k.seed, k.budget}] = k;
      }
  }

  int64_t windows = 0, tokens = 0;
  for (const auto& v : opt.variants)
    for (const Run& run : runs[v]) {
      const std::string ckpt = (run.dir / "ckpt.safetensors").string();
      const GPTConfig cfg = read_checkpoint_config(ckpt);
      if (r.block_size == 0) r.block_size = cfg.block_size;
      if (cfg.block_size != r.block_size)
        throw std::runtime_error(ckpt + ": block_size " + std::to_string(cfg.block_size) + " differs from the other runs' " +
                                 std::to_string(r.block_size));
      for (int64_t b : opt.budgets)
        if (b != 0 && (b < 2 || b > cfg.block_size))
          throw std::invalid_argument("kv-sweep: budget " + std::to_string(b) + " is not 0 or in [2, block_size = " +
                                      std::to_string(cfg.block_size) + "]");
      std::unique_ptr<GPT> model;
      std::unique_ptr<TokenData> data;
      for (int64_t b : opt.budgets) {
        KVSweepPoint p;
        if (auto it = earlier.find({v, run.seed, b}); it != earlier.end()) {
          p = it->second;
        } else {
          if (!model) {
            model = load_model(ckpt).model;
            const std::string data_dir =
                opt.data_dir.empty() ? read_json_file((run.dir / "settings.json").string()).at("data").get<std::string>()
                                     : opt.data_dir;
            const std::string meta = (fs::path(data_dir) / "meta.json").string();
            const int vocab = load_tokenizer(meta)->vocab_size();
            if (vocab != cfg.vocab_size)
              throw std::runtime_error(ckpt + ": vocab_size " + std::to_string(cfg.vocab_size) + " does not match " + meta);
            data = std::make_unique<TokenData>(TokenData::load((fs::path(data_dir) / "val.bin").string(), vocab));
          }
          const KVEvalResult e = evaluate_windows_cached(
              *model, *data, std::vector<int64_t>(static_cast<size_t>(cfg.n_layer), b), opt.max_windows);
          p = {v, run.seed, b, e.loss, e.tokens, e.peak_bytes, e.full_cache_bytes, false};
          windows = e.windows;
        }
        tokens = p.tokens;
        r.points.push_back(p);
        write_results(out, r, r.points);
        if (progress) progress(p);
      }
    }
  r.settings["tokens"] = tokens;
  r.settings["windows"] = windows > 0 ? windows : (r.block_size > 0 ? tokens / r.block_size : 0);

  std::vector<double> ref;
  for (const auto& p : r.points)
    if (p.variant == opt.reference && p.budget == 0) ref.push_back(p.loss);
  r.reference_loss = mean_of(ref);
  r.variants = summarize_kv_sweep(r.points, opt.variants, r.reference_loss, opt.tolerance, r.block_size);
  write_results(out, r, r.points);
  write_table(out, opt, r);
  write_plot(out, opt, r);
  return r;
}

}  // namespace nf
