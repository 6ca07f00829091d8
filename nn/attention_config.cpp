#include "nn/attention_config.h"
#include "tensor/one_line.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "nn/alibi.h"

namespace nf {

namespace {
const std::vector<std::pair<AttentionKind, std::string>>& kinds_and_names() {
  static const std::vector<std::pair<AttentionKind, std::string>> k{
      {AttentionKind::Base, "base"},         {AttentionKind::Symmetric, "symmetric"},
      {AttentionKind::NoiseV1, "noise-v1"},  {AttentionKind::NoiseV2, "noise-v2"},
      {AttentionKind::Diff, "diff"},         {AttentionKind::SharedDiff, "shared-diff"},
      {AttentionKind::Selective, "selective"}};
  return k;
}
}  // namespace

const std::vector<AttentionKind>& all_attention_kinds() {
  static const std::vector<AttentionKind> k = [] {
    std::vector<AttentionKind> v;
    for (const auto& [kind, name] : kinds_and_names()) v.push_back(kind);
    return v;
  }();
  return k;
}

const std::vector<std::string>& attention_names() {
  static const std::vector<std::string> n = [] {
    std::vector<std::string> v;
    for (const auto& [kind, name] : kinds_and_names()) v.push_back(name);
    return v;
  }();
  return n;
}

const std::string& attention_name(AttentionKind kind) {
  for (const auto& [k, name] : kinds_and_names())
    if (k == kind) return name;
  throw std::logic_error("attention_name: a kind without a name");
}

AttentionKind parse_attention(const std::string& name) {
  for (const auto& [kind, n] : kinds_and_names())
    if (n == name) return kind;
  std::string all;
  for (const std::string& n : attention_names()) all += (all.empty() ? "" : "|") + n;
  throw std::invalid_argument("unknown attention '" + one_line(name) + "' (" + all + ")");
}

bool is_noise(AttentionKind kind) { return kind == AttentionKind::NoiseV1 || kind == AttentionKind::NoiseV2; }
bool is_diff(AttentionKind kind) { return kind == AttentionKind::Diff || kind == AttentionKind::SharedDiff; }

bool takes_pos_bias(AttentionKind kind) {
  return kind == AttentionKind::Base || kind == AttentionKind::Symmetric || is_noise(kind);
}

std::string pos_bias_problem(const AttentionConfig& cfg) {
  const std::vector<std::string>& names = pos_bias_names();
  if (std::find(names.begin(), names.end(), cfg.pos_bias) == names.end())
    return "pos_bias must be none or alibi, got '" + cfg.pos_bias + "'";
  if (cfg.pos_bias != "none" && !takes_pos_bias(cfg.kind()))
    return "pos_bias " + cfg.pos_bias + " is for base, symmetric, noise-v1 and noise-v2, not " + cfg.attention;
  return "";
}

}  // namespace nf
