#include "io/checkpoint.h"

#include <cmath>
#include <stdexcept>

#include "autograd/node.h"
#include "io/safetensors.h"
#include "tensor/one_line.h"

namespace nf {

RawTensor to_raw(const Tensor& t) {
  Tensor c = t.detach().to(Device::CPU).to(DType::F32).contiguous();
  return detail::make_raw_tensor("F32", c.shape(), c.raw_data(), c.numel(), 4);
}

namespace {
// A NaN or infinite weight (a run that diverged, a corrupt file) would evaluate to a NaN loss and
// sample noise while looking like success; it is refused where it enters, with its name.
template <class T>
void check_finite(const T* p, int64_t n, const std::string& file, const std::string& name) {
  for (int64_t i = 0; i < n; ++i)
    if (!std::isfinite(p[i]))
      throw std::runtime_error(file + ": tensor '" + one_line(name) + "' holds a non-finite value (" +
                               std::to_string(p[i]) + " at element " + std::to_string(i) + ")");
}
}  // namespace

Tensor from_raw(const RawTensor& r, const std::string& file, const std::string& name) {
  if (r.dtype == "F32") {
    Tensor t = empty(r.shape, DType::F32);
    detail::copy_raw_values(r, "F32", t.raw_data(), 4);
    check_finite(t.data<float>(), t.numel(), file, name);
    return t;
  }
  if (r.dtype == "F64") {
    Tensor t = empty(r.shape, DType::F64);
    detail::copy_raw_values(r, "F64", t.raw_data(), 8);
    check_finite(t.data<double>(), t.numel(), file, name);
    return t;
  }
  throw std::runtime_error(file + ": tensor '" + one_line(name) + "' has dtype " + one_line(r.dtype) + ", expected F32");
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
  // std::stoull would read "-1" as 2^64-1 and " 7" as 7: only plain digits are a count.
  if (s.empty() || s.find_first_not_of("0123456789") != std::string::npos)
    throw std::runtime_error(path + ": metadata '" + key + "' is not an unsigned integer");
  try {
    size_t used = 0;
    uint64_t v = std::stoull(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw std::runtime_error(path + ": metadata '" + key + "' is not an unsigned integer");
  }
}

void save_model(const std::string& path, const GPT& model, const std::string& tokenizer_meta,
                const std::string& checkpoint_id) {
  std::vector<std::pair<std::string, RawTensor>> tensors;
  for (auto& [name, t] : model.named_parameters()) tensors.emplace_back(name, to_raw(t));
  std::map<std::string, std::string> meta{{"config", model.config().to_json().dump()}, {"format", "noiseformer"}};
  if (!tokenizer_meta.empty()) meta["tokenizer"] = tokenizer_meta;
  if (!checkpoint_id.empty()) meta["checkpoint_id"] = checkpoint_id;
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
  // A config that asks for far more parameters than the file holds (a million layers beside a
  // small file) is refused before the model is built: building it would allocate that much.
  // Within a small margin the model is built, and load_state_dict names each tensor that differs.
  int64_t stored = 0;
  for (const auto& [name, raw] : f.tensors) {
    int64_t n = 1;
    for (int64_t s : raw.shape) n *= s;  // safetensors' reader has checked these products
    stored += n;
  }
  const int64_t wanted = count_parameters(cfg);  // cannot overflow: validate() bounds each size
  if (wanted > 4 * stored + (int64_t(1) << 20))
    throw std::runtime_error(path + ": does not match its config: the config describes " + std::to_string(wanted) +
                             " parameters, the file holds " + std::to_string(stored) + " values");
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

}  // namespace nf
