// `noiseformer kv-sweep`: the smallest KV-cache budget at which each variant's loss is within a
// tolerance of a reference's full-context loss, over a `compare` folder's runs (study/kv_sweep.h).
#include <cstdio>

#include "cli/commands.h"
#include "study/kv_sweep.h"
#include "train/config_file.h"

namespace nf::cli {

int cmd_kv_sweep(int argc, char** argv) {
  KVSweepOptions o;
  o.budgets = {0};
  CLI::App app = make_app("kv-sweep", "Decode a compare folder's runs at several KV-cache budgets; the budget at equal loss");
  app.add_option("--runs", o.runs_dir, "a `compare` results folder (<variant>-seed<S>/ckpt.safetensors)")->required();
  app.add_option("--variants", o.variants, "the variants to decode, e.g. base,selective,selective-mem")->required()->delimiter(',');
  app.add_option("--budgets", o.budgets, "cached entries per layer; 0 = the whole context (needed: the reference is measured there)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--reference", o.reference, "the variant whose full-context loss the others must reach")->capture_default_str();
  app.add_option("--tolerance", o.tolerance, "relative: within it means loss <= reference * (1 + tolerance)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--data", o.data_dir, "prepared data directory (default: the one each run trained on)");
  app.add_option("--max-windows", o.max_windows, "the first N block_size windows of val.bin (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--out", o.out_dir, "where kv_sweep.{json,md,png} go (default: RUNS/kv-sweep)");
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  const KVSweepResult r = run_kv_sweep(o, [](const KVSweepPoint& p) {
    std::fprintf(stderr, "kv-sweep: %s seed %llu budget %lld: loss %.5f%s\n", p.variant.c_str(),
                 static_cast<unsigned long long>(p.seed), static_cast<long long>(p.budget), p.loss,
                 p.reused ? " (reused)" : "");
  });
  for (const auto& v : r.variants) {
    if (v.equal_budget < 0)
      std::printf("%s: no budget within the tolerance\n", v.variant.c_str());
    else
      std::printf("%s: budget %lld, loss %.4f, attention memory %lld bytes (full cache %lld)\n", v.variant.c_str(),
                  static_cast<long long>(v.equal_budget == 0 ? r.block_size : v.equal_budget), v.equal_loss,
                  static_cast<long long>(v.equal_memory_bytes), static_cast<long long>(v.full_cache_bytes));
  }
  return 0;
}

}  // namespace nf::cli
