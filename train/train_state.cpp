#include "train/train_state.h"
#include "tensor/one_line.h"

#include <chrono>
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

std::string new_checkpoint_id(int64_t next_iter) {
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                      std::chrono::system_clock::now().time_since_epoch()).count();
  return std::to_string(next_iter) + "-" + std::to_string(ns);
}

// Tensors: "model.<name>" for each weight, "exp_avg.<name>" / "exp_avg_sq.<name>" for AdamW's
// moments. Metadata: the counters, the config, the settings and the checkpoint id.
void save_train_state(const std::string& path, const GPT& model, Optimizer& opt, const TrainState& st,
                      const std::string& tokenizer_meta) {
  std::vector<std::pair<std::string, RawTensor>> tensors;
  for (auto& [name, t] : model.named_parameters()) tensors.emplace_back("model." + name, to_raw(t));
  std::map<std::string, std::string> meta{
      {"format", "noiseformer-train-state"},
      {"next_iter", std::to_string(st.next_iter)},     {"sampler_k", std::to_string(st.sampler[0])},
      {"sampler_seed", std::to_string(st.sampler[1])}, {"sampler_counter", std::to_string(st.sampler[2])},
      {"rng_seed", std::to_string(st.rng_seed)},       {"rng_counter", std::to_string(st.rng_counter)},
      {"best_val", nlohmann::json(st.best_val).dump()}, {"config", model.config().to_json().dump()},
      {"settings", st.settings.dump()},                {"checkpoint_id", st.checkpoint_id}};
  if (!tokenizer_meta.empty()) meta["tokenizer"] = tokenizer_meta;
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

ResumePoint read_train_state(const std::string& path) {
  ResumePoint rp;
  rp.path = path;
  rp.file = load_safetensors(path);
  const SafetensorsFile& f = rp.file;
  if (f.metadata.count("format") == 0 || f.metadata.at("format") != "noiseformer-train-state")
    throw std::runtime_error(path + ": not a training state of this version of noiseformer (no model weights in "
                             "it); it cannot be resumed exactly — start a new run, or --init from its checkpoint");
  TrainState& st = rp.state;
  // Counters are unsigned decimal strings; a negative or fractional value is refused, not wrapped.
  const uint64_t next = parse_u64(meta_at(f, "next_iter", path), path, "next_iter");
  if (next > uint64_t(INT64_MAX)) throw std::runtime_error(path + ": metadata 'next_iter' is out of range");
  st.next_iter = static_cast<int64_t>(next);
  st.sampler = {parse_u64(meta_at(f, "sampler_k", path), path, "sampler_k"),
                parse_u64(meta_at(f, "sampler_seed", path), path, "sampler_seed"),
                parse_u64(meta_at(f, "sampler_counter", path), path, "sampler_counter")};
  st.rng_seed = parse_u64(meta_at(f, "rng_seed", path), path, "rng_seed");
  st.rng_counter = parse_u64(meta_at(f, "rng_counter", path), path, "rng_counter");
  st.checkpoint_id = meta_at(f, "checkpoint_id", path);
  try {
    st.best_val = nlohmann::json::parse(meta_at(f, "best_val", path)).get<double>();
    st.settings = nlohmann::json::parse(meta_at(f, "settings", path));
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(path + ": metadata 'best_val' or 'settings' is not valid");
  }
  if (!st.settings.is_object()) throw std::runtime_error(path + ": metadata 'settings' is not a JSON object");

  GPTConfig cfg;
  try {
    cfg = GPTConfig::from_json(nlohmann::json::parse(meta_at(f, "config", path)));
  } catch (const std::exception& e) {
    throw std::runtime_error(path + ": bad model config: " + e.what());
  }
  std::map<std::string, Tensor> weights;
  int64_t stored = 0;
  for (const auto& [name, raw] : f.tensors)
    if (name.rfind("model.", 0) == 0) {
      Tensor t = from_raw(raw, path, name);
      stored += t.numel();
      weights.emplace(name.substr(6), t);
    }
  if (count_parameters(cfg) > 4 * stored + (int64_t(1) << 20))
    throw std::runtime_error(path + ": does not match its config (" + std::to_string(count_parameters(cfg)) +
                             " parameters, " + std::to_string(stored) + " stored)");
  rp.model = std::make_unique<GPT>(cfg);
  try {
    rp.model->load_state_dict(weights, /*strict=*/true);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": does not match its config: " + e.what());
  }
  return rp;
}

void restore_optimizer(const ResumePoint& rp, Optimizer& opt) {
  const SafetensorsFile& f = rp.file;
  const std::string& path = rp.path;
  const std::string& kind = meta_at(f, "optimizer", path);
  auto* adam = dynamic_cast<AdamW*>(&opt);
  if ((kind == "adamw") != (adam != nullptr))
    throw std::runtime_error(path + ": training state is for optimizer '" + one_line(kind) + "', this run uses another");
  if (!adam) return;
  const uint64_t steps = parse_u64(meta_at(f, "adam_steps", path), path, "adam_steps");
  if (steps > uint64_t(INT64_MAX)) throw std::runtime_error(path + ": metadata 'adam_steps' is out of range");
  adam->steps = static_cast<int64_t>(steps);
  const std::map<const TensorImpl*, std::string> names = parameter_names(*rp.model);
  NoGradGuard ng;
  size_t k = 0;
  for (auto& g : opt.groups())
    for (auto& p : g.params) {
      for (int which = 0; which < 2; ++which) {
        const std::string name = (which ? "exp_avg_sq." : "exp_avg.") + names.at(p.impl());
        const RawTensor* raw = f.find(name);
        if (!raw) throw std::runtime_error(path + ": no optimizer moment '" + name + "'");
        Tensor t = from_raw(*raw, path, name);  // refuses NaN/inf moments
        Tensor& dst = which ? adam->exp_avg_sq()[k] : adam->exp_avg()[k];
        if (t.shape() != dst.shape())
          throw std::runtime_error(path + ": '" + name + "' has shape " + shape_str(t.shape()) + ", expected " +
                                   shape_str(dst.shape()));
        dst.copy_(t);
      }
      ++k;
    }
}

}  // namespace nf
