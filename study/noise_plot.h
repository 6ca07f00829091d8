#pragma once
// "What the noise learns": NoiseFormer's σ (or μ) per layer and per ε map over a run, read from
// the evaluation lines of its log.jsonl (train/noise_log.h writes them), or — for relpos noise —
// against distance in a checkpoint, drawn as one line chart per layer, one curve per map
// (noise-v1: one per layer; noise-v2: one per head), panels in a grid of two columns.
// `noiseformer noise-plot` (docs/cli.md).
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/gpt.h"
#include "study/plot.h"

namespace nf {

struct NoiseHistory {
  // The x axis, ascending: the evaluation lines' iterations (read_noise_history), or the causal
  // distances 0 … block_size − 1 (noise_by_distance).
  std::vector<int64_t> x;
  // sigma[k][layer][map] (likewise mu) at x[k].
  std::vector<std::vector<std::vector<double>>> sigma, mu;
};

// The noise fields of every evaluation line of log.jsonl (an iteration logged twice: the last
// line wins; a line cut short is skipped). Throws naming the file when it cannot be read, when
// no line has them (not a noise model, or no evaluation yet), or when the layers or maps change
// in number between lines.
NoiseHistory read_noise_history(const std::string& log_jsonl);

// A noise_mean=relpos model's learnt tables at one moment, against the distance i − j between
// query and key: whether μ became a recency bias and at which distances σ shrank. Throws for a
// model without relpos noise.
NoiseHistory noise_by_distance(const GPT& model);

// The same numbers as JSON, {"x": [...], "sigma": [x][layer][map], "mu": ...}, so that figures
// quoted from a chart can be checked against the values it drew.
nlohmann::json noise_history_json(const NoiseHistory& h);

// One panel per layer — "layer l: sigma per head" — with one curve per map over h.x.
// `param`: "sigma" or "mu".
plot::Canvas noise_chart(const NoiseHistory& h, const std::string& param, const std::string& title,
                         const std::string& x_label = "iteration");

}  // namespace nf
