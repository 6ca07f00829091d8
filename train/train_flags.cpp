// The run-shaping flags of `noiseformer train` (train/train_flags.h).
#include "train/train_flags.h"
#include "train/config_file.h"

#include "nn/alibi.h"
#include "tensor/device_hooks.h"

namespace nf::cli {

std::vector<CLI::Option*> add_train_flags(CLI::App& app, TrainOptions& o, TrainFlags which) {
  GPTConfig& m = o.model;
  const bool all = which == TrainFlags::kAll;
  std::vector<CLI::Option*> added;
  auto add = [&](CLI::Option* opt) {
    added.push_back(opt);
    return opt;
  };
  if (all) {
    add(app.add_option("--data", o.data_dir, "prepared data directory (train.bin, val.bin, meta.json)"));
    add(app.add_option("--out", o.out_dir, "run directory: ckpt.safetensors, its state, log.jsonl"));
    add(app.add_option("--attention", m.attention, "base|symmetric|noise-v1|noise-v2|diff|shared-diff|selective")
            ->check(CLI::IsMember(attention_names()))
            ->capture_default_str());
  }
  add(app.add_option("--n-layer", m.n_layer, "transformer blocks")->capture_default_str());
  add(app.add_option("--n-head", m.n_head,
                     "attention heads per block; must divide --n-embd (even for diff, shared-diff)")
          ->capture_default_str());
  add(app.add_option("--n-embd", m.n_embd, "embedding width C")->capture_default_str());
  add(app.add_option("--block-size", m.block_size, "context length T, in tokens")->capture_default_str());
  add(app.add_option("--bias", m.bias, "biases in Linear and LayerNorm")->capture_default_str());
  add(app.add_option("--dropout", m.dropout, "dropout probability, in [0, 1)")->capture_default_str());
  add(app.add_option("--kl-weight", m.kl_weight, "noise: weight β of the KL term")->capture_default_str());
  add(app.add_option("--noise-mean", m.noise_mean, "noise: scalar|relpos")
          ->check(CLI::IsMember({"scalar", "relpos"}))->capture_default_str());
  add(app.add_option("--noise-at-eval", m.noise_at_eval, "noise: mean|sample")
          ->check(CLI::IsMember({"mean", "sample"}))->capture_default_str());
  add(app.add_option("--pairwise", m.pairwise, "symmetric: learned per-head diagonal c_h")->capture_default_str());
  add(app.add_option("--lowrank", m.lowrank, "shared-diff: rank r of the branch updates")->capture_default_str());
  add(app.add_option("--selective-mem-weight", m.selective_mem_weight, "selective: ε of the L_mem term (0 = off)")
          ->capture_default_str());
  add(app.add_option("--pos-bias", m.pos_bias,
                     "position bias on the logits: none|alibi (base, symmetric, noise-v1, noise-v2)")
          ->check(CLI::IsMember(pos_bias_names()))->capture_default_str());
  add(app.add_option("--batch-size", o.batch_size, "sequences per micro-batch")->capture_default_str());
  add(app.add_option("--grad-accum", o.grad_accum, "micro-batches per optimizer step")->capture_default_str());
  add(app.add_option("--max-iters", o.max_iters, "optimizer steps (0: write the initial model and stop)")
          ->capture_default_str());
  add(app.add_option("--lr", o.lr, "peak learning rate, reached after the warm-up")->capture_default_str());
  add(app.add_option("--min-lr", o.min_lr, "learning rate at the end of the cosine decay")->capture_default_str());
  add(app.add_option("--warmup-iters", o.warmup_iters, "iterations of linear warm-up (0: start at --lr)")
          ->capture_default_str());
  add(app.add_option("--lr-decay-iters", o.lr_decay_iters, "end of the cosine decay (default: max-iters)"));
  add(app.add_option("--weight-decay", o.weight_decay, "AdamW decay of >= 2-D weights")->capture_default_str());
  add(app.add_option("--beta1", o.beta1, "AdamW β1")->capture_default_str());
  add(app.add_option("--beta2", o.beta2, "AdamW β2")->capture_default_str());
  add(app.add_option("--grad-clip", o.grad_clip, "global-norm clip (0: off)")->capture_default_str());
  add(app.add_option("--eval-interval", o.eval_interval,
                     "iterations between evaluations (val-loss estimate, checkpoint); <= 0: only at the end")
          ->capture_default_str());
  add(app.add_option("--eval-iters", o.eval_iters, "random batches per loss estimate")->capture_default_str());
  add(app.add_option("--log-interval", o.log_interval, "iterations between progress lines")->capture_default_str());
  if (all)
    add(app.add_option("--seed", o.seed, "initial weights, batch order, dropout and noise draws")
            ->capture_default_str());
  add(app.add_option("--optimizer", o.optimizer, "adamw, or sgd (plain w -= lr*g)")
          ->check(CLI::IsMember({"adamw", "sgd"}))->capture_default_str());
  add(app.add_option("--sampling", o.sampling, "batch windows: random starts, or sequential (a fixed sweep)")
          ->check(CLI::IsMember({"random", "sequential"}))->capture_default_str());
  add(add_device_option(app, o.device));
  return added;
}

void add_train_command_flags(CLI::App& app, TrainOptions& o) {
  add_train_flags(app, o);
  app.get_option("--data")->required();
  app.get_option("--out")->required();
  app.add_option("--init", o.init, "start from this checkpoint (its config sets the architecture)");
  app.add_flag("--resume", o.resume, "continue the run in --out exactly where its checkpoint left off");
  app.add_flag("--keep-best", o.keep_best, "write the checkpoint only when val loss improves");
  app.add_flag("--quiet", o.quiet, "no progress lines");
  app.add_option("--bucket-mb", o.bucket_mb,
                 "under mpirun: gradients are summed over the ranks in buckets of about this many MiB")
      ->capture_default_str();
  add_config_option(app);
}

CLI::Option* add_device_option(CLI::App& app, std::string& device) {
  return app.add_option("--device", device, "cpu|cuda; cuda first checks for a usable CUDA device")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      // Not a parse error: the flag is fine, the machine lacks the device. require_cuda's
      // runtime_error passes through CLI11 untouched and main() reports it (status 1).
      ->each([](const std::string& d) {
        if (d == "cuda") require_cuda();
      })
      ->capture_default_str();
}

}  // namespace nf::cli
