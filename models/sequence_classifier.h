#pragma once
// SequenceClassifier: a pre-trained GPT with a task head, as the NoiseFormer paper fine-tunes its
// NanoGPTs on GLUE (docs/glue.md). The head is one Linear C -> K on the final hidden state (the
// final LayerNorm's output) at each sequence's LAST REAL token: with causal attention that is the
// only position that has seen the whole input. K is the task's number of classes, or 1 for a
// regression task (STS-B). Inputs are right-padded, so the padding never reaches the token read.
//
// Parameter names: "gpt.transformer.…" (the GPT's own names under "gpt.") and "head.weight",
// "head.bias".
#include <memory>
#include <vector>

#include "models/gpt.h"
#include "nn/linear.h"

namespace nf {

// Gathers one row per sequence: h (B, T, C), last int64 (B) with 0 <= last[b] < T -> (B, C),
// out[b] = h[b, last[b]]. Differentiable in h (the gradient goes to the gathered rows only).
Tensor gather_last(const Tensor& h, const Tensor& last);

class SequenceClassifier : public Module {
 public:
  // num_outputs: classes (>= 2), or 1 for regression. The head is drawn from gen: weight
  // N(0, 0.02²), bias 0 (the GPT's own Linear initialisation).
  SequenceClassifier(std::shared_ptr<GPT> gpt, int64_t num_outputs, Generator& gen);

  // idx int64 (B, T) right-padded token ids, last int64 (B) the index of each row's last real
  // token -> (B, K) logits, or (B, 1) regression outputs.
  Tensor forward(const Tensor& idx, const Tensor& last);

  // The task loss of forward()'s outputs: mean cross-entropy against int64 class ids (B) when
  // K > 1; mean squared error against float targets (B) when K = 1.
  Tensor task_loss(const Tensor& outputs, const Tensor& targets) const;
  // The attention layers' own terms added to the fine-tuning loss, weighted, as in pre-training
  // (GPT::attention_loss_terms): for noise-v1/v2, kl_weight · mean KL(N(μ,σ²) ‖ N(0,1)) over the
  // noise parameters (NoiseFormer's single global loss). Pretraining-only terms (selective's
  // L_mem, a memory term of language modelling) are left out. Undefined when there are none.
  Tensor regularizer() const;

  // AdamW groups: the GPT's decay / no-decay split, plus head.weight (decay) and head.bias (none).
  std::vector<Tensor> decay_parameters() const;
  std::vector<Tensor> no_decay_parameters() const;

  int64_t num_outputs() const { return num_outputs_; }

  std::shared_ptr<GPT> gpt;
  std::shared_ptr<Linear> head;

 private:
  int64_t num_outputs_;
};

}  // namespace nf
