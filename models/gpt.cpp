#include "models/gpt.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

#include "autograd/node.h"

namespace nf {

Block::Block(const GPTConfig& cfg, int64_t layer, Generator& gen) {
  ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(cfg.n_embd, cfg.bias));
  attn = register_module("attn", make_attention(cfg, layer, gen));
  ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(cfg.n_embd, cfg.bias));
  mlp = register_module("mlp", std::make_shared<MLP>(cfg.n_embd, cfg.bias, cfg.dropout, cfg.n_layer, gen));
}

Tensor Block::forward(const Tensor& x, Generator& gen) {
  ModuleScope scope(this);
  Tensor h = add(x, attn->forward(ln_1->forward(x), gen));
  return add(h, mlp->forward(ln_2->forward(h), gen));
}

Tensor Block::forward_step(const Tensor& x, int64_t pos, LayerCache& cache, Generator& gen) {
  ModuleScope scope(this);
  Tensor h = add(x, attn->forward_step(ln_1->forward(x), pos, cache, gen));
  return add(h, mlp->forward(ln_2->forward(h), gen));
}

namespace {
// A named container module, so parameter names come out as "transformer.h.3.…".
class Container : public Module {};
}  // namespace

GPT::GPT(const GPTConfig& cfg, uint64_t seed) : rng(seed ^ 0x5eedULL), cfg_(cfg) {
  cfg_.validate();
  Generator init(seed);
  auto transformer = register_module("transformer", std::make_shared<Container>());
  wte = transformer->register_module("wte", std::make_shared<Embedding>(cfg.vocab_size, cfg.n_embd, init));
  wpe = transformer->register_module("wpe", std::make_shared<Embedding>(cfg.block_size, cfg.n_embd, init));
  auto h = transformer->register_module("h", std::make_shared<Container>());
  for (int64_t l = 0; l < cfg.n_layer; ++l)
    blocks.push_back(h->register_module(std::to_string(l), std::make_shared<Block>(cfg, l, init)));
  ln_f = transformer->register_module("ln_f", std::make_shared<LayerNorm>(cfg.n_embd, cfg.bias));
}

Tensor GPT::lm_head(const Tensor& h) const {
  return linear(h, wte->weight);  // tied to wte: logits = h · wteᵀ
}

Tensor GPT::hidden(const Tensor& idx) {
  ModuleScope scope(this);
  if (idx.dim() != 2 || idx.dtype() != DType::I64) throw std::invalid_argument("GPT.forward: idx must be int64 (B, T)");
  const int64_t T = idx.size(1);
  if (T > cfg_.block_size)
    throw std::invalid_argument("GPT.forward: sequence length " + std::to_string(T) + " exceeds block_size " +
                                std::to_string(cfg_.block_size));
  Tensor x = add(wte->forward(idx), wpe->forward(arange(T).to(idx.device())));  // (B,T,C) + (T,C)
  for (auto& b : blocks) x = b->forward(x, rng);
  return ln_f->forward(x);
}

GPTOutput GPT::forward(const Tensor& idx, const Tensor& targets) {
  ModuleScope scope(this);
  Tensor h = hidden(idx);
  const int64_t B = idx.size(0), T = idx.size(1);
  GPTOutput out;
  out.logits = lm_head(h);
  if (!targets.defined()) return out;
  out.ce = cross_entropy(out.logits.view({B * T, cfg_.vocab_size}), targets.reshape({B * T}), -1);
  out.loss = out.ce;
  for (const CombinedLossTerm& t : attention_loss_terms()) {
    out.loss = add(out.loss, t.weighted());
    out.terms[t.name] = t.value;
  }
  return out;
}

Tensor GPTOutput::term(const std::string& name) const {
  auto it = terms.find(name);
  return it == terms.end() ? Tensor() : it->second;
}

std::vector<std::shared_ptr<Attention>> GPT::attention_layers() const {
  std::vector<std::shared_ptr<Attention>> out;
  for (const auto& b : blocks) out.push_back(b->attn);
  return out;
}

std::vector<CombinedLossTerm> GPT::attention_loss_terms(bool finetuning) const {
  return combine_loss_terms(attention_layers(), finetuning);
}

GPTCache GPT::make_cache(int64_t kv_budget) const {
  return make_cache(std::vector<int64_t>(cfg_.n_layer, kv_budget));
}

GPTCache GPT::make_cache(const std::vector<int64_t>& budget) const {
  if (static_cast<int64_t>(budget.size()) != cfg_.n_layer)
    throw std::invalid_argument("kv budget: expected one value or " + std::to_string(cfg_.n_layer) + " (one per layer)");
  GPTCache c;
  c.layers.resize(cfg_.n_layer);
  for (int64_t l = 0; l < cfg_.n_layer; ++l) {
    if (budget[l] < 0) throw std::invalid_argument("kv budget must be >= 0");
    if (budget[l] == 1) throw std::invalid_argument("kv budget must be at least 2 (the first token is always kept)");
    c.layers[l].budget = budget[l];
  }
  return c;
}

Tensor GPT::forward_step(const Tensor& tok, GPTCache& cache) {
  ModuleScope scope(this);
  const int64_t B = tok.size(0);
  if (cache.pos >= cfg_.block_size)
    throw std::invalid_argument("forward_step: position " + std::to_string(cache.pos) + " is past block_size");
  Tensor x = add(wte->forward(tok), wpe->forward(full({1}, static_cast<double>(cache.pos), DType::I64, tok.device())));
  for (size_t l = 0; l < blocks.size(); ++l) x = blocks[l]->forward_step(x, cache.pos, cache.layers[l], rng);
  ++cache.pos;
  return lm_head(ln_f->forward(x)).view({B, cfg_.vocab_size});
}

