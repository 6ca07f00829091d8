// Gradient checks of the nn modules, every attention variant, and a whole tiny GPT per
// attention, in float64 (gathered with the others in all_gradchecks()). Noise variants run
// with a fixed ε, so the function being differentiated is deterministic.
#include "models/gradchecks.h"
#include "autograd/node.h"
#include "models/gpt.h"
#include "nn/causal_self_attention.h"
#include "nn/diff_attention.h"

namespace nf {

namespace {

const char* kAttentions[] = {"base", "symmetric", "noise-v1", "noise-v2", "diff", "shared-diff", "selective"};

GPTConfig tiny_config(const std::string& attention) {
  GPTConfig c;
  c.n_layer = 2;
  c.n_head = 2;
  c.n_embd = 8;
  c.block_size = 6;
  c.vocab_size = 7;
  c.attention = attention;
  c.lowrank = 2;
  return c;
}

// Parameters of a module (already float64) followed by extra inputs.
std::vector<Tensor> with_params(const Module& m, std::vector<Tensor> extra) {
  std::vector<Tensor> v = m.parameters();
  v.insert(v.end(), extra.begin(), extra.end());
  return v;
}

// Fixes the noise draws of every noise attention in `blocks` for batch B, length T, with Hn
// independent draws per entry (n_head for noise-v2, 1 for v1). Hn comes from the config: the
// parameter shapes cannot tell v2 [H] from v1 relpos [block] when H == block.
void fix_noise(const std::vector<std::shared_ptr<Attention>>& attns, int64_t B, int64_t T, int64_t Hn) {
  uint64_t seed = 99;
  for (auto& a : attns)
    if (auto* c = dynamic_cast<CausalSelfAttention*>(a.get()); c && c->noise_logvar.defined()) {
      Generator g(seed++);
      c->fixed_eps = randn({B, Hn, T, T}, g, DType::F64);
    }
}

// Moves the noise parameters off their zero init so the gradient paths through μ and σ are
// exercised away from the KL minimum.
void perturb_noise(Module& m) {
  Generator g(5);
  for (auto& [n, t] : m.named_parameters())
    if (n.find("noise_") != std::string::npos || n.find("pairwise_c") != std::string::npos) {
      NoGradGuard ng;
      t.copy_(add(t, mul(randn(t.shape(), g, t.dtype()), 0.3)));
    }
}

}  // namespace

void register_model_gradchecks(std::vector<GradcheckCase>& c) {
  using V = std::vector<Tensor>;
  add_gradcheck(c, "nn/Linear", [] {
    Generator g(1);
    auto lin = std::make_shared<Linear>(4, 3, true, g, 0.5);
    lin->to(DType::F64);
    return gradcheck([lin](const V& x) { return lin->forward(x.back()); }, with_params(*lin, {gc_input({2, 4}, 2)}));
  });
  add_gradcheck(c, "nn/LayerNorm", [] {
    auto ln = std::make_shared<LayerNorm>(5, true);
    ln->to(DType::F64);
    return gradcheck([ln](const V& x) { return ln->forward(x.back()); }, with_params(*ln, {gc_input({3, 5}, 3)}));
  });
  add_gradcheck(c, "nn/MLP", [] {
    Generator g(4);
    auto mlp = std::make_shared<MLP>(4, true, 0.0, 2, g);
    mlp->to(DType::F64);
    return gradcheck([mlp](const V& x) { Generator d(0); return mlp->forward(x.back(), d); },
                     with_params(*mlp, {gc_input({2, 3, 4}, 5)}));
  });
  for (const char* a : kAttentions) {
    const std::string name = a;
    for (bool pairwise : {false, true}) {
      if (pairwise && name != "symmetric") continue;
      for (const char* mean_kind : {"scalar", "relpos"}) {
        if (std::string(mean_kind) == "relpos" && !is_noise(name)) continue;
        GPTConfig cfg = tiny_config(name);
        cfg.pairwise = pairwise;
        cfg.noise_mean = mean_kind;
        std::string label = "attn/" + name + (pairwise ? "+pairwise" : "") + (std::string(mean_kind) == "relpos" ? "+relpos" : "");
        add_gradcheck(c, label, [cfg] {
          Generator g(7);
          std::shared_ptr<Attention> attn = make_attention(cfg, 1, g);
          attn->to(DType::F64);
          perturb_noise(*attn);
          const int64_t B = 2, T = 5;
          fix_noise({attn}, B, T, cfg.attention == "noise-v2" ? cfg.n_head : 1);
          // Larger inputs make the selective mask (ReLU of head-0 logits) non-trivial.
          Tensor x = gc_input({B, T, cfg.n_embd}, 8, false);
          {
            NoGradGuard ng;
            x = mul(x, 3.0);
          }
          x.requires_grad_();
          return gradcheck([attn](const V& in) { Generator d(0); return attn->forward(in.back(), d); },
                           with_params(*attn, {x}));
        });
      }
    }
  }
  for (const char* a : kAttentions) {
    GPTConfig cfg = tiny_config(a);
    add_gradcheck(c, std::string("gpt/") + a, [cfg] {
      auto model = std::make_shared<GPT>(cfg, 11);
      model->to(DType::F64);
      perturb_noise(*model);
      const int64_t B = 2, T = 5;
      std::vector<std::shared_ptr<Attention>> attns;
      for (auto& b : model->blocks) attns.push_back(b->attn);
      fix_noise(attns, B, T, cfg.attention == "noise-v2" ? cfg.n_head : 1);
      Tensor idx = from_vector<int64_t>({1, 3, 5, 0, 2, 6, 6, 1, 4, 2}, {B, T});
      Tensor tgt = from_vector<int64_t>({3, 5, 0, 2, 6, 6, 1, 4, 2, -1}, {B, T});  // one ignored target
      return gradcheck([model, idx, tgt](const V&) { return model->forward(idx, tgt).loss; }, model->parameters());
    });
  }
}

const std::vector<GradcheckCase>& all_gradchecks() {
  static const std::vector<GradcheckCase> cases = [] {
    std::vector<GradcheckCase> c;
    register_op_gradchecks(c);
    register_model_gradchecks(c);
    register_classifier_gradchecks(c);
    return c;
  }();
  return cases;
}

}  // namespace nf
