#pragma once
// Selective Attention (docs/selective.md): head 0's logits vote to mask earlier keys for every
// later query, in every head, with no parameters (the mask is nn/selective.h):
//   L = s·Q Kᵀ,   F = selective_mask(L_0),   A_h = softmax(L_h − F + M)
//   loss += ε · Σ_layers L_mem(F)              optional (selective_mem_weight), training only
// Decoding keeps a running f = F[t, ·] per cached key in the LayerCache, and with a budget evicts
// the most-masked key (never the first token) before adding one.
#include "nn/base_attention.h"

namespace nf {

class SelectiveAttention : public BaseAttention {
 public:
  SelectiveAttention(const AttentionConfig& cfg, Generator& gen);
  Tensor forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) override;
  // {"mem": this layer's L_mem, weight = selective_mem_weight} after a training forward with
  // the term on; a language-modelling term, left out of task fine-tuning.
  std::vector<LossTerm> loss_terms() const override;
  // No parameters of its own: base attention's count.
  static int64_t parameter_count(const AttentionConfig& cfg) { return BaseAttention::parameter_count(cfg); }

 protected:
  Tensor probabilities(const Tensor& scores, Generator& gen) override;
  Tensor step_logits(const Tensor& scores, int64_t pos, LayerCache& cache, Generator& gen) override;
  // The most-masked key (largest running f of batch row 0; the slots are shared by the rows),
  // never the first token.
  int64_t eviction_choice(const LayerCache& cache) const override;

 private:
  Tensor mem_loss_;  // L_mem of the last forward (undefined when not computed)
};

}  // namespace nf
