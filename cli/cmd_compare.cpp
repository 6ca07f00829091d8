// `noiseformer compare`: train a list of attention variants on the same data, preset, iterations
// and seeds, then write the results folder (study/compare.h).
#include <chrono>
#include <cstdio>

#include "train/config_file.h"
#include "cli/commands.h"
#include "study/compare.h"
#include "train/train_flags.h"

namespace nf::cli {

int cmd_compare(int argc, char** argv) {
  CompareOptions o;
  std::vector<std::string> attentions;
  uint64_t seed = 1337;
  CLI::App app = make_app("compare", "Train attention variants side by side and tabulate/plot the results");
  app.add_option("--data", o.data_dir, "prepared data directory (default: the preset's, data/kjv)");
  app.add_option("--out", o.out_dir, "results directory (one run directory per variant and seed)")->required();
  app.add_option("--attentions", attentions,
                 "comma-separated variants (default: the seven attentions): attention names, or with --preset "
                 "any X that has <configs-dir>/<preset>-X.json, e.g. base-alibi")
      ->delimiter(',');
  app.add_option("--preset", o.preset,
                 "read <configs-dir>/<preset>-<variant>.json for each variant (configs/: tiny, small, english)");
  app.add_option("--configs-dir", o.configs_dir, "where the preset files are")->capture_default_str();
  app.add_option("--seeds", o.seeds, "runs per variant, seeds S, S+1, …")->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--seed", seed, "first seed (default: the preset's, else 1337)");
  app.add_option("--eval-windows", o.eval_windows,
                 "final val loss over this many block_size windows spread over val.bin (0 = all, as `eval`)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  app.add_option("--eval-batch", o.eval_batch, "windows per forward pass when evaluating")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--logit-batch", o.logit_batch, "val windows per forward pass that measures max |logit|")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_option("--logit-batches", o.logit_batches, "forward passes that measure max |logit| (windows spread over val.bin)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  app.add_flag("--verbose", o.verbose, "show each run's training progress lines");
  app.add_flag("--quiet", o.quiet, "print nothing but errors");
  // `noiseformer train`'s own flags, so types, checks and help are train's. The values parsed
  // here only check the command line; each run re-reads the text as given, over its preset
  // (study/compare.h), so `train`'s defaults shown in help would mislead and are hidden.
  TrainOptions checked;
  const std::vector<CLI::Option*> pass = add_train_flags(app, checked, TrainFlags::kPassThrough);
  for (CLI::Option* f : pass)
    f->group("Train flags (as for `noiseformer train`; over the preset, in every run)")->default_str("");
  app.get_option("--max-iters")->description("optimizer steps per run");
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  o.attentions = attentions;
  if (app.count("--seed") > 0) o.seed = seed;
  for (const CLI::Option* f : pass)
    if (f->count() > 0) o.overrides.emplace_back(f->get_lnames().front(), f->results().back());
  if (o.data_dir.empty() && o.preset.empty()) o.data_dir = "data/kjv";

  const auto t0 = std::chrono::steady_clock::now();
  CompareResult r = run_compare(o);
  const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!o.quiet) {
    std::fprintf(stderr, "compare: %lld runs trained, %lld reused, %.1f s; wrote %s/results.md, results.json, "
                         "loss_curves.png, train_loss_curves.png\n",
                 static_cast<long long>(r.trained), static_cast<long long>(r.reused), sec, o.out_dir.c_str());
    std::printf("%s", results_markdown(r).c_str());
  }
  return 0;
}

}  // namespace nf::cli
