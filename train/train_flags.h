#pragma once
// The flags of `noiseformer train` that shape a run — architecture, optimisation, evaluation —
// bound to a TrainOptions. `train` adds its own run-management flags (--init, --resume,
// --keep-best, --quiet) on top; `compare` parses each run's preset and overrides through the same
// list, so the two commands can never disagree about a flag's name or the values it accepts.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "train/trainer.h"

namespace nf::cli {

// kAll: every flag below (`train`). kPassThrough: all but --data, --out, --attention and --seed,
// which `compare` defines itself; the rest it passes through to every run.
enum class TrainFlags { kAll, kPassThrough };

// --data, --out, --attention and the model flags, the optimiser and schedule, evaluation,
// logging, seed, sampling and device. Returns the options added, in order.
std::vector<CLI::Option*> add_train_flags(CLI::App& app, TrainOptions& o, TrainFlags which = TrainFlags::kAll);

// The whole command line of `noiseformer train`: add_train_flags plus the run-management flags
// (--init, --resume, --keep-best, --quiet) and --config. The fuzz target for train's --config
// files parses with these same flags.
void add_train_command_flags(CLI::App& app, TrainOptions& o);

// `--device cpu|cuda` (default cpu), the one definition for every command that runs a model.
// Choosing cuda checks for a usable CUDA device while the flags are parsed, so a machine without
// one stops with require_cuda's one-line error (status 1) before anything is read or trained.
CLI::Option* add_device_option(CLI::App& app, std::string& device);

}  // namespace nf::cli
