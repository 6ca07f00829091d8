#include "nn/diff_attention.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace nf {

DiffAttention::DiffAttention(const AttentionConfig& cfg, int64_t layer, bool shared_base, Generator& gen)
    // diff: (q, k, v) each C wide. shared-diff: (q_base C/2, k_base C/2, v C).
    : MultiHeadAttention(cfg, (shared_base ? 2 : 3) * cfg.n_embd, gen), h_(cfg.n_head / 2), shared_(shared_base) {
  const int64_t C = cfg.n_embd;
  lambda_init = 0.8 - 0.6 * std::exp(-0.3 * static_cast<double>(layer));  // layer is 0-based: l−1
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
  add_dropouts();
}

int64_t DiffAttention::parameter_count(const AttentionConfig& cfg, bool shared_base) {
  const int64_t C = cfg.n_embd, d = C / cfg.n_head, r = cfg.lowrank;
  const int64_t lowrank = shared_base ? 4 * (C * r + r * C / 2) : 0;  // four rank-r updates C -> C/2
  return projection_parameter_count(cfg, (shared_base ? 2 : 3) * C) + lowrank + 4 * d + 2 * d;  // λ vectors + subln gain
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
  const Tensor lam = lambda();
  Tensor P = sub(a1, mul(a2, lam));                    // A1 − λ A2
  if (probe_.recording_maps()) {
    char title[64];
    std::snprintf(title, sizeof title, "A1 - lambda A2  (lambda = %.3f)", lam.item());
    probe_.record("A1 = softmax(Q1 K1)", a1);
    probe_.record("A2 = softmax(Q2 K2)", a2);
    probe_.record(title, P, "", /*diverging=*/true);
  }
  Tensor o = matmul(attn_drop->forward(P, gen), v);    // (B, h, Tq, 2d)
  Tensor y = mul(subln->forward(o), 1.0 - lambda_init);
  return output(y, gen);
}

Tensor DiffAttention::forward(const Tensor& x, Generator& gen) {
  ModuleScope scope(this);
  Tensor q1, k1, q2, k2, v;
  project(x, q1, k1, q2, k2, v);
  Tensor s1 = matmul(q1, k1.transpose(-1, -2)), s2 = matmul(q2, k2.transpose(-1, -2));
  if (probe_.tracking_max_logit())
    probe_.set_max_logit(std::max(max_abs_causal(mul(s1, scale_)), max_abs_causal(mul(s2, scale_))));
  return combine(causal_softmax(s1, scale_), causal_softmax(s2, scale_), v, gen);
}

Tensor DiffAttention::forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) {
  ModuleScope scope(this);
  Tensor q1, k1, q2, k2, v;
  project(x, q1, k1, q2, k2, v);  // (B, h, 1, d), v (B, h, 1, 2d)
  make_room(cache);
  cache.append({k1, k2, v}, pos);
  Tensor a1 = softmax(mul(matmul(q1, cache.view(0).transpose(-1, -2)), scale_), -1);
  Tensor a2 = softmax(mul(matmul(q2, cache.view(1).transpose(-1, -2)), scale_), -1);
  return combine(a1, a2, cache.view(2), gen);
}

}  // namespace nf
