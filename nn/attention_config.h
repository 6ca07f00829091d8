#pragma once
// What an attention layer is built from: its size and which variant it is, with the variant's
// own options. GPTConfig (models/gpt_config.h) is an AttentionConfig plus the vocabulary, so one
// config file describes the whole model; the attention layers see only this part.
#include <cstdint>
#include <string>
#include <vector>

namespace nf {

// The attention variants (docs/gpt.md, docs/noiseformer.md, docs/diff.md, docs/selective.md).
enum class AttentionKind { Base, Symmetric, NoiseV1, NoiseV2, Diff, SharedDiff, Selective };

// Every kind, in this order.
const std::vector<AttentionKind>& all_attention_kinds();
// The name configs, checkpoints and the command line use: "base", "symmetric", "noise-v1",
// "noise-v2", "diff", "shared-diff", "selective".
const std::string& attention_name(AttentionKind kind);
// Every kind's name, in the order of all_attention_kinds().
const std::vector<std::string>& attention_names();
// The kind called `name`; std::invalid_argument "unknown attention '…' (base|…|selective)" if none.
AttentionKind parse_attention(const std::string& name);

// NoiseFormer's learnable score noise with its KL term (noise-v1, noise-v2).
bool is_noise(AttentionKind kind);
// Differential attention: n_head/2 heads of two softmax branches (diff, shared-diff).
bool is_diff(AttentionKind kind);

// Whether the variant takes a position bias (pos_bias other than "none"): base, symmetric,
// noise-v1 and noise-v2, whose logits are one matrix per head; not DIFF's two branches nor
// selective attention, whose mask is the recency effect a position bias would be a control for.
bool takes_pos_bias(AttentionKind kind);

struct AttentionConfig {
  // n_layer: the depth of the model the layer sits in. GPT-2 scales the initial weights of each
  // residual projection by 1/√(2·n_layer) so the residual stream's variance does not grow with
  // depth; DIFF's λ_init depends on the layer's index among them.
  int64_t n_layer = 6, n_head = 6, n_embd = 384, block_size = 256;
  bool bias = true;
  double dropout = 0.0;
  // The variant's name (attention_name), as config files and checkpoints spell it.
  std::string attention = "base";
  double kl_weight = 1e-3;            // noise: β of the KL term
  std::string noise_mean = "scalar";  // noise: scalar | relpos
  std::string noise_at_eval = "mean"; // noise: mean | sample
  int64_t lowrank = 8;                // shared-diff: rank r
  bool pairwise = false;              // symmetric: learned per-head diagonal c_h
  double selective_mem_weight = 0.0;  // selective: ε of the optional L_mem term
  // A fixed bias on the logits by position (nn/alibi.h): "none" | "alibi"; base, symmetric and
  // the noise variants only.
  std::string pos_bias = "none";

  // The variant `attention` names (throws for an unknown name, as parse_attention).
  AttentionKind kind() const { return parse_attention(attention); }
};

// "" if cfg's pos_bias is known and its attention takes it; otherwise the one-line reason, e.g.
// "pos_bias alibi is for base, symmetric, noise-v1 and noise-v2, not selective".
std::string pos_bias_problem(const AttentionConfig& cfg);

}  // namespace nf
