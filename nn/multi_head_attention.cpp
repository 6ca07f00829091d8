#include "nn/multi_head_attention.h"

#include <cmath>

namespace nf {

MultiHeadAttention::MultiHeadAttention(const AttentionConfig& cfg, int64_t qkv_width, Generator& gen)
    : cfg_(cfg) {
  const int64_t C = cfg.n_embd;
  d_ = C / cfg.n_head;
  scale_ = 1.0 / std::sqrt(static_cast<double>(d_));
  c_attn = register_module("c_attn", std::make_shared<Linear>(C, qkv_width, cfg.bias, gen));
  c_proj = register_module("c_proj", std::make_shared<Linear>(C, C, cfg.bias, gen, 0.02 / std::sqrt(2.0 * cfg.n_layer)));
}

void MultiHeadAttention::add_dropouts() {
  attn_drop = register_module("attn_drop", std::make_shared<Dropout>(cfg_.dropout));
  resid_drop = register_module("resid_drop", std::make_shared<Dropout>(cfg_.dropout));
}

Tensor MultiHeadAttention::output(const Tensor& heads, Generator& gen) const {
  return resid_drop->forward(output_step(heads), gen);
}

Tensor MultiHeadAttention::output_step(const Tensor& heads) const { return c_proj->forward(merge_heads(heads)); }

int64_t MultiHeadAttention::projection_parameter_count(const AttentionConfig& cfg, int64_t qkv_width) {
  const int64_t C = cfg.n_embd, b = cfg.bias ? 1 : 0;
  return (C * qkv_width + qkv_width * b) + (C * C + C * b);
}

}  // namespace nf
