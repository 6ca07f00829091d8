#pragma once
// The flags of `noiseformer train` that shape a run — architecture, optimisation, evaluation —
// bound to a TrainOptions. `train` adds its own run-management flags (--init, --resume,
// --keep-best, --quiet) on top; `compare` parses each run's preset and overrides through the same
// list, so the two commands can never disagree about a flag's name or the values it accepts.
#include <CLI/CLI.hpp>

#include "train/trainer.h"

namespace nf::cli {

// --data, --out, --attention and the model flags, the optimiser and schedule, evaluation,
// logging, seed, sampling and device.
void add_train_flags(CLI::App& app, TrainOptions& o);

}  // namespace nf::cli
