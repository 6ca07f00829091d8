// The run-shaping flags of `noiseformer train` (train/train_flags.h).
#include "train/train_flags.h"

namespace nf::cli {

void add_train_flags(CLI::App& app, TrainOptions& o) {
  GPTConfig& m = o.model;
  app.add_option("--data", o.data_dir, "prepared data directory (train.bin, val.bin, meta.json)");
  app.add_option("--out", o.out_dir, "run directory: ckpt.safetensors, its state, log.jsonl");
  app.add_option("--attention", m.attention, "base|symmetric|noise-v1|noise-v2|diff|shared-diff|selective")
      ->check(CLI::IsMember({"base", "symmetric", "noise-v1", "noise-v2", "diff", "shared-diff", "selective"}))
      ->capture_default_str();
  app.add_option("--n-layer", m.n_layer)->capture_default_str();
  app.add_option("--n-head", m.n_head)->capture_default_str();
  app.add_option("--n-embd", m.n_embd)->capture_default_str();
  app.add_option("--block-size", m.block_size)->capture_default_str();
  app.add_option("--bias", m.bias, "biases in Linear and LayerNorm")->capture_default_str();
  app.add_option("--dropout", m.dropout)->capture_default_str();
  app.add_option("--kl-weight", m.kl_weight, "noise: weight β of the KL term")->capture_default_str();
  app.add_option("--noise-mean", m.noise_mean, "noise: scalar|relpos")->check(CLI::IsMember({"scalar", "relpos"}))->capture_default_str();
  app.add_option("--noise-at-eval", m.noise_at_eval, "noise: mean|sample")->check(CLI::IsMember({"mean", "sample"}))->capture_default_str();
  app.add_option("--pairwise", m.pairwise, "symmetric: learned per-head diagonal c_h")->capture_default_str();
  app.add_option("--lowrank", m.lowrank, "shared-diff: rank r of the branch updates")->capture_default_str();
  app.add_option("--selective-mem-weight", m.selective_mem_weight, "selective: ε of the L_mem term (0 = off)")->capture_default_str();
  app.add_option("--batch-size", o.batch_size)->capture_default_str();
  app.add_option("--grad-accum", o.grad_accum, "micro-batches per optimizer step")->capture_default_str();
  app.add_option("--max-iters", o.max_iters, "optimizer steps (0: write the initial model and stop)")->capture_default_str();
  app.add_option("--lr", o.lr)->capture_default_str();
  app.add_option("--min-lr", o.min_lr)->capture_default_str();
  app.add_option("--warmup-iters", o.warmup_iters)->capture_default_str();
  app.add_option("--lr-decay-iters", o.lr_decay_iters, "end of the cosine decay (default: max-iters)");
  app.add_option("--weight-decay", o.weight_decay)->capture_default_str();
  app.add_option("--beta1", o.beta1)->capture_default_str();
  app.add_option("--beta2", o.beta2)->capture_default_str();
  app.add_option("--grad-clip", o.grad_clip, "global-norm clip (0: off)")->capture_default_str();
  app.add_option("--eval-interval", o.eval_interval)->capture_default_str();
  app.add_option("--eval-iters", o.eval_iters)->capture_default_str();
  app.add_option("--log-interval", o.log_interval, "iterations between progress lines")->capture_default_str();
  app.add_option("--seed", o.seed)->capture_default_str();
  app.add_option("--optimizer", o.optimizer)->check(CLI::IsMember({"adamw", "sgd"}))->capture_default_str();
  app.add_option("--sampling", o.sampling)->check(CLI::IsMember({"random", "sequential"}))->capture_default_str();
  app.add_option("--device", o.device)->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
}

}  // namespace nf::cli
