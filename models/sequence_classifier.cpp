#include "models/sequence_classifier.h"

#include <stdexcept>
#include <string>

#include "models/gradchecks.h"
#include "autograd/node.h"

namespace nf {

Tensor gather_last(const Tensor& h, const Tensor& last) {
  if (h.dim() != 3) throw std::invalid_argument("gather_last: expected h (B, T, C), got " + shape_str(h.shape()));
  const int64_t B = h.size(0), T = h.size(1), C = h.size(2);
  if (last.dtype() != DType::I64 || last.dim() != 1 || last.size(0) != B)
    throw std::invalid_argument("gather_last: expected last int64 (" + std::to_string(B) + "), got " +
                                shape_str(last.shape()));
  std::vector<int64_t> rows = last.to_vector<int64_t>();
  for (int64_t b = 0; b < B; ++b) {
    if (rows[b] < 0 || rows[b] >= T)
      throw std::invalid_argument("gather_last: last[" + std::to_string(b) + "] = " + std::to_string(rows[b]) +
                                  " outside [0, " + std::to_string(T) + ")");
    rows[b] += b * T;  // row of h viewed as (B·T, C)
  }
  // An embedding lookup into the (B·T, C) rows is exactly the gather, and its backward is the
  // scatter-add the gather needs.
  return embedding(h.reshape({B * T, C}), from_vector(rows, {B}).to(h.device()));
}

SequenceClassifier::SequenceClassifier(std::shared_ptr<GPT> g, int64_t num_outputs, Generator& gen)
    : num_outputs_(num_outputs) {
  if (!g) throw std::invalid_argument("SequenceClassifier: no GPT");
  if (num_outputs < 1) throw std::invalid_argument("SequenceClassifier: num_outputs must be >= 1");
  gpt = register_module("gpt", std::move(g));
  head = register_module("head", std::make_shared<Linear>(gpt->config().n_embd, num_outputs, true, gen));
  // The GPT may be float64 (gradient checks): the head follows its dtype.
  const DType dt = gpt->wte->weight.dtype();
  if (dt != DType::F32) head->to(dt);
}

Tensor SequenceClassifier::forward(const Tensor& idx, const Tensor& last) {
  ModuleScope scope(this);
  return head->forward(gather_last(gpt->hidden(idx), last));
}

Tensor SequenceClassifier::task_loss(const Tensor& outputs, const Tensor& targets) const {
  const int64_t B = outputs.size(0);
  if (num_outputs_ == 1) {
    Tensor diff = sub(outputs.reshape({B}), targets.to(outputs.dtype()));
    return mean(mul(diff, diff));
  }
  return cross_entropy(outputs, targets, -1);
}

Tensor SequenceClassifier::regularizer() const {
  Tensor total;
  for (const CombinedLossTerm& t : gpt->attention_loss_terms(/*finetuning=*/true))
    total = total.defined() ? add(total, t.weighted()) : t.weighted();
  return total;
}

std::vector<Tensor> SequenceClassifier::decay_parameters() const {
  std::vector<Tensor> v = gpt->decay_parameters();
  v.push_back(head->weight);
  return v;
}

std::vector<Tensor> SequenceClassifier::no_decay_parameters() const {
  std::vector<Tensor> v = gpt->no_decay_parameters();
  if (head->bias.defined()) v.push_back(head->bias);
  return v;
}

// ---- float64 gradient checks (autograd/gradcheck_registry.cpp) --------------------------------
namespace {

GPTConfig glue_tiny_config(const std::string& attention) {
  GPTConfig c;
  c.n_layer = 1;  // the GPT itself is checked by gpt/*; one block keeps this cheap
  c.n_head = 2;
  c.n_embd = 4;
  c.block_size = 6;
  c.vocab_size = 7;
  c.attention = attention;
  return c;
}

// A float64 classifier on a tiny GPT; noise variants get fixed ε (so the function is
// deterministic) and noise parameters moved off their zero init.
std::shared_ptr<SequenceClassifier> glue_tiny_classifier(const std::string& attention, int64_t K, int64_t B,
                                                         int64_t T) {
  auto gpt = std::make_shared<GPT>(glue_tiny_config(attention), 21);
  gpt->to(DType::F64);
  Generator g(22);
  auto clf = std::make_shared<SequenceClassifier>(gpt, K, g);
  {
    NoGradGuard ng;
    Generator p(23);
    // A visible head (N(0, 0.02²) would make the whole GPT's gradient tiny) and non-zero bias.
    clf->head->weight.copy_(randn(clf->head->weight.shape(), p, DType::F64));
    clf->head->bias.copy_(randn(clf->head->bias.shape(), p, DType::F64));
    for (auto& [n, t] : gpt->named_parameters())
      if (n.find("noise_") != std::string::npos) t.copy_(add(t, mul(randn(t.shape(), p, DType::F64), 0.3)));
  }
  fix_noise(gpt->attention_layers(), B, T, 31);
  return clf;
}

}  // namespace

void register_classifier_gradchecks(std::vector<GradcheckCase>& c) {
  using V = std::vector<Tensor>;
  add_gradcheck(c, "glue/gather_last", [] {
    Tensor last = from_vector<int64_t>({3, 0, 2}, {3});
    return gradcheck([last](const V& x) { return gather_last(x[0], last); }, {gc_input({3, 4, 5}, 41)});
  });
  // Padded batch of 3 (lengths 5, 3, 1), 3 classes, cross-entropy: the whole model's gradient
  // flows only through each row's last real token.
  add_gradcheck(c, "glue/classifier-ce/base", [] {
    const int64_t B = 3, T = 5;
    auto clf = glue_tiny_classifier("base", 3, B, T);
    Tensor idx = from_vector<int64_t>({1, 3, 5, 0, 2, 6, 4, 1, 0, 0, 2, 0, 0, 0, 0}, {B, T});
    Tensor last = from_vector<int64_t>({4, 2, 0}, {B});
    Tensor labels = from_vector<int64_t>({2, 0, 1}, {B});
    return gradcheck([clf, idx, last, labels](const V&) { return clf->task_loss(clf->forward(idx, last), labels); },
                     clf->parameters());
  });
  // Regression (STS-B): one output, MSE, on a noise-v2 GPT with its KL term in the loss.
  add_gradcheck(c, "glue/classifier-mse/noise-v2", [] {
    const int64_t B = 2, T = 4;
    auto clf = glue_tiny_classifier("noise-v2", 1, B, T);
    Tensor idx = from_vector<int64_t>({5, 1, 2, 6, 3, 4, 0, 0}, {B, T});
    Tensor last = from_vector<int64_t>({3, 1}, {B});
    Tensor scores = from_vector<double>({4.2, 0.6}, {B});
    return gradcheck(
        [clf, idx, last, scores](const V&) {
          return add(clf->task_loss(clf->forward(idx, last), scores), clf->regularizer());
        },
        clf->parameters());
  });
}

}  // namespace nf
