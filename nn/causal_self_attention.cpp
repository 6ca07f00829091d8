#include "nn/causal_self_attention.h"

#include <cmath>
#include <numeric>

#include "autograd/node.h"
#include "nn/attention_noise.h"
#include "nn/selective.h"

namespace nf {

CausalSelfAttention::CausalSelfAttention(const AttentionConfig& cfg, int64_t /*layer*/, Generator& gen) : cfg_(cfg) {
  const int64_t C = cfg.n_embd;
  H_ = cfg.n_head;
  d_ = C / H_;
  scale_ = 1.0 / std::sqrt(static_cast<double>(d_));
  noise_ = is_noise(cfg.attention);
  shared_qk_ = cfg.attention == "symmetric" || noise_;
  per_head_noise_ = cfg.attention == "noise-v2";
  relpos_ = noise_ && cfg.noise_mean == "relpos";
  selective_ = cfg.attention == "selective";

  // c_attn: C -> 3C as (q, k, v), or C -> 2C as (q, v) when K := Q.
  c_attn = register_module("c_attn", std::make_shared<Linear>(C, (shared_qk_ ? 2 : 3) * C, cfg.bias, gen));
  c_proj = register_module("c_proj", std::make_shared<Linear>(C, C, cfg.bias, gen, 0.02 / std::sqrt(2.0 * cfg.n_layer)));
  attn_drop = register_module("attn_drop", std::make_shared<Dropout>(cfg.dropout));
  resid_drop = register_module("resid_drop", std::make_shared<Dropout>(cfg.dropout));
  if (cfg.attention == "symmetric" && cfg.pairwise) pairwise_c = register_parameter("pairwise_c", ones({H_, d_}));
  if (noise_) {
    // μ = 0, log σ² = 0: the noise starts exactly at its N(0, 1) prior (KL = 0).
    // Shapes as interfaces.md fixes them for checkpoints: v1 [1] (relpos [block]), v2 [H]
    // (relpos [H, block]). (v1 relpos used to be [1, block]; noise_term views it as (1, block).)
    Shape s = per_head_noise_ ? Shape{H_} : Shape{1};
    if (relpos_) s = per_head_noise_ ? Shape{H_, cfg.block_size} : Shape{cfg.block_size};
    noise_mu = register_parameter("noise_mu", zeros(s));
    noise_logvar = register_parameter("noise_logvar", zeros(s));
  }
}

void CausalSelfAttention::project(const Tensor& x, Tensor& q, Tensor& k, Tensor& v) const {
  const int64_t C = cfg_.n_embd;
  std::vector<Tensor> parts = split(c_attn->forward(x), C, 2);  // views of (B, T, 2C|3C)
  q = split_heads(parts[0], H_);
  k = shared_qk_ ? q : split_heads(parts[1], H_);
  v = split_heads(parts.back(), H_);
}

// N for score shape (B, Hn, Tq, Tk), queries at q_pos and keys at k_pos: μ + σ ε in training
// (or noise_at_eval=sample), μ otherwise. Only relpos needs the (Tq, Tk) table of distances.
Tensor CausalSelfAttention::noise_term(int64_t B, const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos,
                                       Generator& gen) const {
  const Tensor dist = relpos_ ? causal_distances(q_pos, k_pos) : Tensor();
  Tensor mu = relpos_ ? noise_mu.view({-1, cfg_.block_size}) : noise_mu;
  Tensor mean_ = expand_noise_param(mu, dist, relpos_);
  if (!is_training() && cfg_.noise_at_eval == "mean") return mean_;
  Tensor lv = relpos_ ? noise_logvar.view({-1, cfg_.block_size}) : noise_logvar;
  Tensor sigma = exp(mul(expand_noise_param(lv, dist, relpos_), 0.5));
  const int64_t Hn = per_head_noise_ ? H_ : 1;
  Tensor eps = fixed_eps.defined() ? fixed_eps : randn({B, Hn, static_cast<int64_t>(q_pos.size()), static_cast<int64_t>(k_pos.size())}, gen, mu.dtype());
  return add(mean_, mul(sigma, eps));
}

Tensor CausalSelfAttention::forward(const Tensor& x, Generator& gen) {
  const int64_t B = x.size(0), T = x.size(1);
  Tensor q, k, v;
  project(x, q, k, v);
  Tensor qs = pairwise_c.defined() ? mul(q, pairwise_c.view({1, H_, 1, d_})) : q;
  Tensor scores = matmul(qs, k.transpose(-1, -2));  // (B, H, T, T), unscaled
  Tensor att;
  if (noise_) {
    std::vector<int64_t> p(T);
    std::iota(p.begin(), p.end(), 0);
    Tensor logits = add(mul(scores, scale_), noise_term(B, p, p, gen));
    att = causal_softmax(logits, 1.0);
  } else if (selective_) {
    Tensor logits = mul(scores, scale_);
    Tensor F = selective_mask(logits.select(1, 0));  // (B, T, T) from head 0
    if (cfg_.selective_mem_weight > 0 && is_training()) mem_loss_ = selective_mem_term(F);
    att = causal_softmax(sub(logits, F.unsqueeze(1)), 1.0);
    if (track_maps) last_F = F.detach();
  } else {
    att = causal_softmax(scores, scale_);
  }
  if (track_max_logit) last_max_logit = scale_ * max_abs_value(scores);
  if (track_maps) last_att = att.detach();
  Tensor y = matmul(attn_drop->forward(att, gen), v);  // (B, H, T, d)
  return resid_drop->forward(c_proj->forward(merge_heads(y)), gen);
}

Tensor CausalSelfAttention::forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) {
  const int64_t B = x.size(0);
  Tensor q, k, v;
  project(x, q, k, v);  // (B, H, 1, d)
  if (selective_) {
    if (!cache.f.defined()) cache.f = zeros({B, 0}, x.dtype());
    // Keep within budget: drop the most-masked key (never the first token) before adding one.
    if (cache.budget > 0 && cache.len >= cache.budget) {
      std::vector<double> f = cache.f.narrow(1, 0, cache.len).select(0, 0).to_vector<double>();
      int64_t worst = -1;
      for (int64_t e = 0; e < cache.len; ++e)
        if (cache.pos[e] != 0 && (worst < 0 || f[e] > f[worst])) worst = e;
      if (worst >= 0) cache.evict(worst);
    }
  }
  cache.bytes_per_entry = 2 * H_ * d_ * static_cast<int64_t>(dtype_size(x.dtype()));
  cache.append({k, v}, pos);
  Tensor K = cache.view(0), V = cache.view(1);  // (B, H, len, d)
  Tensor qs = pairwise_c.defined() ? mul(q, pairwise_c.view({1, H_, 1, d_})) : q;
  Tensor scores = matmul(qs, K.transpose(-1, -2));  // (B, H, 1, len)
  Tensor logits = mul(scores, scale_);
  if (noise_) logits = add(logits, noise_term(B, {pos}, cache.pos, gen));
  if (selective_) {
    Tensor f = cache.f.narrow(1, 0, cache.len);  // (B, len)
    logits = sub(logits, f.view({B, 1, 1, cache.len}));
    // After this step, every older key j (0 < pos_j < pos) is masked by ReLU(head-0 logit).
    std::vector<double> gate(cache.len);
    for (int64_t e = 0; e < cache.len; ++e) gate[e] = cache.pos[e] > 0 && cache.pos[e] < pos ? 1.0 : 0.0;
    Tensor S = mul(relu(mul(scores.select(1, 0).select(1, 0), scale_)), from_vector(gate, {cache.len}).to(x.dtype()));
    NoGradGuard ng;
    f.copy_(add(f, S));
  }
  Tensor att = softmax(logits, -1);  // every cached key is at or before pos: no mask needed
  Tensor y = matmul(att, V);         // (B, H, 1, d)
  return c_proj->forward(merge_heads(y));
}

Tensor CausalSelfAttention::kl_sum() const {
  if (!noise_) return Tensor();
  return gaussian_kl_sum(noise_mu, noise_logvar);
}

int64_t CausalSelfAttention::kl_count() const { return noise_ ? noise_mu.numel() : 0; }

}  // namespace nf
