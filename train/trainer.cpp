#include "train/trainer.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "tensor/device_hooks.h"
#include "train/eval_scope.h"
#include "train/step.h"
#include "train/train_state.h"
#include "optim/optim.h"
#include "data/tokenizer.h"

namespace nf {
namespace fs = std::filesystem;

namespace {

Tensor to_tensor(const std::vector<int64_t>& v, int64_t B, int64_t T) { return from_vector(v, {B, T}); }

std::string format_eta(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  return buf;
}

}  // namespace

double estimate_loss(GPT& model, const TokenData& data, int64_t batch_size, int64_t iters, uint64_t seed) {
  EvalScope scope(model);
  const int64_t T = model.config().block_size;
  BatchSampler sampler(data, batch_size, T, Sampling::Random, seed);
  std::vector<int64_t> x, y;
  double total = 0;
  for (int64_t i = 0; i < iters; ++i) {
    sampler.next(x, y);
    total += model.forward(to_tensor(x, batch_size, T), to_tensor(y, batch_size, T)).ce.item();
  }
  return total / static_cast<double>(std::max<int64_t>(iters, 1));
}

EvalResult evaluate_windows(GPT& model, const TokenData& data, int64_t batch_size) {
  const int64_t T = model.config().block_size;
  std::vector<int64_t> starts = eval_windows(data.size(), T);
  if (starts.empty())
    throw std::runtime_error(data.name() + ": " + std::to_string(data.size()) + " tokens, fewer than block_size+1 = " +
                             std::to_string(T + 1));
  return evaluate_windows_at(model, data, starts, batch_size);
}

EvalResult evaluate_windows_at(GPT& model, const TokenData& data, const std::vector<int64_t>& starts,
                               int64_t batch_size) {
  EvalScope scope(model);
  const int64_t T = model.config().block_size;
  double weighted = 0;
  for (size_t i = 0; i < starts.size(); i += batch_size) {
    const int64_t B = std::min<int64_t>(batch_size, static_cast<int64_t>(starts.size() - i));
    std::vector<int64_t> x(B * T), y(B * T);
    for (int64_t b = 0; b < B; ++b) fill_window(data, starts[i + b], T, x.data() + b * T, y.data() + b * T);
    // Each batch's mean over B·T targets, weighted by its B·T: every target counts equally.
    weighted += model.forward(to_tensor(x, B, T), to_tensor(y, B, T)).ce.item() * static_cast<double>(B * T);
  }
  EvalResult r;
  r.tokens = static_cast<int64_t>(starts.size()) * T;
  r.loss = weighted / static_cast<double>(r.tokens);
  return r;
}

TrainResult run_training(const TrainOptions& opt) {
  if (opt.device == "cuda") require_cuda();
  else if (opt.device != "cpu") throw std::invalid_argument("--device must be cpu or cuda, got '" + opt.device + "'");
  if (opt.max_iters < 0) throw std::invalid_argument("--max-iters must be >= 0");
  if (opt.batch_size < 1 || opt.grad_accum < 1) throw std::invalid_argument("--batch-size and --grad-accum must be >= 1");
  if (opt.optimizer != "adamw" && opt.optimizer != "sgd") throw std::invalid_argument("--optimizer must be adamw or sgd");

  // ---- data and tokenizer ----
  const fs::path data_dir(opt.data_dir), out_dir(opt.out_dir);
  const fs::path meta_path = data_dir / "meta.json";
  if (!fs::exists(meta_path)) throw std::runtime_error(meta_path.string() + ": missing (run `noiseformer prepare` first)");
  auto tokenizer = load_tokenizer(meta_path.string());
  const std::string tokenizer_meta = tokenizer->to_meta_json().dump();
  const int vocab = tokenizer->vocab_size();
  TokenData train_data = TokenData::load((data_dir / "train.bin").string(), vocab);
  TokenData val_data = TokenData::load((data_dir / "val.bin").string(), vocab);

  // ---- model ----
  fs::create_directories(out_dir);
  const std::string ckpt = (out_dir / "ckpt.safetensors").string();
  std::unique_ptr<GPT> model;
  if (opt.resume) {
    model = std::move(load_model(ckpt).model);
  } else if (!opt.init.empty()) {
    model = std::move(load_model(opt.init).model);
  } else {
    GPTConfig cfg = opt.model;
    cfg.vocab_size = vocab;
    model = std::make_unique<GPT>(cfg, opt.seed);
  }
  // A fresh run (also from --init) draws its dropout masks and noise from --seed.
  if (!opt.resume) model->rng.manual_seed(opt.seed ^ 0x5eedULL);
  const GPTConfig& cfg = model->config();
  if (cfg.vocab_size != vocab)
    throw std::runtime_error("checkpoint vocab_size " + std::to_string(cfg.vocab_size) + " does not match " +
                             meta_path.string() + " (" + std::to_string(vocab) + ")");
  // val.bin is otherwise first cut into windows at the first evaluation: a val split shorter than
  // one block would fail only after eval_interval iterations, with log.jsonl already written.
  // Check it now, before any file of the run is touched (train.bin is checked by its sampler below).
  if (val_data.size() < static_cast<size_t>(cfg.block_size) + 1)
    throw std::runtime_error(val_data.name() + ": " + std::to_string(val_data.size()) +
                             " tokens, fewer than block_size+1 = " + std::to_string(cfg.block_size + 1));
  model->train();

  std::unique_ptr<Optimizer> optimizer;
  if (opt.optimizer == "adamw")
    optimizer = std::make_unique<AdamW>(std::vector<ParamGroup>{{model->decay_parameters(), opt.weight_decay},
                                                                {model->no_decay_parameters(), 0.0}},
                                        opt.beta1, opt.beta2);
  else
    optimizer = std::make_unique<SGD>(std::vector<ParamGroup>{{model->parameters(), 0.0}});

  BatchSampler sampler(train_data, opt.batch_size, cfg.block_size, parse_sampling(opt.sampling), opt.seed);
  TrainState state;
  if (opt.resume) {
    state = load_train_state(state_path_for(ckpt), *model, *optimizer);
    sampler.set_state(state.sampler);
    model->rng.set_state(state.rng_seed, state.rng_counter);
  }

  // ---- files ----
  {
    std::ofstream meta_out(out_dir / "meta.json");
    meta_out << tokenizer_meta << "\n";
  }
  std::ofstream log(out_dir / "log.jsonl", opt.resume ? std::ios::app : std::ios::trunc);
  auto save_all = [&](int64_t next_iter) {
    state.next_iter = next_iter;
    state.sampler = sampler.state();
    state.rng_seed = model->rng.seed();
    state.rng_counter = model->rng.counter();
    save_model(ckpt, *model, tokenizer_meta);
    save_train_state(state_path_for(ckpt), *model, *optimizer, state);
  };

  TrainResult result;
  if (opt.max_iters == 0) {
    // With --resume, keep the run's position: save_all(0) used to reset next_iter to 0, so a
    // later --resume restarted from iteration 0 with the optimizer moments of a later step.
    save_all(state.next_iter);
    return result;
  }
  if (!opt.quiet)
    std::cerr << "noiseformer train: " << cfg.attention << ", " << model->num_parameters() << " parameters, "
              << cfg.n_layer << "x" << cfg.n_embd << ", T=" << cfg.block_size << ", B=" << opt.batch_size
              << (opt.grad_accum > 1 ? "x" + std::to_string(opt.grad_accum) : "") << ", kl_weight="
              << (is_noise(cfg.kind()) ? std::to_string(cfg.kl_weight) : "-") << "\n";

  const int64_t decay_iters = opt.lr_decay_iters < 0 ? opt.max_iters : opt.lr_decay_iters;
  const int64_t T = cfg.block_size, B = opt.batch_size;
  std::vector<int64_t> x, y;
  const auto t_start = std::chrono::steady_clock::now();
  int64_t tokens_done = 0;
  for (int64_t it = state.next_iter; it < opt.max_iters; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    const double lr = learning_rate(it, opt.lr, opt.min_lr, opt.warmup_iters, decay_iters);
    double loss_sum = 0, kl = 0;
    train_step(*model, *optimizer, {opt.grad_accum, opt.grad_clip, lr}, [&](int64_t) {
      sampler.next(x, y);
      GPTOutput out = model->forward(to_tensor(x, B, T), to_tensor(y, B, T));
      loss_sum += out.loss.item();
      if (Tensor kl_term = out.term("kl"); kl_term.defined()) kl += kl_term.item() / static_cast<double>(opt.grad_accum);
      return out.loss;
    });
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const double loss = loss_sum / static_cast<double>(opt.grad_accum);
    const double tok_s = static_cast<double>(B * T * opt.grad_accum) / (ms / 1000.0);
    tokens_done += B * T * opt.grad_accum;
    nlohmann::json line{{"iter", it}, {"loss", loss}, {"lr", lr}, {"ms", ms}, {"tok_per_s", tok_s}};
    if (is_noise(cfg.kind())) line["kl"] = kl;
    log << line.dump() << "\n";
    if (!std::isfinite(loss)) throw std::runtime_error("training diverged: loss is " + std::to_string(loss) + " at iteration " + std::to_string(it));
    result.final_train_loss = loss;
    result.iterations = it + 1;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    result.tokens_per_second = static_cast<double>(tokens_done) / elapsed;
    if (!opt.quiet && (it % opt.log_interval == 0 || it + 1 == opt.max_iters)) {
      const double per_iter = elapsed / static_cast<double>(it + 1 - state.next_iter);
      std::fprintf(stderr, "iter %6lld/%lld  loss %.4f  lr %.2e  %7.0f tok/s  %6.1f ms/it  ETA %s\n",
                   static_cast<long long>(it), static_cast<long long>(opt.max_iters), loss, lr,
                   result.tokens_per_second, ms, format_eta(per_iter * static_cast<double>(opt.max_iters - it - 1)).c_str());
    }
    const bool last = it + 1 == opt.max_iters;
    if ((opt.eval_interval > 0 && (it + 1) % opt.eval_interval == 0) || last) {
      const double tl = estimate_loss(*model, train_data, B, opt.eval_iters, opt.seed + 1);
      const double vl = estimate_loss(*model, val_data, B, opt.eval_iters, opt.seed + 2);
      log << nlohmann::json{{"iter", it}, {"train_loss", tl}, {"val_loss", vl}}.dump() << "\n";
      log.flush();
      result.final_val_loss = vl;
      if (!opt.quiet) std::fprintf(stderr, "eval  iter %lld: train %.4f  val %.4f\n", static_cast<long long>(it), tl, vl);
      if (!opt.keep_best || vl < state.best_val) {
        state.best_val = std::min(state.best_val, vl);
        save_all(it + 1);
      }
    }
  }
  return result;
}

}  // namespace nf
