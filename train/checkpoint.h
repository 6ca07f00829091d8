#pragma once
// Checkpoints: the model as one safetensors file (float32 tensors named as nanoGPT names them,
// the config JSON under __metadata__["config"], the tokenizer's meta.json under ["tokenizer"]),
// and the training state beside it (ckpt.state.safetensors: AdamW moments, iteration, the model
// generator and the batch sampler's state) so that --resume continues exactly.
// Both are written to a temporary name and renamed (train/safetensors.h).
#include <array>
#include <map>
#include <memory>
#include <string>

#include "models/gpt.h"
#include "train/optim.h"

namespace nf {

struct LoadedModel {
  std::unique_ptr<GPT> model;
  std::string tokenizer_meta;  // meta.json text stored with the checkpoint ("" if none)
};

void save_model(const std::string& path, const GPT& model, const std::string& tokenizer_meta);
// Reads the config from the file, builds the GPT, loads the weights (converted to `dtype`).
// Corrupt files, wrong names/shapes and bad configs throw one-line errors naming the file.
LoadedModel load_model(const std::string& path, DType dtype = DType::F32);
GPTConfig read_checkpoint_config(const std::string& path);

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
