#pragma once
// Checkpoints: the model as one safetensors file (float32 tensors named as nanoGPT names them,
// the config JSON under __metadata__["config"], the tokenizer's meta.json under ["tokenizer"]).
// A training run keeps its optimizer and sampler state beside it (train/train_state.h).
// Written to a temporary name and renamed (io/safetensors.h).
#include <array>
#include <map>
#include <memory>
#include <string>

#include "models/gpt.h"
#include "io/safetensors.h"

namespace nf {

struct LoadedModel {
  std::unique_ptr<GPT> model;
  std::string tokenizer_meta;  // meta.json text stored with the checkpoint ("" if none)
};

// checkpoint_id (optional) ties the file to the training state of the same save (train/train_state.h).
void save_model(const std::string& path, const GPT& model, const std::string& tokenizer_meta,
                const std::string& checkpoint_id = "");
// Reads the config from the file, builds the GPT, loads the weights (converted to `dtype`).
// Corrupt files, wrong names/shapes and bad configs throw one-line errors naming the file.
LoadedModel load_model(const std::string& path, DType dtype = DType::F32);
GPTConfig read_checkpoint_config(const std::string& path);

// ---- pieces for files that store tensors beside a model (train/train_state.h) --------------
// A float32 contiguous host copy of t in safetensors form; and back (F32 or F64 on disk).
RawTensor to_raw(const Tensor& t);
Tensor from_raw(const RawTensor& r, const std::string& file, const std::string& name);
// __metadata__[key], or an error naming the file and the key.
const std::string& meta_at(const SafetensorsFile& f, const std::string& key, const std::string& path);
uint64_t parse_u64(const std::string& s, const std::string& path, const std::string& key);
// Each parameter's checkpoint name, keyed by its data.
std::map<const TensorImpl*, std::string> parameter_names(const GPT& model);

}  // namespace nf
