// The attention variants (nn/), specified by property on small GPTs: equivalences between
// variants (symmetric = base with W_k := W_q; noise at its mean = symmetric; shared-diff without
// low-rank updates = diff with equal branches), NoiseFormer's noise and KL term with its
// gradient, differential attention's λ and its closed form, selective attention's mask and
// pruning budget, and the sliding window every other variant keeps under a budget.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "models/gpt.h"
#include "nn/diff_attention.h"
#include "nn/noise_attention.h"
#include "nn/selective.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

// A tiny model: 2 layers, 2 heads, width 8, block 8, vocab 11.
GPTConfig tiny(const std::string& attention) { return nf::test::tiny_gpt(attention, 8, 8); }

// Overwrites a parameter's values in place (every handle to it sees them).
void set_values(Tensor t, const std::vector<double>& v) {
  NoGradGuard ng;
  t.copy_(from_vector<double>(v, t.shape()).to(t.dtype()));
}

std::shared_ptr<NoiseAttention> noise_attn(const GPT& m, size_t l) {
  auto a = std::dynamic_pointer_cast<NoiseAttention>(m.blocks[l]->attn);
  REQUIRE(a);
  return a;
}
std::shared_ptr<DiffAttention> dattn(const GPT& m, size_t l) {
  auto a = std::dynamic_pointer_cast<DiffAttention>(m.blocks[l]->attn);
  REQUIRE(a);
  return a;
}

}  // namespace