void cut_logits(std::vector<double>& l, int64_t top_k, double top_p) {
  if (!(top_p > 0 && top_p <= 1))
    throw std::invalid_argument("top_p must be in (0, 1], got " + std::to_string(top_p));
  if (top_k > 0 && top_k < static_cast<int64_t>(l.size())) {
    std::vector<double> sorted = l;
    std::nth_element(sorted.begin(), sorted.begin() + (top_k - 1), sorted.end(), std::greater<double>());
    const double kth = sorted[top_k - 1];
    for (double& v : l) if (v < kth) v = -INFINITY;
  }
  if (top_p >= 1 || l.empty()) return;
  std::vector<size_t> order(l.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return l[a] > l[b]; });
  const double m = l[order[0]];
  double total = 0;
  for (double v : l) total += std::exp(v - m);
  // A token stays while the more probable ones before it hold less than top_p: the one that
  // reaches top_p is kept (as HF, which drops the tail whose mass is <= 1 - top_p).
  double before = 0;
  size_t i = 0;
  while (i < order.size() && before < top_p) before += std::exp(l[order[i++]] - m) / total;
  for (; i < order.size(); ++i) l[order[i]] = -INFINITY;
}

std::vector<int64_t> GPT::generate(const std::vector<int64_t>& prompt, int64_t max_new, double temperature,
                                   int64_t top_k, Generator& sampler, const std::vector<int64_t>& kv_budget,
                                   double top_p) {
  NoGradGuard ng;
  if (prompt.empty()) throw std::invalid_argument("generate: empty prompt");
  if (!(top_p > 0 && top_p <= 1))
    throw std::invalid_argument("generate: top_p must be in (0, 1], got " + std::to_string(top_p));
  for (int64_t t : prompt)
    if (t < 0 || t >= cfg_.vocab_size)
      throw std::invalid_argument("generate: token id " + std::to_string(t) + " outside vocab of " + std::to_string(cfg_.vocab_size));
  std::vector<int64_t> seq = prompt;
  const Device dev = device();  // once: Module::device() walks every parameter
  auto fresh_cache = [&] { return kv_budget.empty() ? make_cache(0) : make_cache(kv_budget); };
  GPTCache cache = fresh_cache();
  // Feed the prompt (its last block_size tokens) through the cache, token by token.
  auto prefill = [&](size_t from) {
    Tensor logits;
    for (size_t i = from; i < seq.size(); ++i) logits = forward_step(full({1, 1}, static_cast<double>(seq[i]), DType::I64, dev), cache);
    return logits;
  };
  const size_t start = seq.size() > static_cast<size_t>(cfg_.block_size) ? seq.size() - cfg_.block_size : 0;
  Tensor logits = prefill(start);
  for (int64_t n = 0; n < max_new; ++n) {
    std::vector<double> l = logits.to_vector<double>();
    int64_t next;
    if (temperature <= 0) {
      next = std::max_element(l.begin(), l.end()) - l.begin();
    } else {
      for (double& v : l) v /= temperature;
      cut_logits(l, top_k, top_p);
      const double m = *std::max_element(l.begin(), l.end());
      double total = 0;
      for (double& v : l) total += (v = std::exp(v - m));
      double u = sampler.uniform() * total;
      next = static_cast<int64_t>(l.size()) - 1;
      for (size_t i = 0; i < l.size(); ++i) {
        if ((u -= l[i]) <= 0) { next = static_cast<int64_t>(i); break; }
      }
    }
    seq.push_back(next);
    if (n + 1 == max_new) break;
    if (cache.pos >= cfg_.block_size) {
      // Context full: restart the cache on the most recent half block (nanoGPT crops likewise),
      // at least one token (a block of 1 would otherwise feed nothing and have no logits).
      cache = fresh_cache();
      logits = prefill(seq.size() - std::max<size_t>(1, static_cast<size_t>(cfg_.block_size / 2)));
    } else {
      logits = forward_step(full({1, 1}, static_cast<double>(next), DType::I64, dev), cache);
    }
  }
  return seq;
}

namespace {
// AdamW decays weight matrices and embeddings (≥ 2-D). The 2-D tables of the attention variants —
// pairwise_c [H, d] and relpos noise [H, block] — are per-head scales and noise statistics, not
// weights, so they are kept out like biases and gains.
bool decayed(const std::string& name, const Tensor& t) {
  return t.dim() >= 2 && name.find("pairwise_c") == std::string::npos && name.find("noise_") == std::string::npos;
}
}  // namespace

std::vector<Tensor> GPT::decay_parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters())
    if (decayed(n, t)) out.push_back(t);
  return out;
}

std::vector<Tensor> GPT::no_decay_parameters() const {
  std::vector<Tensor> out;
  for (auto& [n, t] : named_parameters())
    if (!decayed(n, t)) out.push_back(t);
  return out;
}

int64_t count_parameters(const GPTConfig& c) {
  const int64_t C = c.n_embd, L = c.n_layer, b = c.bias ? 1 : 0;
  int64_t n = c.vocab_size * C + c.block_size * C;  // wte (tied lm_head) + wpe
  n += C * (1 + b);                                  // ln_f
  int64_t per = 2 * C * (1 + b);                     // ln_1, ln_2
  per += (C * 4 * C + 4 * C * b) + (4 * C * C + C * b);  // mlp
  per += attention_parameter_count(c);               // c_attn, c_proj and the variant's own
  return n + L * per;
}

}  // namespace nf
