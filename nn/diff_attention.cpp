#include "nn/diff_attention.h"

#include <cmath>

namespace nf {

DiffAttention::DiffAttention(const AttentionConfig& cfg, int64_t layer, Generator& gen) : cfg_(cfg) {
  const int64_t C = cfg.n_embd;
  h_ = cfg.n_head / 2;
  d_ = C / cfg.n_head;
  scale_ = 1.0 / std::sqrt(static_cast<double>(d_));
  shared_ = cfg.attention == "shared-diff";
  lambda_init = 0.8 - 0.6 * std::exp(-0.3 * static_cast<double>(layer));  // layer is 0-based: l−1

  // diff: (q, k, v) each C wide. shared-diff: (q_base C/2, k_base C/2, v C).
  c_attn = register_module("c_attn", std::make_shared<Linear>(C, shared_ ? 2 * C : 3 * C, cfg.bias, gen));
  c_proj = register_module("c_proj", std::make_shared<Linear>(C, C, cfg.bias, gen, 0.02 / std::sqrt(2.0 * cfg.n_layer)));
  if (shared_) {
    const int64_t r = cfg.lowrank, half = C / 2;
    auto lr = [&](const char* name, int64_t in, int64_t out) {
      return register_module(name, std::make_shared<Linear>(in, out, /*bias=*/false, gen, 0.02));
    };
    q1_down = lr("q1_down", C, r); q1_up = lr("q1_up", r, half);
    q2_down = lr("q2_down", C, r); q2_up = lr("q2_up", r, half);
    k1_down = lr("k1_down", C, r); k1_up = lr("k1_up", r, half);
    k2_down = lr("k2_down", C, r); k2_up = lr("k2_up", r, half);
  }
  auto lam = [&](const char* name) { return register_parameter(name, mul(randn({d_}, gen), 0.1)); };
  lambda_q1 = lam("lambda_q1");
  lambda_k1 = lam("lambda_k1");
  lambda_q2 = lam("lambda_q2");
  lambda_k2 = lam("lambda_k2");
  subln = register_module("subln", std::make_shared<RMSNorm>(2 * d_, 1e-5));
  attn_drop = register_module("attn_drop", std::make_shared<Dropout>(cfg.dropout));
  resid_drop = register_module("resid_drop", std::make_shared<Dropout>(cfg.dropout));
}

Tensor DiffAttention::lambda() const {
  return add(sub(exp(sum(mul(lambda_q1, lambda_k1))), exp(sum(mul(lambda_q2, lambda_k2)))), lambda_init);
}

void DiffAttention::project(const Tensor& x, Tensor& q1, Tensor& k1, Tensor& q2, Tensor& k2, Tensor& v) const {
  const int64_t B = x.size(0), T = x.size(1), C = cfg_.n_embd;
  Tensor qkv = c_attn->forward(x);
  if (!shared_) {
    std::vector<Tensor> p = split(qkv, C, 2);
    // (B, T, C) -> (B, T, h, 2, d): branch b of head i is sub-head 2i+b.
    Tensor q = p[0].view({B, T, h_, 2, d_}), k = p[1].view({B, T, h_, 2, d_});
    q1 = q.select(3, 0).transpose(1, 2);
    q2 = q.select(3, 1).transpose(1, 2);
    k1 = k.select(3, 0).transpose(1, 2);
    k2 = k.select(3, 1).transpose(1, 2);
    v = split_heads(p[2], h_);
  } else {
    std::vector<Tensor> p = split(qkv, {C / 2, C / 2, C}, 2);
    // X (W + A B) = X W + (X A) B: the rank-r update never forms the C×C/2 matrix.
    auto branch = [&](const Tensor& base, const std::shared_ptr<Linear>& down, const std::shared_ptr<Linear>& up) {
      return split_heads(add(base, up->forward(down->forward(x))), h_);
    };
    q1 = branch(p[0], q1_down, q1_up);
    q2 = branch(p[0], q2_down, q2_up);
    k1 = branch(p[1], k1_down, k1_up);
    k2 = branch(p[1], k2_down, k2_up);
    v = split_heads(p[2], h_);
  }
}

Tensor DiffAttention::combine(const Tensor& a1, const Tensor& a2, const Tensor& v, Generator& gen) {
  if (track_maps) {
    last_a1 = a1.detach();
    last_a2 = a2.detach();
  }
  Tensor P = sub(a1, mul(a2, lambda()));               // A1 − λ A2
  if (track_maps) last_p = P.detach();
  Tensor o = matmul(attn_drop->forward(P, gen), v);    // (B, h, Tq, 2d)
  Tensor y = mul(subln->forward(o), 1.0 - lambda_init);
  return resid_drop->forward(c_proj->forward(merge_heads(y)), gen);
}

Tensor DiffAttention::forward(const Tensor& x, Generator& gen) {
  Tensor q1, k1, q2, k2, v;
  project(x, q1, k1, q2, k2, v);
  Tensor s1 = matmul(q1, k1.transpose(-1, -2)), s2 = matmul(q2, k2.transpose(-1, -2));
  if (track_max_logit) last_max_logit = scale_ * std::max(max_abs_value(s1), max_abs_value(s2));
  return combine(causal_softmax(s1, scale_), causal_softmax(s2, scale_), v, gen);
}

Tensor DiffAttention::forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) {
  Tensor q1, k1, q2, k2, v;
  project(x, q1, k1, q2, k2, v);  // (B, h, 1, d), v (B, h, 1, 2d)
  cache.bytes_per_entry = (2 * h_ * d_ + h_ * 2 * d_) * static_cast<int64_t>(dtype_size(x.dtype()));
  cache.append({k1, k2, v}, pos);
  Tensor a1 = softmax(mul(matmul(q1, cache.view(0).transpose(-1, -2)), scale_), -1);
  Tensor a2 = softmax(mul(matmul(q2, cache.view(1).transpose(-1, -2)), scale_), -1);
  return combine(a1, a2, cache.view(2), gen);
}

}  // namespace nf
