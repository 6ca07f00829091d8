#include "nn/attention.h"

#include <cmath>

#include "autograd/node.h"
#include "nn/causal_self_attention.h"
#include "nn/diff_attention.h"

namespace nf {

void LayerCache::append(const std::vector<Tensor>& items, int64_t position) {
  NoGradGuard ng;
  if (len == capacity()) {  // grow: double the buffers (16 entries first, then ×2)
    const int64_t cap = std::max<int64_t>(16, 2 * capacity());
    for (size_t i = 0; i < items.size(); ++i) {
      Shape s = items[i].shape();
      s[2] = cap;
      Tensor nb = zeros(s, items[i].dtype());
      if (i < bufs.size() && len > 0) nb.narrow(2, 0, len).copy_(view(i));
      if (i < bufs.size()) bufs[i] = nb;
      else bufs.push_back(nb);
    }
    if (f.defined()) {
      Tensor nf_ = zeros({f.size(0), cap}, f.dtype());
      if (len > 0) nf_.narrow(1, 0, len).copy_(f.narrow(1, 0, len));
      f = nf_;
    }
  }
  for (size_t i = 0; i < items.size(); ++i) bufs[i].narrow(2, len, 1).copy_(items[i]);
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

double max_abs_value(const Tensor& x) {
  double m = 0;
  for (double v : x.to_vector<double>()) m = std::max(m, std::fabs(v));
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

std::shared_ptr<Attention> make_attention(const AttentionConfig& cfg, int64_t layer, Generator& gen) {
  if (is_diff(cfg.attention)) return std::make_shared<DiffAttention>(cfg, layer, gen);
  return std::make_shared<CausalSelfAttention>(cfg, layer, gen);
}

}  // namespace nf
