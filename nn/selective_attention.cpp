#include "nn/selective_attention.h"

#include "autograd/node.h"
#include "nn/selective.h"

namespace nf {

SelectiveAttention::SelectiveAttention(const AttentionConfig& cfg, Generator& gen) : BaseAttention(cfg, gen) {}

std::vector<LossTerm> SelectiveAttention::loss_terms() const {
  if (!mem_loss_.defined()) return {};
  LossTerm mem{"mem", mem_loss_, 0, cfg_.selective_mem_weight};
  mem.pretraining_only = true;
  return {mem};
}

Tensor SelectiveAttention::probabilities(const Tensor& scores, Generator& /*gen*/) {
  Tensor logits = mul(scores, scale_);
  Tensor F = selective_mask(logits.select(1, 0));  // (B, T, T) from head 0
  mem_loss_ = cfg_.selective_mem_weight > 0 && is_training() ? selective_mem_term(F) : Tensor();
  Tensor masked = sub(logits, F.unsqueeze(1));
  track_logits(masked);
  Tensor att = causal_softmax(masked, 1.0);
  if (probe_.recording_maps()) probe_.record("F: selective mask (from head 0, subtracted in every head)", F, "F");
  record_probabilities(att, "final attention softmax(Z - F)");
  return att;
}

Tensor SelectiveAttention::forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) {
  // The running mask f lives beside the cached keys (LayerCache::append and evict keep it in step).
  if (!cache.f.defined()) cache.f = zeros({x.size(0), 0}, x.dtype(), x.device());
  return BaseAttention::forward_step(x, pos, cache, gen);
}

int64_t SelectiveAttention::eviction_choice(const LayerCache& cache) const {
  const std::vector<double> f = cache.f.narrow(1, 0, cache.len).select(0, 0).to_vector<double>();
  int64_t worst = -1;
  for (int64_t e = 0; e < cache.len; ++e)
    if (cache.pos[e] != 0 && (worst < 0 || f[e] > f[worst])) worst = e;
  return worst;
}

Tensor SelectiveAttention::step_logits(const Tensor& scores, int64_t pos, LayerCache& cache, Generator& gen) {
  const int64_t B = scores.size(0);
  Tensor logits = BaseAttention::step_logits(scores, pos, cache, gen);
  Tensor f = cache.f.narrow(1, 0, cache.len);  // (B, len)
  logits = sub(logits, f.view({B, 1, 1, cache.len}));
  // After this step, every older key j (0 < pos_j < pos) is masked by ReLU(head-0 logit).
  std::vector<double> gate(cache.len);
  for (int64_t e = 0; e < cache.len; ++e) gate[e] = cache.pos[e] > 0 && cache.pos[e] < pos ? 1.0 : 0.0;
  Tensor S = mul(relu(mul(scores.select(1, 0).select(1, 0), scale_)), from_vector(gate, {cache.len}).to(scores.dtype()).to(scores.device()));
  NoGradGuard ng;
  f.copy_(add(f, S));
  return logits;
}

}  // namespace nf
