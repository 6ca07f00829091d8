#include "train/checkpoint.h"

#include <stdexcept>

#include "autograd/node.h"
#include "train/safetensors.h"

namespace nf {

namespace {
RawTensor to_raw(const Tensor& t) {
  Tensor c = t.detach().to(Device::CPU).to(DType::F32).contiguous();
  return detail::make_raw_tensor("F32", c.shape(), c.raw_data(), c.numel(), 4);
}

Tensor from_raw(const RawTensor& r, const std::string& file, const std::string& name) {
  if (r.dtype == "F32") {
    Tensor t = empty(r.shape, DType::F32);
    detail::copy_raw_values(r, "F32", t.raw_data(), 4);
    return t;
  }
  if (r.dtype == "F64") {
    Tensor t = empty(r.shape, DType::F64);
    detail::copy_raw_values(r, "F64", t.raw_data(), 8);
    return t;
  }
  throw std::runtime_error(file + ": tensor '" + name + "' has dtype " + r.dtype + ", expected F32");
}

const std::string& meta_at(const SafetensorsFile& f, const std::string& key, const std::string& path) {
  auto it = f.metadata.find(key);
  if (it == f.metadata.end()) throw std::runtime_error(path + ": no '" + key + "' in the safetensors metadata");
  return it->second;
}

// Each parameter's checkpoint name, keyed by its data, to name optimizer moments after it.
std::map<const TensorImpl*, std::string> parameter_names(const GPT& model) {
  std::map<const TensorImpl*, std::string> names;
  for (auto& [n, t] : model.named_parameters()) names[t.impl()] = n;
  return names;
}

uint64_t parse_u64(const std::string& s, const std::string& path, const std::string& key) {
  try {
    size_t used = 0;
    uint64_t v = std::stoull(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": metadata '" + key + "' is not an unsigned integer");
  }
}
}  // namespace

void save_model(const std::string& path, const GPT& model, const std::string& tokenizer_meta) {
  std::vector<std::pair<std::string, RawTensor>> tensors;
  for (auto& [name, t] : model.named_parameters()) tensors.emplace_back(name, to_raw(t));
  std::map<std::string, std::string> meta{{"config", model.config().to_json().dump()}, {"format", "noiseformer"}};
  if (!tokenizer_meta.empty()) meta["tokenizer"] = tokenizer_meta;
  save_safetensors(path, tensors, meta);
}

namespace {
// The model config stored under __metadata__["config"], with errors naming the file.
GPTConfig config_of(const SafetensorsFile& f, const std::string& path) {
  try {
    return GPTConfig::from_json(nlohmann::json::parse(meta_at(f, "config", path)));
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path + ": the config in the metadata is not valid JSON");
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}
}  // namespace

GPTConfig read_checkpoint_config(const std::string& path) { return config_of(load_safetensors(path), path); }

LoadedModel load_model(const std::string& path, DType dtype) {
  SafetensorsFile f = load_safetensors(path);
  const GPTConfig cfg = config_of(f, path);
  LoadedModel out;
  out.model = std::make_unique<GPT>(cfg);
  if (dtype != DType::F32) out.model->to(dtype);
  std::map<std::string, Tensor> state;
  for (auto& [name, raw] : f.tensors) state.emplace(name, from_raw(raw, path, name));
  try {
    out.model->load_state_dict(state, /*strict=*/true);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": does not match its config: " + e.what());
  }
  auto tok = f.metadata.find("tokenizer");
  if (tok != f.metadata.end()) out.tokenizer_meta = tok->second;
  return out;
}

std::string state_path_for(const std::string& ckpt) {
  const std::string ext = ".safetensors";
  if (ckpt.size() > ext.size() && ckpt.compare(ckpt.size() - ext.size(), ext.size(), ext) == 0)
    return ckpt.substr(0, ckpt.size() - ext.size()) + ".state" + ext;
  return ckpt + ".state";
}

void save_train_state(const std::string& path, const GPT& model, Optimizer& opt, const TrainState& st) {
  std::vector<std::pair<std::string, RawTensor>> tensors;
  std::map<std::string, std::string> meta{
      {"next_iter", std::to_string(st.next_iter)},     {"sampler_k", std::to_string(st.sampler[0])},
      {"sampler_seed", std::to_string(st.sampler[1])}, {"sampler_counter", std::to_string(st.sampler[2])},
      {"rng_seed", std::to_string(st.rng_seed)},       {"rng_counter", std::to_string(st.rng_counter)},
      {"best_val", nlohmann::json(st.best_val).dump()}};
  if (auto* adam = dynamic_cast<AdamW*>(&opt)) {
    meta["optimizer"] = "adamw";
    meta["adam_steps"] = std::to_string(adam->steps);
    // Moments are in optimizer order; name them by their parameter.
    const std::map<const TensorImpl*, std::string> names = parameter_names(model);
    size_t k = 0;
    for (auto& g : opt.groups())
      for (auto& p : g.params) {
        tensors.emplace_back("exp_avg." + names.at(p.impl()), to_raw(adam->exp_avg()[k]));
        tensors.emplace_back("exp_avg_sq." + names.at(p.impl()), to_raw(adam->exp_avg_sq()[k]));
        ++k;
      }
  } else {
    meta["optimizer"] = "sgd";
  }
  save_safetensors(path, tensors, meta);
}

TrainState load_train_state(const std::string& path, const GPT& model, Optimizer& opt) {
  SafetensorsFile f = load_safetensors(path);
  TrainState st;
  st.next_iter = static_cast<int64_t>(parse_u64(meta_at(f, "next_iter", path), path, "next_iter"));
  st.sampler = {parse_u64(meta_at(f, "sampler_k", path), path, "sampler_k"),
                parse_u64(meta_at(f, "sampler_seed", path), path, "sampler_seed"),
                parse_u64(meta_at(f, "sampler_counter", path), path, "sampler_counter")};
  st.rng_seed = parse_u64(meta_at(f, "rng_seed", path), path, "rng_seed");
  st.rng_counter = parse_u64(meta_at(f, "rng_counter", path), path, "rng_counter");
  try {
    st.best_val = nlohmann::json::parse(meta_at(f, "best_val", path)).get<double>();
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path + ": metadata 'best_val' is not a number");
  }
  const std::string& kind = meta_at(f, "optimizer", path);
  auto* adam = dynamic_cast<AdamW*>(&opt);
  if ((kind == "adamw") != (adam != nullptr))
    throw std::runtime_error(path + ": training state is for optimizer '" + kind + "', this run uses another");
  if (adam) {
    adam->steps = static_cast<int64_t>(parse_u64(meta_at(f, "adam_steps", path), path, "adam_steps"));
    const std::map<const TensorImpl*, std::string> names = parameter_names(model);
    NoGradGuard ng;
    size_t k = 0;
    for (auto& g : opt.groups())
      for (auto& p : g.params) {
        for (int which = 0; which < 2; ++which) {
          const std::string name = (which ? "exp_avg_sq." : "exp_avg.") + names.at(p.impl());
          Tensor t = from_raw(f.at(name), path, name);
          Tensor& dst = which ? adam->exp_avg_sq()[k] : adam->exp_avg()[k];
          if (t.shape() != dst.shape())
            throw std::runtime_error(path + ": '" + name + "' has shape " + shape_str(t.shape()) + ", expected " + shape_str(dst.shape()));
          dst.copy_(t);
        }
        ++k;
      }
  }
  return st;
}

}  // namespace nf
