// ALiBi (nn/alibi.h, pos_bias = "alibi"): the slopes and the bias by formula, which variants take
// it, and the attention layer with it against an independent float64 reference written as plain
// loops — the forward output and every gradient (derived by hand below), for base attention and
// for noise-v2 (symmetric scores, per-head noise, the bias added after the noise). KV-cache
// decoding with ALiBi against the full forward: tests/models/test_gpt.cpp; the float64 gradient
// checks: models/gradchecks.cpp.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/gpt.h"
#include "nn/alibi.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

// Attention with ALiBi, written out: one loop per sum, no tensors. Every array is row-major.
struct Reference {
  int64_t B = 0, T = 0, C = 0, H = 0;
  bool keys_are_queries = false;  // symmetric scores, K := Q
  bool noise = false;             // per-head noise N = μ_h + σ_h ε[b, h, i, j] (noise-v2)
  std::vector<double> x, Wa, ba, Wp, bp, mu, logvar, eps, w;  // w: the loss weights, L = Σ w ⊙ y

  // Outputs: y, L, and the gradients of L.
  std::vector<double> y, dx, dWa, dba, dWp, dbp, dmu, dlogvar;
  double loss = 0;

  void run() {
    const int64_t d = C / H, parts = keys_are_queries ? 2 : 3, Q = parts * C;
    const double s = 1.0 / std::sqrt(static_cast<double>(d));
    auto X = [&](int64_t b, int64_t t, int64_t c) { return x[(b * T + t) * C + c]; };
    // qkv = x Waᵀ + ba (B, T, parts·C): q at column 0, k at C (or q again), v at (parts−1)·C.
    std::vector<double> qkv(B * T * Q);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t o = 0; o < Q; ++o) {
          double a = ba[o];
          for (int64_t c = 0; c < C; ++c) a += Wa[o * C + c] * X(b, t, c);
          qkv[(b * T + t) * Q + o] = a;
        }
    const int64_t k_off = keys_are_queries ? 0 : C, v_off = (parts - 1) * C;
    auto at = [&](int64_t b, int64_t t, int64_t col) { return qkv[(b * T + t) * Q + col]; };
    std::vector<double> P(B * H * T * T, 0.0), o(B * T * C, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h) {
        const double m = std::exp2(-8.0 * static_cast<double>(h + 1) / static_cast<double>(H));
        for (int64_t i = 0; i < T; ++i) {
          std::vector<double> z(i + 1);
          double zmax = -INFINITY;
          for (int64_t j = 0; j <= i; ++j) {
            double dot = 0;
            for (int64_t e = 0; e < d; ++e) dot += at(b, i, h * d + e) * at(b, j, k_off + h * d + e);
            z[j] = s * dot - m * static_cast<double>(i - j);
            if (noise) z[j] += mu[h] + std::exp(0.5 * logvar[h]) * eps[((b * H + h) * T + i) * T + j];
            zmax = std::max(zmax, z[j]);
          }
          double sum = 0;
          for (int64_t j = 0; j <= i; ++j) sum += std::exp(z[j] - zmax);
          for (int64_t j = 0; j <= i; ++j) P[((b * H + h) * T + i) * T + j] = std::exp(z[j] - zmax) / sum;
          for (int64_t e = 0; e < d; ++e) {
            double a = 0;
            for (int64_t j = 0; j <= i; ++j) a += P[((b * H + h) * T + i) * T + j] * at(b, j, v_off + h * d + e);
            o[(b * T + i) * C + h * d + e] = a;
          }
        }
      }
    y.assign(B * T * C, 0.0);
    loss = 0;
    for (int64_t bt = 0; bt < B * T; ++bt)
      for (int64_t c = 0; c < C; ++c) {
        double a = bp[c];
        for (int64_t k = 0; k < C; ++k) a += Wp[c * C + k] * o[bt * C + k];
        y[bt * C + c] = a;
        loss += w[bt * C + c] * a;
      }

