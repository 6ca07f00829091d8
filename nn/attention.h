#pragma once
// The interface every attention variant implements, the KV cache it decodes with, the loss terms
// and probe it exposes, and the factory that builds the variant a config names. Maths:
// docs/gpt.md, docs/noiseformer.md, docs/diff.md, docs/selective.md.
#include <memory>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "nn/attention_config.h"
#include "nn/module.h"

namespace nf {

// The cached state of one layer during token-by-token decoding. Each buffer is
// (B, X, capacity, Y) — e.g. keys (B, H, cap, d) — and holds `len` valid entries along dim 2.
// Entries need not be in position order (attention is a sum over keys, so their order does not
// matter); `pos` records each entry's position. Selective attention also keeps f (B, cap), the
// running amount by which each cached key has been masked. With a budget, a full cache evicts one
// entry before each new one (Attention::make_room).
struct LayerCache {
  std::vector<Tensor> bufs;
  std::vector<int64_t> pos;
  int64_t len = 0;
  Tensor f;            // selective only
  int64_t budget = 0;  // max entries kept, the new one included (0 = no limit)
  int64_t peak = 0;    // most entries ever held at once
  int64_t bytes_per_entry = 0;  // Σ over buffers of X·Y elements, in bytes

  // Appends one entry per buffer: each item is (B, X, 1, Y).
  void append(const std::vector<Tensor>& items, int64_t position);
  // Removes entry e (the last entry moves into its slot).
  void evict(int64_t e);
  // The valid part of buffer i: (B, X, len, Y).
  Tensor view(size_t i) const { return bufs[i].narrow(2, 0, len); }
  int64_t capacity() const { return bufs.empty() ? 0 : bufs[0].size(2); }
};

// A term a layer adds to the training loss, from its last forward. The model combines the terms
// of one name over its layers (combine_loss_terms) and adds weight · the combined value.
struct LossTerm {
  std::string name;  // the key of the combined value in GPTOutput::terms and the training log
  Tensor sum;        // this layer's part
  // > 0: the combined value is the mean Σ sum / Σ count over every layer's entries; 0: Σ sum.
  int64_t count = 0;
  double weight = 0;
  // A language-modelling term, which task fine-tuning (GLUE) leaves out.
  bool pretraining_only = false;
};

// One name's terms combined over a model's layers, before the weight.
struct CombinedLossTerm {
  std::string name;
  Tensor value;
  double weight = 0;
  Tensor weighted() const { return mul(value, weight); }
};

// What the study tools draw from one layer.
struct AttentionMap {
  std::string title;  // what the map shows, e.g. "attention softmax(Z)"
  // (B, n, Tq, Tk): one panel per head, "head 0" … ; or (B, Tq, Tk): one panel for all heads,
  // titled `panel`.
  Tensor value;
  std::string panel;
  bool diverging = false;  // values of either sign, drawn on a diverging colour scale
};

// A look inside one attention layer, for the study tools and the gradient checks. Idle by
// default: the layer records nothing and draws its noise from the generator.
class AttentionProbe {
 public:
  // on: records (detached) the maps of the forwards that follow, starting from none; off:
  // stops and frees them.
  void record_maps(bool on);
  const std::vector<AttentionMap>& maps() const { return maps_; }
  // Keeps the largest |attention logit| of each forward that follows (a diagnostic of logit
  // growth): of the logits the softmax sees — scaled by s, with NoiseFormer's noise as the mode
  // draws it (in eval mode: noise_at_eval), ALiBi's bias, selective's mask F; for DIFF the larger
  // of its two branches — over the entries the causal mask keeps (key j ≤ query i) only.
  void track_max_logit(bool on) { track_max_logit_ = on; }
  double max_logit() const { return max_logit_; }
  // Score noise (NoiseFormer): the independent ε maps per batch element, Hn (1: one map shared
  // by the heads; n_head: one per head); 0 for a variant without noise.
  int64_t noise_heads() const { return noise_heads_; }
  // Uses eps (B, noise_heads(), T, T) as ε instead of drawing it, so that a function of the
  // parameters is deterministic (gradient checks, noise-free maps); undefined draws again.
  void set_fixed_noise(Tensor eps);

  // The layer's side of the probe.
  bool recording_maps() const { return record_maps_; }
  // Keeps a detached copy of value (AttentionMap's fields).
  void record(std::string title, const Tensor& value, std::string panel = "", bool diverging = false);
  bool tracking_max_logit() const { return track_max_logit_; }
  void set_max_logit(double v) { max_logit_ = v; }
  void set_noise_heads(int64_t n) { noise_heads_ = n; }
  const Tensor& fixed_noise() const { return fixed_noise_; }

 private:
  bool record_maps_ = false, track_max_logit_ = false;
  std::vector<AttentionMap> maps_;
  double max_logit_ = 0;
  int64_t noise_heads_ = 0;
  Tensor fixed_noise_;
};

class Attention : public Module {
 public:
  // x (B, T, C) -> (B, T, C), causal over the whole sequence (training and evaluation).
  virtual Tensor forward(const Tensor& x, Generator& gen) = 0;
  // One decoding step: x (B, 1, C) is the token at position `pos`; reads and extends `cache`.
  virtual Tensor forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) = 0;
  // The terms this variant adds to the loss, from the last forward (none by default).
  virtual std::vector<LossTerm> loss_terms() const { return {}; }

  AttentionProbe& probe() { return probe_; }
  const AttentionProbe& probe() const { return probe_; }

 protected:
  // Called by forward_step before it appends the new entry: when the cache holds its budget,
  // evicts the entry eviction_choice() names, so the layer never holds more than the budget.
  void make_room(LayerCache& cache) const;
  // Which cached entry to drop, or -1 for none. By default the oldest, never the first token (a
  // sliding window plus position 0). Selective attention drops its most-masked entry instead,
  // under the same never-the-first-token rule, so at equal budgets the two differ only in which
  // entry they choose.
  virtual int64_t eviction_choice(const LayerCache& cache) const;

  AttentionProbe probe_;
};

// The variant cfg.kind() names; layer is 0-based. Draws initial weights from gen.
std::shared_ptr<Attention> make_attention(const AttentionConfig& cfg, int64_t layer, Generator& gen);
// The parameter count of the layer make_attention(cfg, …) builds, by formula.
int64_t attention_parameter_count(const AttentionConfig& cfg);

// The loss terms of `layers` combined by name, in the order they first appear: each layer's
// terms are added in layer order, then divided by the total count where counted.
// `finetuning` leaves out the pretraining-only terms.
std::vector<CombinedLossTerm> combine_loss_terms(const std::vector<std::shared_ptr<Attention>>& layers,
                                                 bool finetuning = false);

// max |x| over all elements (diagnostics).
double max_abs_value(const Tensor& x);
// max |x[…, i, j]| over the causal entries of logits (…, Tq, Tk) whose Tq queries are the last Tq
// of the Tk positions: j ≤ i + (Tk − Tq). The probe's max-logit statistic.
double max_abs_causal(const Tensor& logits);
// (B, T, H*d) -> (B, H, T, d) as a view (no copy).
Tensor split_heads(const Tensor& x, int64_t H);
// (B, H, T, d) -> (B, T, H*d) (a copy: the heads are interleaved back into rows).
Tensor merge_heads(const Tensor& x);

}  // namespace nf
