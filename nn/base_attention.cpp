#include "nn/base_attention.h"

namespace nf {

BaseAttention::BaseAttention(const AttentionConfig& cfg, Generator& gen) : BaseAttention(cfg, Keys::Projected, gen) {}

BaseAttention::BaseAttention(const AttentionConfig& cfg, Keys keys, Generator& gen)
    : MultiHeadAttention(cfg, (keys == Keys::Projected ? 3 : 2) * cfg.n_embd, gen), H_(cfg.n_head), keys_(keys) {
  add_dropouts();
}

Tensor BaseAttention::forward(const Tensor& x, Generator& gen) {
  ModuleScope scope(this);
  Tensor q, k, v;
  project(x, q, k, v);                      // c_attn, split, split_heads: (B, H, T, d) views
  Tensor scores = scores_of(q, k);          // q @ kᵀ (B, H, T, T), unscaled
  Tensor att = probabilities(scores, gen);  // A = causal_softmax(scores, s)
  if (probe_.tracking_max_logit()) probe_.set_max_logit(scale_ * max_abs_value(scores));
  Tensor y = matmul(attn_drop->forward(att, gen), v);  // dropout(A) @ v (B, H, T, d)
  return output(y, gen);                    // dropout(c_proj(merge_heads(y))) (B, T, C)
}

Tensor BaseAttention::forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) {
  ModuleScope scope(this);
  Tensor q, k, v;
  project(x, q, k, v);  // (B, H, 1, d)
  cache.append({k, v}, pos);
  Tensor K = cache.view(0), V = cache.view(1);                              // (B, H, len, d)
  Tensor att = softmax(step_logits(scores_of(q, K), pos, cache, gen), -1);  // (B, H, 1, len)
  return output_step(matmul(att, V));
}

void BaseAttention::project(const Tensor& x, Tensor& q, Tensor& k, Tensor& v) const {
  std::vector<Tensor> parts = split(c_attn->forward(x), cfg_.n_embd, 2);  // views of (B, T, 3C | 2C)
  q = split_heads(parts[0], H_);
  k = keys_ == Keys::SameAsQueries ? q : split_heads(parts[1], H_);
  v = split_heads(parts.back(), H_);
}

Tensor BaseAttention::scores_of(const Tensor& q, const Tensor& k) const { return matmul(q, k.transpose(-1, -2)); }

Tensor BaseAttention::probabilities(const Tensor& scores, Generator& /*gen*/) {
  Tensor att = causal_softmax(scores, scale_);  // mask j > i, scale by s, softmax: one fused op
  record_probabilities(att);
  return att;
}

Tensor BaseAttention::step_logits(const Tensor& scores, int64_t /*pos*/, LayerCache& /*cache*/, Generator& /*gen*/) {
  return mul(scores, scale_);
}

void BaseAttention::record_probabilities(const Tensor& att, const std::string& title) {
  if (probe_.recording_maps()) probe_.record(title, att);
}

int64_t BaseAttention::parameter_count(const AttentionConfig& cfg) {
  return projection_parameter_count(cfg, 3 * cfg.n_embd);
}

}  // namespace nf