TEST_SUITE("nn") {
  TEST_CASE("symmetric equals base with W_k := W_q (and b_k := b_q)") {
    GPTConfig cs = tiny("symmetric"), cb = tiny("base");
    const int64_t C = cs.n_embd;
    GPT sym(cs, 3), base(cb, 4);
    perturb(sym, 0.3, 11);
    auto src = sym.state_dict();
    {
      NoGradGuard ng;
      for (auto& [n, t] : base.named_parameters()) {
        const Tensor s = src.at(n);
        if (ends_with(n, "attn.c_attn.weight") || ends_with(n, "attn.c_attn.bias")) {
          Tensor dst = t;
          dst.narrow(0, 0, C).copy_(s.narrow(0, 0, C));      // q
          dst.narrow(0, C, C).copy_(s.narrow(0, 0, C));      // k := q
          dst.narrow(0, 2 * C, C).copy_(s.narrow(0, C, C));  // v
        } else {
          Tensor(t).copy_(s);
        }
      }
    }
    sym.eval();
    base.eval();
    std::vector<int64_t> x = random_ids(2 * 8, 11, 5);
    Tensor ls = sym.forward(ids(x, 2, 8)).logits, lb = base.forward(ids(x, 2, 8)).logits;
    CHECK(max_abs_diff(ls, lb) < 1e-5);
    CHECK(max_abs_value(ls) > 0.1);  // not trivially zero
    // And the weights matter: a different W_k breaks the equality.
    {
      NoGradGuard ng;
      param(base, "transformer.h.0.attn.c_attn.weight").narrow(0, C, C).add_(ones({C, C}), 0.3);
    }
    CHECK(max_abs_diff(sym.forward(ids(x, 2, 8)).logits, base.forward(ids(x, 2, 8)).logits) > 1e-3);
  }

  TEST_CASE("noise with a scalar mean, noise_at_eval=mean, eval mode equals symmetric (μ cancels)") {
    for (const std::string a : {"noise-v1", "noise-v2"}) {
      CAPTURE(a);
      GPT sym(tiny("symmetric"), 3), noisy(tiny(a), 9);
      perturb(sym, 0.3, 12);
      auto src = sym.state_dict();
      {
        NoGradGuard ng;
        for (auto& [n, t] : noisy.named_parameters())
          if (src.count(n)) Tensor(t).copy_(src.at(n));
      }
      // Non-trivial μ and log σ² (different per head for v2).
      for (size_t l = 0; l < 2; ++l) {
        auto at = noise_attn(noisy, l);
        std::vector<double> mu, lv;
        for (int64_t i = 0; i < at->noise_mu.numel(); ++i) {
          mu.push_back(0.7 + 0.9 * i + 0.2 * l);
          lv.push_back(0.3 - 0.5 * i);
        }
        set_values(at->noise_mu, mu);
        set_values(at->noise_logvar, lv);
      }
      sym.eval();
      noisy.eval();
      std::vector<int64_t> x = random_ids(2 * 8, 11, 6);
      Tensor ls = sym.forward(ids(x, 2, 8)).logits;
      CHECK(max_abs_diff(ls, noisy.forward(ids(x, 2, 8)).logits) < 1e-5);
      // noise_at_eval=sample draws ε at evaluation too: no longer equal.
      GPTConfig cs = tiny(a);
      cs.noise_at_eval = "sample";
      GPT sampled(cs, 9);
      sampled.load_state_dict(noisy.state_dict());
      sampled.eval();
      CHECK(max_abs_diff(ls, sampled.forward(ids(x, 2, 8)).logits) > 1e-3);
    }
  }

  TEST_CASE("noise in training mode: differs from eval, fresh per call, reproducible from the model rng") {
    for (const std::string a : {"noise-v1", "noise-v2"}) {
      CAPTURE(a);
      GPT m(tiny(a), 21);
      perturb(m, 0.3, 13);
      std::vector<int64_t> x = random_ids(2 * 8, 11, 7);
      m.eval();
      const uint64_t c0 = m.rng.counter();
      Tensor le = m.forward(ids(x, 2, 8)).logits;
      CHECK(m.rng.counter() == c0);  // eval at the mean draws nothing
      m.train();
      const uint64_t seed = m.rng.seed(), counter = m.rng.counter();
      Tensor l1 = m.forward(ids(x, 2, 8)).logits;
      CHECK(m.rng.counter() > counter);
      Tensor l2 = m.forward(ids(x, 2, 8)).logits;
      CHECK(max_abs_diff(l1, le) > 1e-3);
      CHECK(max_abs_diff(l1, l2) > 1e-3);
      m.rng.set_state(seed, counter);
      CHECK(max_abs_diff(m.forward(ids(x, 2, 8)).logits, l1) == 0.0);
    }
  }

  TEST_CASE("shared-diff with zero low-rank updates equals diff with both branches on the shared base") {
    GPTConfig cd = tiny("diff"), cs = tiny("shared-diff");
    cd.n_head = cs.n_head = 4;  // h = 2 heads of d = 2: exercises the sub-head interleaving
    const int64_t C = 8, h = 2, d = 2;
    GPT sd(cs, 5), df(cd, 6);
    perturb(sd, 0.4, 14);
    auto src = sd.state_dict();
    {
      NoGradGuard ng;
      for (auto& [n, t] : sd.named_parameters())
        if (ends_with(n, "_down.weight") || ends_with(n, "_up.weight")) Tensor(t).fill_(0.0);
      for (auto& [n, t] : df.named_parameters()) {
        if (ends_with(n, "attn.c_attn.weight") || ends_with(n, "attn.c_attn.bias")) {
          // shared: [q_base C/2 | k_base C/2 | v C]; diff: [q C | k C | v C] where sub-head
          // 2i+b of q (rows (2i+b)d …) is branch b of head i: both branches := base head i.
          const Tensor s = src.at(n);
          Tensor dst = t;
          for (int64_t part = 0; part < 2; ++part)
            for (int64_t i = 0; i < h; ++i)
              for (int64_t b = 0; b < 2; ++b)
                dst.narrow(0, part * C + (2 * i + b) * d, d).copy_(s.narrow(0, part * C / 2 + i * d, d));
          dst.narrow(0, 2 * C, C).copy_(s.narrow(0, C, C));
        } else {
          Tensor(t).copy_(src.at(n));
        }
      }
    }
    sd.eval();
    df.eval();
    std::vector<int64_t> x = random_ids(2 * 8, 11, 8);
    Tensor a = sd.forward(ids(x, 2, 8)).logits, b = df.forward(ids(x, 2, 8)).logits;
    CHECK(max_abs_diff(a, b) < 1e-5);
    // The low-rank path is live: a non-zero update changes the output.
    {
      NoGradGuard ng;
      param(sd, "transformer.h.0.attn.q1_up.weight").fill_(0.5);
      param(sd, "transformer.h.0.attn.q1_down.weight").fill_(0.5);
    }
    CHECK(max_abs_diff(sd.forward(ids(x, 2, 8)).logits, b) > 1e-3);
  }

  TEST_CASE("KL term and its gradient equal the hand-computed values") {
    // loss = CE + β·mean over noise entries of ½(μ² + e^{lv} − lv − 1); in eval mode at the mean
    // a scalar μ cancels in the softmax and log σ² is unused, so the gradients are the KL's:
    // dL/dμ = β·μ/count, dL/dlv = β·½(e^{lv} − 1)/count.
    for (const std::string a : {"noise-v1", "noise-v2"}) {
      CAPTURE(a);
      GPTConfig c = tiny(a);
      c.kl_weight = 0.5;
      GPT m(c, 2);
      std::vector<double> mus, lvs;
      for (size_t l = 0; l < 2; ++l) {
        auto at = noise_attn(m, l);
        std::vector<double> mu, lv;
        for (int64_t i = 0; i < at->noise_mu.numel(); ++i) {
          mu.push_back(l == 0 ? 0.3 - 1.5 * i : -1.2 + 0.4 * i);
          lv.push_back(l == 0 ? -0.4 + 0.3 * i : 0.7 - 1.1 * i);
        }
        set_values(at->noise_mu, mu);
        set_values(at->noise_logvar, lv);
        mus.insert(mus.end(), mu.begin(), mu.end());
        lvs.insert(lvs.end(), lv.begin(), lv.end());
      }
      const double count = static_cast<double>(mus.size());
      CHECK(count == (a == "noise-v1" ? 2 : 4));
      double kl = 0;
      for (size_t i = 0; i < mus.size(); ++i) kl += 0.5 * (mus[i] * mus[i] + std::exp(lvs[i]) - lvs[i] - 1);
      kl /= count;
      m.eval();
      std::vector<int64_t> x = random_ids(2 * 8, 11, 9), y = random_ids(2 * 8, 11, 10);
      GPTOutput out = m.forward(ids(x, 2, 8), ids(y, 2, 8));
      CHECK(out.term("kl").item() == doctest::Approx(kl).epsilon(1e-6));
      CHECK(out.loss.item() == doctest::Approx(out.ce.item() + 0.5 * kl).epsilon(1e-6));
      out.loss.backward();
      size_t k = 0;
      for (size_t l = 0; l < 2; ++l) {
        auto at = noise_attn(m, l);
        std::vector<double> gmu = values(at->noise_mu.grad()), glv = values(at->noise_logvar.grad());
        for (size_t i = 0; i < gmu.size(); ++i, ++k) {
          CHECK(gmu[i] == doctest::Approx(0.5 * mus[k] / count).epsilon(1e-4));
          CHECK(glv[i] == doctest::Approx(0.5 * 0.5 * (std::exp(lvs[k]) - 1) / count).epsilon(1e-4));
        }
      }
    }
  }

  TEST_CASE("KL starts at zero: μ = 0, log σ² = 0 is the N(0,1) prior") {
    GPTConfig c = tiny("noise-v2");
    c.noise_mean = "relpos";
    GPT m(c);
    std::vector<int64_t> x = random_ids(8, 11, 1);
    GPTOutput out = m.forward(ids(x, 1, 8), ids(x, 1, 8));
    CHECK(out.term("kl").item() == 0.0);
    CHECK(out.loss.item() == out.ce.item());
  }

  TEST_CASE("diff: λ_init = 0.8 − 0.6·exp(−0.3·(l−1)) per layer; zero λ vectors give λ = λ_init") {
    GPTConfig c = tiny("diff");
    c.n_layer = 3;
    GPT m(c);
    for (size_t l = 0; l < 3; ++l) {
      auto at = dattn(m, l);
      const double want = 0.8 - 0.6 * std::exp(-0.3 * static_cast<double>(l));  // l here is (layer − 1)
      CHECK(at->lambda_init == doctest::Approx(want).epsilon(1e-12));
      for (Tensor t : {at->lambda_q1, at->lambda_k1, at->lambda_q2, at->lambda_k2}) set_values(t, std::vector<double>(4, 0.0));
      CHECK(at->lambda().item() == doctest::Approx(want).epsilon(1e-6));
    }
    CHECK(dattn(m, 0)->lambda_init == doctest::Approx(0.2));
    // λ = exp(λq1·λk1) − exp(λq2·λk2) + λ_init
    auto at = dattn(m, 1);
    set_values(at->lambda_q1, {0.1, 0.2, -0.3, 0.4});
    set_values(at->lambda_k1, {0.5, -0.1, 0.2, 0.3});
    set_values(at->lambda_q2, {-0.2, 0.3, 0.1, 0.0});
    set_values(at->lambda_k2, {0.4, 0.4, -0.5, 0.9});
    const double d1 = 0.05 - 0.02 - 0.06 + 0.12, d2 = -0.08 + 0.12 - 0.05 + 0.0;
    CHECK(at->lambda().item() == doctest::Approx(std::exp(d1) - std::exp(d2) + at->lambda_init).epsilon(1e-6));
  }

  TEST_CASE("diff attention equals its closed form (2 heads of two branches, 3 tokens)") {
    // C = 16, H = 4: h = 2 heads, d = 4, value width 2d = 8; layer index 2 (l = 3).
    GPTConfig c = tiny("diff");
    c.n_embd = 16;
    c.n_head = 4;
    c.n_layer = 3;
    const int64_t C = 16, h = 2, d = 4, T = 3;
    Generator g(31);
    DiffAttention at(c, 2, /*shared_base=*/false, g);
    const double li = 0.8 - 0.6 * std::exp(-0.6);
    for (Tensor t : {at.lambda_q1, at.lambda_k1, at.lambda_q2, at.lambda_k2}) set_values(t, std::vector<double>(d, 0.0));
    {
      NoGradGuard ng;
      Tensor(at.c_attn->weight).copy_(mul(randn({3 * C, C}, g), 0.5));
      Tensor(at.c_attn->bias).copy_(mul(randn({3 * C}, g), 0.1));
      // c_proj := identity, so the output is the concatenated heads Y.
      std::vector<double> eye(C * C, 0.0);
      for (int64_t i = 0; i < C; ++i) eye[i * C + i] = 1.0;
      Tensor(at.c_proj->weight).copy_(from_vector<double>(eye, {C, C}).to(DType::F32));
      Tensor(at.c_proj->bias).fill_(0.0);
    }
    at.eval();
    Tensor x = randn({1, T, C}, g);
    std::vector<double> y = values(at.forward(x, g));

    // By hand, in double.
    std::vector<double> W = values(at.c_attn->weight), bb = values(at.c_attn->bias), xv = values(x);
    std::vector<std::vector<double>> proj(T, std::vector<double>(3 * C));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < 3 * C; ++o) {
        double s = bb[o];
        for (int64_t i = 0; i < C; ++i) s += W[o * C + i] * xv[t * C + i];
        proj[t][o] = s;
      }
    const double lam = li, scale = 1.0 / std::sqrt(static_cast<double>(d));
    auto sub = [&](int64_t t, int64_t part, int64_t subhead, int64_t j) { return proj[t][part * C + subhead * d + j]; };
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < h; ++i) {
        std::vector<double> A[2];
        for (int64_t b = 0; b < 2; ++b) {
          std::vector<double> z(t + 1);
          double mx = -1e300;
          for (int64_t u = 0; u <= t; ++u) {
            double s = 0;
            for (int64_t j = 0; j < d; ++j) s += sub(t, 0, 2 * i + b, j) * sub(u, 1, 2 * i + b, j);
            z[u] = s * scale;
            mx = std::max(mx, z[u]);
          }
          double tot = 0;
          for (double& v : z) tot += (v = std::exp(v - mx));
          for (double& v : z) v /= tot;
          A[b] = z;
        }
        std::vector<double> O(2 * d, 0.0);
        for (int64_t u = 0; u <= t; ++u)
          for (int64_t j = 0; j < 2 * d; ++j) O[j] += (A[0][u] - lam * A[1][u]) * proj[u][2 * C + i * 2 * d + j];
        double ms = 0;
        for (double v : O) ms += v * v / (2 * d);
        for (int64_t j = 0; j < 2 * d; ++j) {
          const double want = (1 - li) * O[j] / std::sqrt(ms + 1e-5);
          CAPTURE(t);
          CAPTURE(i);
          CHECK(y[t * C + i * 2 * d + j] == doctest::Approx(want).epsilon(1e-4).scale(1.0));
        }
        if (t == 0) {
          // Token 0 attends only to itself: A1 = A2 = [1], O = (1 − λ)v0, so
          // Y0 = (1 − λ_init)·(1 − λ)v0 / sqrt((1 − λ)²·mean(v0²) + eps).
          double mv = 0;
          for (int64_t j = 0; j < 2 * d; ++j) mv += std::pow(proj[0][2 * C + i * 2 * d + j], 2) / (2 * d);
          for (int64_t j = 0; j < 2 * d; ++j) {
            const double v0 = proj[0][2 * C + i * 2 * d + j];
            const double closed = (1 - li) * (1 - lam) * v0 / std::sqrt((1 - lam) * (1 - lam) * mv + 1e-5);
            CHECK(y[i * 2 * d + j] == doctest::Approx(closed).epsilon(1e-4).scale(1.0));
          }
        }
      }
    }
  }

  TEST_CASE("selective mask: F is the exclusive cumsum of ReLU(L) gated to 0 < j < k") {
    const int64_t B = 2, T = 6;
    Generator g(41);
    Tensor L = randn({B, T, T}, g, DType::F64);
    std::vector<double> l = values(L), F = values(selective_mask(L));
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < T; ++j) {
          double want = 0;
          for (int64_t k = 0; k < i; ++k)
            if (0 < j && j < k) want += std::max(0.0, l[(b * T + k) * T + j]);
          const double f = F[(b * T + i) * T + j];
          CHECK(f == doctest::Approx(want).epsilon(1e-12));
          if (j == 0 || j >= i - 1) CHECK(f == 0.0);  // first token, self, and the newest key are never masked
          CHECK(f >= 0.0);
        }
    // Exclusive: row i + 1 − row i is the gated S of row i.
    for (int64_t i = 0; i + 1 < T; ++i)
      for (int64_t j = 1; j < i; ++j)
        CHECK(F[(i + 1) * T + j] - F[i * T + j] == doctest::Approx(std::max(0.0, l[i * T + j])).epsilon(1e-12));
    // −∞ above the diagonal (already-masked logits) must not turn into NaN.
    std::vector<double> masked = l;
    for (int64_t b = 0; b < B; ++b)
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = i + 1; j < T; ++j) masked[(b * T + i) * T + j] = -INFINITY;
    for (double f : values(selective_mask(from_vector<double>(masked, {B, T, T})))) CHECK(std::isfinite(f));
  }

  TEST_CASE("selective pruning: the cache never exceeds its budget, keeps token 0, evicts the most-masked key") {
    GPTConfig c = tiny("selective");
    c.block_size = 16;
    GPT m(c, 23);
    perturb(m, 0.5, 24);
    m.eval();
    const int64_t budget = 4, T = 16;
    GPTCache cache = m.make_cache(budget);
    std::vector<int64_t> x = random_ids(T, c.vocab_size, 25);
    NoGradGuard ng;
    int evictions = 0;
    for (int64_t t = 0; t < T; ++t) {
      // Predict the eviction of each layer from its state before the step.
      std::vector<int64_t> expect_gone(c.n_layer, -1);
      for (int64_t l = 0; l < c.n_layer; ++l) {
        const LayerCache& lc = cache.layers[l];
        if (lc.len < budget) continue;
        std::vector<double> f = lc.f.narrow(1, 0, lc.len).select(0, 0).to_vector<double>();
        int64_t worst = -1;
        for (int64_t e = 0; e < lc.len; ++e)
          if (lc.pos[e] != 0 && (worst < 0 || f[e] > f[worst])) worst = e;
        expect_gone[l] = lc.pos[worst];
      }
      m.forward_step(ids({x[t]}, 1, 1), cache);
      for (int64_t l = 0; l < c.n_layer; ++l) {
        const LayerCache& lc = cache.layers[l];
        CAPTURE(t);
        CAPTURE(l);
        CHECK(lc.len == std::min<int64_t>(t + 1, budget));
        CHECK(lc.len <= budget);
        CHECK(lc.peak <= budget);
        CHECK(static_cast<int64_t>(lc.pos.size()) == lc.len);
        CHECK(std::count(lc.pos.begin(), lc.pos.end(), 0) == 1);  // the first token stays
        CHECK(std::count(lc.pos.begin(), lc.pos.end(), t) == 1);  // the newest is in
        if (expect_gone[l] >= 0) {
          CHECK(std::count(lc.pos.begin(), lc.pos.end(), expect_gone[l]) == 0);
          ++evictions;
        }
        for (double f : lc.f.narrow(1, 0, lc.len).to_vector<double>()) CHECK(f >= 0.0);
      }
    }
    CHECK(evictions == c.n_layer * (T - budget));
    // A budget of the whole block never evicts: decoding equals the full forward.
    GPTCache big = m.make_cache(T);
    Tensor a = decode_all(m, x, 1, T, big), b = m.forward(ids(x, 1, T)).logits;
    CHECK(max_abs_diff(a, b) < 1e-5 * std::max(1.0, max_abs_value(b)));
    // Budgets must leave room beyond the first token, and come one for all layers or one per layer.
    CHECK_THROWS_AS(m.make_cache(1), std::invalid_argument);
    CHECK_THROWS_AS(m.make_cache(-1), std::invalid_argument);
    CHECK_THROWS_AS(m.make_cache(std::vector<int64_t>{4}), std::invalid_argument);
    // generate() with a budget runs past the budget and respects the prompt.
    Generator s(3);
    std::vector<int64_t> out = m.generate({1, 2, 3}, 12, 1.0, 0, s, {budget, budget});
    CHECK(out.size() == 15u);
    CHECK(std::vector<int64_t>(out.begin(), out.begin() + 3) == std::vector<int64_t>{1, 2, 3});
  }

  TEST_CASE("without selection a budget is a sliding window that keeps the first token") {
    // One layer, so the logits at step t depend on exactly the tokens whose keys the layer holds:
    // position 0 and the newest budget − 1. Changing every token outside that set must leave them
    // unchanged, and changing one inside must not.
    const int64_t T = 12, W = 5;
    for (const std::string attention : {"base", "base+alibi", "symmetric", "noise-v1", "noise-v2", "diff", "shared-diff"}) {
      CAPTURE(attention);
      const bool alibi = attention == "base+alibi";
      GPTConfig c = tiny_gpt(alibi ? "base" : attention, 8, T, 2, 11, /*n_layer=*/1);
      if (alibi) c.pos_bias = "alibi";
      GPT m(c, 31);
      perturb(m, 0.5, 32);
      m.eval();
      const std::vector<int64_t> x = random_ids(T, c.vocab_size, 33);
      GPTCache cache = m.make_cache(W);
      const Tensor logits = decode_all(m, x, 1, T, cache);  // (1, T, V)
      for (int64_t t = 0; t < T; ++t) {
        CAPTURE(t);
        auto in_window = [&](int64_t j) { return j == 0 || j > t - W + 1; };
        std::vector<int64_t> outside = x, inside = x;
        for (int64_t j = 1; j <= t; ++j)
          if (!in_window(j)) outside[j] = (x[j] + 1) % c.vocab_size;
        inside[t == 0 ? 0 : t - 1] = (x[t == 0 ? 0 : t - 1] + 1) % c.vocab_size;
        GPTCache a = m.make_cache(W), b = m.make_cache(W);
        const Tensor got = decode_all(m, outside, 1, t + 1, a).select(1, t);
        const Tensor changed = decode_all(m, inside, 1, t + 1, b).select(1, t);
        CHECK(max_abs_diff(got, logits.select(1, t)) == 0.0);
        CHECK(max_abs_diff(changed, logits.select(1, t)) > 0.0);
        std::vector<int64_t> held = a.layers[0].pos;
        std::sort(held.begin(), held.end());
        std::vector<int64_t> want;
        for (int64_t j = 0; j <= t; ++j)
          if (in_window(j)) want.push_back(j);
        CHECK(held == want);
        CHECK(a.layers[0].peak <= W);
      }
      // Until the window is full, decoding with a budget is decoding without one.
      GPTCache full = m.make_cache(0);
      const Tensor unpruned = decode_all(m, x, 1, T, full);
      CHECK(max_abs_diff(logits.narrow(1, 0, W), unpruned.narrow(1, 0, W)) == 0.0);
      CHECK(max_abs_diff(logits, unpruned) > 0.0);
    }
  }
}
