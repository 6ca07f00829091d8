// `noiseformer noise-plot`: NoiseFormer's learnt σ (or μ) per layer and head over a run, from its
// log.jsonl, or against distance from a relpos checkpoint, as a PNG (study/noise_plot.h).
#include <cstdio>

#include "cli/commands.h"
#include "io/checkpoint.h"
#include "study/json_file.h"
#include "study/noise_plot.h"
#include "train/config_file.h"

namespace nf::cli {

int cmd_noise_plot(int argc, char** argv) {
  std::string log, checkpoint, out, json_out, param = "sigma";
  CLI::App app = make_app("noise-plot", "Draw a noise model's sigma (or mu) per layer and head over its training, or against distance (PNG)");
  auto* from_log = app.add_option("--log", log, "the run's log.jsonl (noise-v1 or noise-v2; written by train at every evaluation)");
  app.add_option("--checkpoint", checkpoint, "instead of --log: a noise_mean=relpos checkpoint, drawn against the distance i - j")
      ->excludes(from_log);
  app.add_option("--out", out, "PNG file to write")->required();
  app.add_option("--json", json_out, "also write the values drawn (x, sigma and mu per layer and map) to this JSON file");
  app.add_option("--param", param, "sigma = exp(log_var / 2), or mu")->check(CLI::IsMember({"sigma", "mu"}))->capture_default_str();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  if (log.empty() == checkpoint.empty()) throw std::invalid_argument("give --log or --checkpoint");
  const bool by_distance = !checkpoint.empty();
  const NoiseHistory h = by_distance ? noise_by_distance(*load_model(checkpoint).model) : read_noise_history(log);
  if (!json_out.empty()) write_json_file(json_out, noise_history_json(h));
  const size_t layers = h.sigma[0].size(), maps = layers > 0 ? h.sigma[0][0].size() : 0;
  if (by_distance) {
    noise_chart(h, param, "Noise " + param + " by distance: " + checkpoint, "distance i - j").write_png(out);
    std::fprintf(stderr, "noise-plot: distances 0 to %lld, %zu layers x %zu maps -> %s\n",
                 static_cast<long long>(h.x.back()), layers, maps, out.c_str());
  } else {
    noise_chart(h, param, "Noise " + param + " over training: " + log).write_png(out);
    std::fprintf(stderr, "noise-plot: %zu evaluations (iterations %lld to %lld), %zu layers x %zu maps -> %s\n",
                 h.x.size(), static_cast<long long>(h.x.front()), static_cast<long long>(h.x.back()), layers, maps,
                 out.c_str());
  }
  return 0;
}

}  // namespace nf::cli
