#pragma once
// The resumable state of a training run, as ONE file (ckpt.state.safetensors) that appears
// atomically: the model's config and weights, the optimizer's moments, the iteration, the model
// generator's and the batch sampler's counters, the best validation loss and the run's settings.
// A kill at any instant leaves either the previous state or the new one, never parts of two
// saves, and --resume needs nothing else. ckpt.safetensors beside it is the same model for
// users and scripts (eval, sample, glue); both carry the save's checkpoint_id, so --resume can
// tell when the model file is from another save (a kill between the two writes) and rewrite it.
#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "io/checkpoint.h"
#include "optim/optim.h"

namespace nf {

struct TrainState {
  int64_t next_iter = 0;
  std::array<uint64_t, 3> sampler{};  // BatchSampler::State
  uint64_t rng_seed = 0, rng_counter = 0;
  double best_val = 1e30;
  nlohmann::json settings = nlohmann::json::object();  // train_settings_json of the run
  std::string checkpoint_id;                          // shared with the ckpt.safetensors of the same save
};

std::string state_path_for(const std::string& ckpt_path);  // "…/ckpt.safetensors" -> "…/ckpt.state.safetensors"
// A fresh id for one save: the iteration and the time, enough to tell two saves apart.
std::string new_checkpoint_id(int64_t next_iter);

void save_train_state(const std::string& path, const GPT& model, Optimizer& opt, const TrainState& st,
                      const std::string& tokenizer_meta);

// What --resume reads first: the state and the model it describes, before any optimizer exists
// (the optimizer is built from the restored settings, then filled by restore_optimizer).
struct ResumePoint {
  TrainState state;
  std::unique_ptr<GPT> model;
  SafetensorsFile file;  // kept for restore_optimizer
  std::string path;
};
ResumePoint read_train_state(const std::string& path);
// Restores AdamW's moments and step count (names and shapes checked against the model).
void restore_optimizer(const ResumePoint& rp, Optimizer& opt);

}  // namespace nf
