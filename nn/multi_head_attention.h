#pragma once
// What every attention variant here is built from: GPT-2's two projections around the heads,
// with their dropouts (names as in nanoGPT, so checkpoints read like theirs):
//   c_attn: C -> the variant's query/key/value width     attn_drop: on the attention weights
//   c_proj: C -> C, initial std 0.02/√(2·n_layer)          resid_drop: on the layer's output
// and the head geometry: heads of width d = C/n_head, scores scaled by s = 1/√d.
#include "nn/attention.h"
#include "nn/dropout.h"
#include "nn/linear.h"

namespace nf {

class MultiHeadAttention : public Attention {
 public:
  std::shared_ptr<Linear> c_attn, c_proj;
  std::shared_ptr<Dropout> attn_drop, resid_drop;

 protected:
  // Registers c_attn (C -> qkv_width) then c_proj, drawing their weights from gen in that order.
  MultiHeadAttention(const AttentionConfig& cfg, int64_t qkv_width, Generator& gen);
  // Registers attn_drop and resid_drop. Each variant calls it where its checkpoints have always
  // listed them: right after the projections, or after the variant's own parameters (diff).
  void add_dropouts();
  // heads (B, H, T, w) -> (B, T, H·w = C): concatenated, c_proj, resid_drop.
  Tensor output(const Tensor& heads, Generator& gen) const;
  // The same for a decoding step, which runs in eval mode: no dropout.
  Tensor output_step(const Tensor& heads) const;
  // Parameters of c_attn (C -> qkv_width) and c_proj.
  static int64_t projection_parameter_count(const AttentionConfig& cfg, int64_t qkv_width);

  AttentionConfig cfg_;
  int64_t d_;     // head width C / n_head
  double scale_;  // s = 1/√d
};

}  // namespace nf
