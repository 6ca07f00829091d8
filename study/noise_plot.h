#pragma once
// "What the noise learns": NoiseFormer's σ (or μ) per layer and per ε map over a run, read from
// the evaluation lines of its log.jsonl (train/noise_log.h writes them) and drawn as one line
// chart per layer, one curve per map (noise-v1: one per layer; noise-v2: one per head), panels
// in a grid of two columns. `noiseformer noise-plot` (docs/cli.md).
#include <cstdint>
#include <string>
#include <vector>

#include "study/plot.h"

namespace nf {

struct NoiseHistory {
  std::vector<int64_t> iters;  // the evaluation lines' iterations, ascending
  // sigma[k][layer][map] (likewise mu) at iters[k].
  std::vector<std::vector<std::vector<double>>> sigma, mu;
};

// The noise fields of every evaluation line of log.jsonl (an iteration logged twice: the last
// line wins; a line cut short is skipped). Throws naming the file when it cannot be read, when
// no line has them (not a noise model, or no evaluation yet), or when the layers or maps change
// in number between lines.
NoiseHistory read_noise_history(const std::string& log_jsonl);

// One panel per layer — "layer l: sigma per head" — with one curve per map over the iterations.
// `param`: "sigma" or "mu".
plot::Canvas noise_chart(const NoiseHistory& h, const std::string& param, const std::string& title);

}  // namespace nf