    // Backward. dL/dy = w.
    dbp.assign(C, 0.0);
    dWp.assign(C * C, 0.0);
    std::vector<double> dout(B * T * C, 0.0);
    for (int64_t bt = 0; bt < B * T; ++bt)
      for (int64_t c = 0; c < C; ++c) {
        dbp[c] += w[bt * C + c];
        for (int64_t k = 0; k < C; ++k) {
          dWp[c * C + k] += w[bt * C + c] * o[bt * C + k];
          dout[bt * C + k] += w[bt * C + c] * Wp[c * C + k];
        }
      }
    std::vector<double> dqkv(B * T * Q, 0.0);
    auto dat = [&](int64_t b, int64_t t, int64_t col) -> double& { return dqkv[(b * T + t) * Q + col]; };
    dmu.assign(H, 0.0);
    dlogvar.assign(H, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < T; ++i) {
          const double* p = &P[((b * H + h) * T + i) * T];
          // dP[j] = dout_i · v_j; dv_j += P[j] dout_i; dZ[j] = P[j] (dP[j] − Σ_k P[k] dP[k]).
          std::vector<double> dP(i + 1);
          double pdp = 0;
          for (int64_t j = 0; j <= i; ++j) {
            double a = 0;
            for (int64_t e = 0; e < d; ++e) {
              a += dout[(b * T + i) * C + h * d + e] * at(b, j, v_off + h * d + e);
              dat(b, j, v_off + h * d + e) += p[j] * dout[(b * T + i) * C + h * d + e];
            }
            dP[j] = a;
            pdp += p[j] * a;
          }
          for (int64_t j = 0; j <= i; ++j) {
            const double dz = p[j] * (dP[j] - pdp);
            // z = s q_i·k_j (+ μ + σ ε) − m(i − j): the bias is a constant.
            for (int64_t e = 0; e < d; ++e) {
              dat(b, i, h * d + e) += s * dz * at(b, j, k_off + h * d + e);
              dat(b, j, k_off + h * d + e) += s * dz * at(b, i, h * d + e);
            }
            if (noise) {
              dmu[h] += dz;
              dlogvar[h] += dz * 0.5 * std::exp(0.5 * logvar[h]) * eps[((b * H + h) * T + i) * T + j];
            }
          }
        }
    dba.assign(Q, 0.0);
    dWa.assign(Q * C, 0.0);
    dx.assign(B * T * C, 0.0);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < T; ++t)
        for (int64_t oi = 0; oi < Q; ++oi) {
          const double g = dqkv[(b * T + t) * Q + oi];
          dba[oi] += g;
          for (int64_t c = 0; c < C; ++c) {
            dWa[oi * C + c] += g * X(b, t, c);
            dx[(b * T + t) * C + c] += g * Wa[oi * C + c];
          }
        }
  }
};

// The largest |got − want| / (1 + |want|).
double worst(const std::vector<double>& got, const std::vector<double>& want) { return worst_error(got, want); }

