#include "nn/base_attention.h"

#include <numeric>

#include "nn/alibi.h"

namespace nf {

BaseAttention::BaseAttention(const AttentionConfig& cfg, Generator& gen) : BaseAttention(cfg, Keys::Projected, gen) {}

BaseAttention::BaseAttention(const AttentionConfig& cfg, Keys keys, Generator& gen)
    : MultiHeadAttention(cfg, (keys == Keys::Projected ? 3 : 2) * cfg.n_embd, gen), H_(cfg.n_head), keys_(keys),
      alibi_(cfg.pos_bias == "alibi") {
  add_dropouts();
}

Tensor BaseAttention::forward(const Tensor& x, Generator& gen) {
  ModuleScope scope(this);
  Tensor q, k, v;
  project(x, q, k, v);                      // c_attn, split, split_heads: (B, H, T, d) views
  Tensor scores = scores_of(q, k);          // q @ kᵀ (B, H, T, T), unscaled
  Tensor att = probabilities(scores, gen);  // A = causal_softmax(scores, s)
  Tensor y = matmul(attn_drop->forward(att, gen), v);  // dropout(A) @ v (B, H, T, d)
  return output(y, gen);                    // dropout(c_proj(merge_heads(y))) (B, T, C)
}

Tensor BaseAttention::forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) {
  ModuleScope scope(this);
  Tensor q, k, v;
  project(x, q, k, v);  // (B, H, 1, d)
  make_room(cache);
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
  Tensor att;
  if (alibi_) {
    Tensor logits = add_pos_bias(mul(scores, scale_), positions(scores.size(-1)));  // s·QKᵀ − m_h(i − j)
    track_logits(logits);
    att = causal_softmax(logits, 1.0);
  } else {
    // Without a bias the scaling stays inside the fused op (mask j > i, scale by s, softmax); the
    // scaled logits are formed separately only for the probe.
    if (probe_.tracking_max_logit()) track_logits(mul(scores, scale_));
    att = causal_softmax(scores, scale_);
  }
  record_probabilities(att);
  return att;
}

Tensor BaseAttention::step_logits(const Tensor& scores, int64_t pos, LayerCache& cache, Generator& /*gen*/) {
  Tensor logits = mul(scores, scale_);
  return alibi_ ? add(logits, alibi_bias(H_, {pos}, cache.pos, logits.dtype(), logits.device())) : logits;
}

Tensor BaseAttention::add_pos_bias(const Tensor& logits, const std::vector<int64_t>& pos) const {
  return alibi_ ? add(logits, alibi_bias(H_, pos, pos, logits.dtype(), logits.device())) : logits;
}

std::vector<int64_t> BaseAttention::positions(int64_t T) {
  std::vector<int64_t> p(static_cast<size_t>(T));
  std::iota(p.begin(), p.end(), 0);
  return p;
}

void BaseAttention::track_logits(const Tensor& logits) {
  if (probe_.tracking_max_logit()) probe_.set_max_logit(max_abs_causal(logits));
}

void BaseAttention::record_probabilities(const Tensor& att, const std::string& title) {
  if (probe_.recording_maps()) probe_.record(title, att);
}

int64_t BaseAttention::parameter_count(const AttentionConfig& cfg) {
  return projection_parameter_count(cfg, 3 * cfg.n_embd);
}

}  // namespace nf
