#include "nn/noise_attention.h"

#include <algorithm>
#include <cmath>

namespace nf {

NoiseAttention::NoiseAttention(const AttentionConfig& cfg, bool per_head, Generator& gen)
    : BaseAttention(cfg, Keys::SameAsQueries, gen), Hn_(per_head ? cfg.n_head : 1), relpos_(cfg.noise_mean == "relpos") {
  // μ = 0, log σ² = 0: the noise starts exactly at its N(0, 1) prior (KL = 0).
  const Shape s = relpos_ ? (per_head ? Shape{Hn_, cfg.block_size} : Shape{cfg.block_size}) : Shape{Hn_};
  noise_mu = register_parameter("noise_mu", zeros(s));
  noise_logvar = register_parameter("noise_logvar", zeros(s));
  probe_.set_noise_heads(Hn_);
}

int64_t NoiseAttention::parameter_count(const AttentionConfig& cfg, bool per_head) {
  const int64_t entries = (per_head ? cfg.n_head : 1) * (cfg.noise_mean == "relpos" ? cfg.block_size : 1);
  return projection_parameter_count(cfg, 2 * cfg.n_embd) + 2 * entries;  // μ and log σ²
}

std::vector<LossTerm> NoiseAttention::loss_terms() const {
  ModuleScope scope(this);  // the KL term is this layer's op, though the model asks for it
  return {{"kl", gaussian_kl_sum(noise_mu, noise_logvar), noise_mu.numel(), cfg_.kl_weight}};
}

// μ + σ ε in training (or noise_at_eval=sample), μ otherwise. Only relpos needs the (Tq, Tk)
// table of distances; it views its tables as (Hn, block) to gather them.
Tensor NoiseAttention::noise(int64_t B, const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos,
                             Generator& gen) const {
  const Tensor dist = relpos_ ? causal_distances(q_pos, k_pos).to(noise_mu.device()) : Tensor();
  Tensor mu = relpos_ ? noise_mu.view({-1, cfg_.block_size}) : noise_mu;
  Tensor mean_term = expand_noise_param(mu, dist, relpos_);
  if (!is_training() && cfg_.noise_at_eval == "mean") return mean_term;
  Tensor lv = relpos_ ? noise_logvar.view({-1, cfg_.block_size}) : noise_logvar;
  Tensor sigma = exp(mul(expand_noise_param(lv, dist, relpos_), 0.5));
  const Tensor& fixed = probe_.fixed_noise();
  Tensor eps = fixed.defined() ? fixed
                               : randn({B, Hn_, static_cast<int64_t>(q_pos.size()), static_cast<int64_t>(k_pos.size())},
                                       gen, mu.dtype(), mu.device());
  return add(mean_term, mul(sigma, eps));
}

Tensor NoiseAttention::probabilities(const Tensor& scores, Generator& gen) {
  const std::vector<int64_t> p = positions(scores.size(-1));
  Tensor logits = add(mul(scores, scale_), noise(scores.size(0), p, p, gen));  // s·Q Qᵀ + N
  logits = add_pos_bias(logits, p);  // − m_h(i − j) with pos_bias alibi, after the noise
  track_logits(logits);
  Tensor att = causal_softmax(logits, 1.0);
  record_probabilities(att);
  return att;
}

Tensor NoiseAttention::step_logits(const Tensor& scores, int64_t pos, LayerCache& cache, Generator& gen) {
  Tensor logits = BaseAttention::step_logits(scores, pos, cache, gen);
  return add(logits, noise(scores.size(0), {pos}, cache.pos, gen));
}

namespace {
// [Hn] or [Hn·block] values -> Hn means (f applied first).
std::vector<double> per_map(const Tensor& param, int64_t Hn, double (*f)(double)) {
  const std::vector<double> v = param.to_vector<double>();
  const size_t per = v.size() / static_cast<size_t>(Hn);
  std::vector<double> out(static_cast<size_t>(Hn), 0.0);
  for (size_t i = 0; i < v.size(); ++i) out[i / per] += f(v[i]) / static_cast<double>(per);
  return out;
}
}  // namespace

std::vector<double> NoiseAttention::mu_per_map() const {
  return per_map(noise_mu, Hn_, [](double m) { return m; });
}

std::vector<double> NoiseAttention::sigma_per_map() const {
  return per_map(noise_logvar, Hn_, [](double lv) { return std::exp(0.5 * lv); });
}

Tensor expand_noise_param(const Tensor& param, const Tensor& dist, bool relpos) {
  const int64_t Hn = param.size(0);
  if (!relpos) return param.view({1, Hn, 1, 1});
  // table (block, Hn) gathered at dist (Tq, Tk) -> (Tq, Tk, Hn) -> (1, Hn, Tq, Tk)
  Tensor table = param.t();
  return embedding(table, dist).permute({2, 0, 1}).unsqueeze(0);
}

Tensor causal_distances(const std::vector<int64_t>& q_pos, const std::vector<int64_t>& k_pos) {
  const int64_t Tq = static_cast<int64_t>(q_pos.size()), Tk = static_cast<int64_t>(k_pos.size());
  std::vector<int64_t> d(Tq * Tk);
  for (int64_t i = 0; i < Tq; ++i)
    for (int64_t j = 0; j < Tk; ++j) d[i * Tk + j] = std::max<int64_t>(q_pos[i] - k_pos[j], 0);
  return from_vector(d, {Tq, Tk});
}

Tensor gaussian_kl_sum(const Tensor& mu, const Tensor& logvar) {
  // ½ Σ (μ² + e^{log σ²} − log σ² − 1)
  return mul(sum(sub(add(mul(mu, mu), exp(logvar)), add(logvar, 1.0))), 0.5);
}

}  // namespace nf