// The layer `attention` with ALiBi against the reference: output, loss and every gradient.
void check_against_reference(const std::string& attention) {
  CAPTURE(attention);
  GPTConfig cfg = tiny_gpt(attention, /*n_embd=*/8, /*block_size=*/6, /*n_head=*/2);
  cfg.pos_bias = "alibi";
  Generator g(3);
  std::shared_ptr<Attention> attn = make_attention(cfg, 0, g);
  attn->to(DType::F64);
  const bool noise = attn->probe().noise_heads() > 0;
  const int64_t B = 2, T = 5, C = cfg.n_embd, H = cfg.n_head;
  std::map<std::string, Tensor> p;
  {
    NoGradGuard ng;
    Generator r(4);
    for (auto& [n, t] : attn->named_parameters()) {
      t.copy_(mul(randn(t.shape(), r, DType::F64), 0.5));  // weights large enough for sharp attention
      p[n] = t;
    }
  }
  Reference ref;
  ref.B = B;
  ref.T = T;
  ref.C = C;
  ref.H = H;
  ref.keys_are_queries = noise;  // noise-v2's scores are symmetric
  ref.noise = noise;
  Tensor x = leaf({B, T, C}, 5, DType::F64, 2.0), w = leaf({B, T, C}, 6, DType::F64);
  ref.x = values(x);
  ref.w = values(w);
  ref.Wa = values(p.at("c_attn.weight"));
  ref.ba = values(p.at("c_attn.bias"));
  ref.Wp = values(p.at("c_proj.weight"));
  ref.bp = values(p.at("c_proj.bias"));
  if (noise) {
    Generator e(7);
    Tensor eps = randn({B, H, T, T}, e, DType::F64);
    attn->probe().set_fixed_noise(eps);
    ref.eps = values(eps);
    ref.mu = values(p.at("noise_mu"));
    ref.logvar = values(p.at("noise_logvar"));
  }
  ref.run();

  Generator d(0);
  Tensor y = attn->forward(x, d);
  Tensor loss = sum(mul(y, w.detach()));
  loss.backward();
  CHECK(worst(values(y), ref.y) < 1e-12);
  CHECK(loss.item() == doctest::Approx(ref.loss).epsilon(1e-12));
  CHECK(worst(values(x.grad()), ref.dx) < 1e-12);
  CHECK(worst(values(p.at("c_attn.weight").grad()), ref.dWa) < 1e-12);
  CHECK(worst(values(p.at("c_attn.bias").grad()), ref.dba) < 1e-12);
  CHECK(worst(values(p.at("c_proj.weight").grad()), ref.dWp) < 1e-12);
  CHECK(worst(values(p.at("c_proj.bias").grad()), ref.dbp) < 1e-12);
  if (noise) {
    CHECK(worst(values(p.at("noise_mu").grad()), ref.dmu) < 1e-12);
    CHECK(worst(values(p.at("noise_logvar").grad()), ref.dlogvar) < 1e-12);
  }
  // The comparison is not trivially satisfied: without the bias the same layer's output is another.
  cfg.pos_bias = "none";
  Generator g2(3);
  std::shared_ptr<Attention> none = make_attention(cfg, 0, g2);
  none->to(DType::F64);
  {
    NoGradGuard ng;
    for (auto& [n, t] : none->named_parameters()) t.copy_(p.at(n));
  }
  if (noise) none->probe().set_fixed_noise(attn->probe().fixed_noise());
  Generator d2(0);
  CHECK(worst(values(none->forward(x.detach(), d2)), ref.y) > 1e-3);
}

}  // namespace

