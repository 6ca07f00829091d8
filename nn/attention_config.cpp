#include "nn/attention_config.h"

namespace nf {

bool is_noise(const std::string& a) { return a == "noise-v1" || a == "noise-v2"; }
bool is_diff(const std::string& a) { return a == "diff" || a == "shared-diff"; }

}  // namespace nf
