// `noiseformer train`: flags (or a --config JSON with the same keys) -> TrainOptions -> the loop.
#include <cstdio>

#include "train/cli_config.h"
#include "train/commands.h"
#include "train/trainer.h"

namespace nf::cli {

int cmd_train(int argc, char** argv) {
  TrainOptions o;
  GPTConfig& m = o.model;
  CLI::App app = make_app("train", "Train a GPT on a prepared data directory");
  app.add_option("--data", o.data_dir, "prepared data directory (train.bin, val.bin, meta.json)")->required();
  app.add_option("--out", o.out_dir, "run directory: ckpt.safetensors, its state, log.jsonl")->required();
  app.add_option("--init", o.init, "start from this checkpoint (its config sets the architecture)");
  app.add_flag("--resume", o.resume, "continue the run in --out exactly where its checkpoint left off");
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
  app.add_flag("--keep-best", o.keep_best, "write the checkpoint only when val loss improves");
  app.add_flag("--quiet", o.quiet, "no progress lines");
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  o.model.validate();
  TrainResult r = run_training(o);
  if (o.max_iters > 0 && !o.quiet)
    std::fprintf(stderr, "done: %lld iterations, train loss %.4f, val loss %.4f, %.0f tok/s\n",
                 static_cast<long long>(r.iterations), r.final_train_loss, r.final_val_loss, r.tokens_per_second);
  return 0;
}

}  // namespace nf::cli
