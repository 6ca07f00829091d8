// Gradient checks of the nn modules, every attention variant, and a whole tiny GPT per
// attention, in float64 (gathered with the others in all_gradchecks()). Noise variants run
// with a fixed ε, so the function being differentiated is deterministic.
#include "models/gradchecks.h"
#include "autograd/node.h"
#include "models/gpt.h"

namespace nf {

namespace {

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

void fix_noise(const std::vector<std::shared_ptr<Attention>>& layers, int64_t B, int64_t T, uint64_t seed) {
  for (const auto& a : layers)
    if (const int64_t Hn = a->probe().noise_heads()) {
      Generator g(seed++);
      a->probe().set_fixed_noise(randn({B, Hn, T, T}, g, DType::F64));
    }
}

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
  for (AttentionKind kind : all_attention_kinds()) {
    const std::string& name = attention_name(kind);
    for (bool pairwise : {false, true}) {
      if (pairwise && kind != AttentionKind::Symmetric) continue;
      for (const char* mean_kind : {"scalar", "relpos"}) {
        if (std::string(mean_kind) == "relpos" && !is_noise(kind)) continue;
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
          fix_noise({attn}, B, T, 99);
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
  // Every variant that takes ALiBi, with it: the bias is a constant, so these check that the
  // gradients still reach every parameter through the biased logits (and, for noise, μ and σ).
  for (AttentionKind kind : all_attention_kinds()) {
    if (!takes_pos_bias(kind)) continue;
    GPTConfig cfg = tiny_config(attention_name(kind));
    cfg.pos_bias = "alibi";
    add_gradcheck(c, "attn/" + cfg.attention + "+alibi", [cfg] {
      Generator g(7);
      std::shared_ptr<Attention> attn = make_attention(cfg, 1, g);
      attn->to(DType::F64);
      perturb_noise(*attn);
      const int64_t B = 2, T = 5;
      fix_noise({attn}, B, T, 99);
      return gradcheck([attn](const V& in) { Generator d(0); return attn->forward(in.back(), d); },
                       with_params(*attn, {gc_input({B, T, cfg.n_embd}, 8)}));
    });
  }
  std::vector<GPTConfig> models;
  for (const std::string& name : attention_names()) models.push_back(tiny_config(name));
  for (const char* name : {"base", "noise-v2"}) {
    models.push_back(tiny_config(name));
    models.back().pos_bias = "alibi";
  }
  for (const GPTConfig& cfg : models) {
    const std::string name = cfg.attention + (cfg.pos_bias == "none" ? "" : "+" + cfg.pos_bias);
    add_gradcheck(c, "gpt/" + name, [cfg] {
      auto model = std::make_shared<GPT>(cfg, 11);
      model->to(DType::F64);
      perturb_noise(*model);
      const int64_t B = 2, T = 5;
      fix_noise(model->attention_layers(), B, T, 99);
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