TEST_SUITE("nn") {
  TEST_CASE("ALiBi slopes: m_h = 2^(-8(h+1)/H), from 2^(-8/H) down to 2^(-8)") {
    CHECK(alibi_slopes(4) == std::vector<double>{0.25, 0.0625, 0.015625, 0.00390625});
    const std::vector<double> m8 = alibi_slopes(8);
    REQUIRE(m8.size() == 8);
    for (int h = 0; h < 8; ++h) CHECK(m8[h] == std::ldexp(1.0, -(h + 1)));
    const std::vector<double> m6 = alibi_slopes(6);  // not a power of two: the same formula
    CHECK(m6[0] == doctest::Approx(std::pow(2.0, -8.0 / 6)).epsilon(1e-15));
    CHECK(m6[5] == 1.0 / 256);
  }

  TEST_CASE("ALiBi bias: -m_h(i - j) for keys j <= i, 0 for future keys; decode positions in any order") {
    Tensor b = alibi_bias(2, {0, 1, 2}, {0, 1, 2}, DType::F64);  // m = 1/16, 1/256
    CHECK(b.shape() == Shape{1, 2, 3, 3});
    CHECK(values(b) == std::vector<double>{0, 0, 0, -1.0 / 16, 0, 0, -2.0 / 16, -1.0 / 16, 0,  //
                                           0, 0, 0, -1.0 / 256, 0, 0, -2.0 / 256, -1.0 / 256, 0});
    // One decoding step at position 5 against cached keys at 5, 0 and 3.
    Tensor s = alibi_bias(2, {5}, {5, 0, 3}, DType::F32);
    CHECK(s.dtype() == DType::F32);
    CHECK(values(s) == std::vector<double>{0, -5.0 / 16, -2.0 / 16, 0, -5.0 / 256, -2.0 / 256});
  }

  TEST_CASE("pos_bias: base, symmetric and noise take alibi; diff, shared-diff and selective refuse it in one line") {
    for (const std::string& a : kAttentions) {
      CAPTURE(a);
      GPTConfig c = tiny_gpt(a, 8, 8);
      c.pos_bias = "alibi";
      const bool takes = a == "base" || a == "symmetric" || a == "noise-v1" || a == "noise-v2";
      CHECK(takes_pos_bias(c.kind()) == takes);
      if (takes) {
        CHECK_NOTHROW(c.validate());
        CHECK(GPT(c, 1).num_parameters() == GPT(tiny_gpt(a, 8, 8), 1).num_parameters());  // no parameters
      } else {
        CHECK(error_of([&] { c.validate(); }) ==
              "config: pos_bias alibi is for base, symmetric, noise-v1 and noise-v2, not " + a);
        Generator g(1);
        CHECK(error_of([&] { make_attention(c, 0, g); }) ==
              "pos_bias alibi is for base, symmetric, noise-v1 and noise-v2, not " + a);
      }
    }
    GPTConfig c = tiny_gpt("base", 8, 8);
    c.pos_bias = "rope";
    CHECK(error_of([&] { c.validate(); }) == "config: pos_bias must be none or alibi, got 'rope'");
  }

  TEST_CASE("ALiBi attention equals a plain-loop float64 reference: output, loss and every gradient") {
    check_against_reference("base");
    check_against_reference("noise-v2");
  }

  TEST_CASE("max-logit probe: the logits the softmax sees, over the entries the causal mask keeps") {
    // Base attention with ALiBi, q = k: the probe's number is max |s·q_i·q_j − m_h(i − j)| over
    // j <= i, which a hand loop over the layer's own projections reproduces.
    GPTConfig cfg = tiny_gpt("symmetric", 8, 6);
    cfg.pos_bias = "alibi";
    Generator g(2);
    std::shared_ptr<Attention> attn = make_attention(cfg, 0, g);
    attn->to(DType::F64);
    Tensor x = leaf({1, 4, 8}, 3, DType::F64, 3.0);
    NoGradGuard ng;
    std::map<std::string, Tensor> p;
    for (auto& [n, t] : attn->named_parameters()) p[n] = t;
    const std::vector<double> qv = values(p.at("c_attn.weight")), qb = values(p.at("c_attn.bias"));  // (16, 8), (16)
    const std::vector<double> xv = values(x), m = alibi_slopes(2);
    double want = 0;
    auto q = [&](int64_t t, int64_t col) {
      double a = qb[col];
      for (int64_t c = 0; c < 8; ++c) a += qv[col * 8 + c] * xv[t * 8 + c];
      return a;
    };
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 4; ++i)
        for (int64_t j = 0; j < 4; ++j) {
          double dot = 0;
          for (int64_t e = 0; e < 4; ++e) dot += q(i, h * 4 + e) * q(j, h * 4 + e);
          const double z = dot / 2.0 - (j <= i ? m[h] * static_cast<double>(i - j) : 0.0);
          if (j <= i) want = std::max(want, std::fabs(z));
        }
    attn->probe().track_max_logit(true);
    Generator d(0);
    attn->forward(x, d);
    CHECK(attn->probe().max_logit() == doctest::Approx(want).epsilon(1e-12));
    CHECK(want > 0.1);
    CHECK(max_abs_causal(f64({1, 9, 2, 3}, {1, 1, 2, 2})) == 3);  // 9 is above the diagonal
    CHECK(max_abs_causal(f64({1, 2, 9, -4, 5, 6}, {1, 1, 2, 3})) == 6);  // queries at 1, 2 of keys 0–2: 9 is future
  }
}
