#pragma once
// The training state kept beside a checkpoint (ckpt.state.safetensors: AdamW moments, the
// iteration, the model generator and the batch sampler's state), so that --resume continues
// exactly where the run stopped.
#include <array>
#include <cstdint>
#include <string>

#include "io/checkpoint.h"
#include "optim/optim.h"

namespace nf {

struct TrainState {
  int64_t next_iter = 0;
  std::array<uint64_t, 3> sampler{};  // BatchSampler::State
  uint64_t rng_seed = 0, rng_counter = 0;
  double best_val = 1e30;
};

std::string state_path_for(const std::string& ckpt_path);  // "…/ckpt.safetensors" -> "…/ckpt.state.safetensors"
void save_train_state(const std::string& path, const GPT& model, Optimizer& opt, const TrainState& st);
// Restores optimizer moments (checking names and shapes against `model`) and returns the rest.
TrainState load_train_state(const std::string& path, const GPT& model, Optimizer& opt);

}  // namespace nf
