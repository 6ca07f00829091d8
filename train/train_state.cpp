#include "train/train_state.h"

#include <stdexcept>

#include "autograd/node.h"
#include "io/safetensors.h"

namespace nf {

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
