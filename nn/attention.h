#pragma once
// The attention interface every variant implements, its KV cache, and the factory that picks a
// variant from the config's `attention` key. Maths: docs/gpt.md, docs/noiseformer.md,
// docs/diff.md, docs/selective.md.
#include <memory>
#include <vector>

#include "nn/attention_config.h"
#include "nn/module.h"
#include "autograd/ops.h"

namespace nf {

// The cached state of one layer during token-by-token decoding. Each buffer is
// (B, X, capacity, Y) — e.g. keys (B, H, cap, d) — and holds `len` valid entries along dim 2.
// Entries need not be in position order (attention is a sum over keys, so their order does not
// matter); `pos` records each entry's position. Selective attention also keeps f (B, cap), the
// running amount by which each cached key has been masked, and may evict entries (budget).
struct LayerCache {
  std::vector<Tensor> bufs;
  std::vector<int64_t> pos;
  int64_t len = 0;
  Tensor f;            // selective only
  int64_t budget = 0;  // max entries kept (0 = no limit); selective only
  int64_t peak = 0;    // most entries ever held at once
  int64_t bytes_per_entry = 0;

  // Appends one entry per buffer: each item is (B, X, 1, Y).
  void append(const std::vector<Tensor>& items, int64_t position);
  // Removes entry e (the last entry moves into its slot).
  void evict(int64_t e);
  // The valid part of buffer i: (B, X, len, Y).
  Tensor view(size_t i) const { return bufs[i].narrow(2, 0, len); }
  int64_t capacity() const { return bufs.empty() ? 0 : bufs[0].size(2); }
};

class Attention : public Module {
 public:
  // x (B, T, C) -> (B, T, C), causal over the whole sequence (training and evaluation).
  virtual Tensor forward(const Tensor& x, Generator& gen) = 0;
  // One decoding step: x (B, 1, C) is the token at position `pos`; reads and extends `cache`.
  virtual Tensor forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) = 0;
  // Terms the variant adds to the loss, from the last forward: sum over its noise parameters of
  // KL(N(μ,σ²) ‖ N(0,1)) with their count (noise variants), L_mem (selective). Undefined if none.
  virtual Tensor kl_sum() const { return Tensor(); }
  virtual int64_t kl_count() const { return 0; }
  virtual Tensor mem_loss() const { return Tensor(); }
  // When on, forward records the largest |scaled attention logit| (a diagnostic of logit growth).
  bool track_max_logit = false;
  double last_max_logit = 0;
};

// layer is 0-based. Draws initial weights from gen.
std::shared_ptr<Attention> make_attention(const AttentionConfig& cfg, int64_t layer, Generator& gen);

// max |x| over all elements (diagnostics).
double max_abs_value(const Tensor& x);
// (B, T, H*d) -> (B, H, T, d) as a view (no copy).
Tensor split_heads(const Tensor& x, int64_t H);
// (B, H, T, d) -> (B, T, H*d) (a copy: the heads are interleaved back into rows).
Tensor merge_heads(const Tensor& x);

}  // namespace nf
