#pragma once
// What NoiseFormer's noise has learnt, for log.jsonl: each evaluation line of a noise model
// (noise-v1, noise-v2) carries
//   "noise_sigma": [[σ of each ε map] for each layer],   σ = exp(½ log σ²)
//   "noise_mu":    [[μ of each ε map] for each layer]
// with one map per layer for noise-v1 and one per head for noise-v2; with noise_mean=relpos,
// each map's mean over its block_size distances. `noiseformer noise-plot` draws them over the
// iterations (study/noise_plot.h); docs/formats.md §5 lists the fields.
#include <nlohmann/json.hpp>

#include "models/gpt.h"

namespace nf {

// Adds "noise_sigma" and "noise_mu" to `line` when `model` has noise attention; nothing otherwise.
void add_noise_fields(nlohmann::json& line, const GPT& model);

}  // namespace nf
