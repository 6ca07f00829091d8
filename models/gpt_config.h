#pragma once
// The model configuration: the keys of a checkpoint's __metadata__ config (docs/formats.md).
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "nn/attention_config.h"

namespace nf {

// The attention's part (sizes, variant and its options) is nn/attention_config.h.
struct GPTConfig : AttentionConfig {
  int64_t vocab_size = 65;

  // The largest sizes validate() accepts.
  static constexpr int64_t kMaxLayers = 4096, kMaxHeads = 4096, kMaxEmbd = 65536,
                           kMaxBlockSize = 1 << 20;

  // Throws std::invalid_argument naming the first bad field.
  void validate() const;
  nlohmann::json to_json() const;
  static GPTConfig from_json(const nlohmann::json& j);  // unknown keys are an error
};

}  // namespace nf
