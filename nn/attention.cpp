#include "nn/attention.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "autograd/node.h"
#include "nn/base_attention.h"
#include "nn/diff_attention.h"
#include "nn/noise_attention.h"
#include "nn/selective_attention.h"
#include "nn/symmetric_attention.h"

namespace nf {

std::shared_ptr<Attention> make_attention(const AttentionConfig& cfg, int64_t layer, Generator& gen) {
  // GPTConfig::validate says the same for a model; this guards an attention built on its own.
  if (const std::string why = pos_bias_problem(cfg); !why.empty()) throw std::invalid_argument(why);
  switch (cfg.kind()) {
    case AttentionKind::Base: return std::make_shared<BaseAttention>(cfg, gen);
    case AttentionKind::Symmetric: return std::make_shared<SymmetricAttention>(cfg, gen);
    case AttentionKind::NoiseV1: return std::make_shared<NoiseAttention>(cfg, /*per_head=*/false, gen);
    case AttentionKind::NoiseV2: return std::make_shared<NoiseAttention>(cfg, /*per_head=*/true, gen);
    case AttentionKind::Diff: return std::make_shared<DiffAttention>(cfg, layer, /*shared_base=*/false, gen);
    case AttentionKind::SharedDiff: return std::make_shared<DiffAttention>(cfg, layer, /*shared_base=*/true, gen);
    case AttentionKind::Selective: return std::make_shared<SelectiveAttention>(cfg, gen);
  }
  throw std::logic_error("make_attention: no class for attention '" + cfg.attention + "'");
}

int64_t attention_parameter_count(const AttentionConfig& cfg) {
  switch (cfg.kind()) {
    case AttentionKind::Base: return BaseAttention::parameter_count(cfg);
    case AttentionKind::Symmetric: return SymmetricAttention::parameter_count(cfg);
    case AttentionKind::NoiseV1: return NoiseAttention::parameter_count(cfg, /*per_head=*/false);
    case AttentionKind::NoiseV2: return NoiseAttention::parameter_count(cfg, /*per_head=*/true);
    case AttentionKind::Diff: return DiffAttention::parameter_count(cfg, /*shared_base=*/false);
    case AttentionKind::SharedDiff: return DiffAttention::parameter_count(cfg, /*shared_base=*/true);
    case AttentionKind::Selective: return SelectiveAttention::parameter_count(cfg);
  }
  throw std::logic_error("attention_parameter_count: no class for attention '" + cfg.attention + "'");
}

std::vector<CombinedLossTerm> combine_loss_terms(const std::vector<std::shared_ptr<Attention>>& layers,
                                                 bool finetuning) {
  std::vector<CombinedLossTerm> out;
  std::vector<int64_t> counts;
  for (const auto& layer : layers)
    for (const LossTerm& t : layer->loss_terms()) {
      if (finetuning && t.pretraining_only) continue;
      auto it = std::find_if(out.begin(), out.end(), [&](const CombinedLossTerm& c) { return c.name == t.name; });
      if (it == out.end()) {
        out.push_back({t.name, t.sum, t.weight});
        counts.push_back(t.count);
      } else {
        it->value = add(it->value, t.sum);
        counts[static_cast<size_t>(it - out.begin())] += t.count;
      }
    }
  for (size_t i = 0; i < out.size(); ++i)
    if (counts[i] > 0) out[i].value = mul(out[i].value, 1.0 / static_cast<double>(counts[i]));
  return out;
}

void AttentionProbe::record_maps(bool on) {
  record_maps_ = on;
  maps_.clear();
}

void AttentionProbe::record(std::string title, const Tensor& value, std::string panel, bool diverging) {
  maps_.push_back({std::move(title), value.detach(), std::move(panel), diverging});
}

void AttentionProbe::set_fixed_noise(Tensor eps) {
  if (eps.defined() && noise_heads_ == 0) throw std::logic_error("set_fixed_noise: this attention has no score noise");
  fixed_noise_ = std::move(eps);
}

void LayerCache::append(const std::vector<Tensor>& items, int64_t position) {
  NoGradGuard ng;
  if (len == capacity()) {  // grow: double the buffers (16 entries first, then ×2)
    const int64_t cap = std::max<int64_t>(16, 2 * capacity());
    for (size_t i = 0; i < items.size(); ++i) {
      Shape s = items[i].shape();
      s[2] = cap;
      Tensor nb = zeros(s, items[i].dtype(), items[i].device());
      if (i < bufs.size() && len > 0) nb.narrow(2, 0, len).copy_(view(i));
      if (i < bufs.size()) bufs[i] = nb;
      else bufs.push_back(nb);
    }
    if (f.defined()) {
      Tensor nf_ = zeros({f.size(0), cap}, f.dtype(), f.device());
      if (len > 0) nf_.narrow(1, 0, len).copy_(f.narrow(1, 0, len));
      f = nf_;
    }
  }
  bytes_per_entry = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    bufs[i].narrow(2, len, 1).copy_(items[i]);
    bytes_per_entry += items[i].size(1) * items[i].size(3) * static_cast<int64_t>(dtype_size(items[i].dtype()));
  }
  if (f.defined()) f.narrow(1, len, 1).fill_(0.0);
  pos.push_back(position);
  ++len;
  peak = std::max(peak, len);
}

void LayerCache::evict(int64_t e) {
  NoGradGuard ng;
  const int64_t last = len - 1;
  if (e != last) {
    for (size_t i = 0; i < bufs.size(); ++i) bufs[i].narrow(2, e, 1).copy_(bufs[i].narrow(2, last, 1).clone());
    if (f.defined()) f.narrow(1, e, 1).copy_(f.narrow(1, last, 1).clone());
    pos[e] = pos[last];
  }
  pos.pop_back();
  --len;
}

void Attention::make_room(LayerCache& cache) const {
  if (cache.budget <= 0 || cache.len < cache.budget) return;
  const int64_t e = eviction_choice(cache);
  if (e >= 0) cache.evict(e);
}

int64_t Attention::eviction_choice(const LayerCache& cache) const {
  int64_t oldest = -1;
  for (int64_t e = 0; e < cache.len; ++e)
    if (cache.pos[e] != 0 && (oldest < 0 || cache.pos[e] < cache.pos[oldest])) oldest = e;
  return oldest;
}

double max_abs_value(const Tensor& x) {
  double m = 0;
  for (double v : x.to_vector<double>()) m = std::max(m, std::fabs(v));
  return m;
}

double max_abs_causal(const Tensor& logits) {
  const int64_t Tq = logits.size(-2), Tk = logits.size(-1);
  const std::vector<double> v = logits.to_vector<double>();
  double m = 0;
  for (size_t off = 0; off < v.size(); off += static_cast<size_t>(Tq * Tk))
    for (int64_t i = 0; i < Tq; ++i)
      for (int64_t j = 0; j <= std::min(i + Tk - Tq, Tk - 1); ++j) m = std::max(m, std::fabs(v[off + i * Tk + j]));
  return m;
}

Tensor split_heads(const Tensor& x, int64_t H) {
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  return x.view({B, T, H, C / H}).transpose(1, 2);
}

Tensor merge_heads(const Tensor& x) {
  const int64_t B = x.size(0), H = x.size(1), T = x.size(2), d = x.size(3);
  return x.transpose(1, 2).reshape({B, T, H * d});
}

}  // namespace nf
