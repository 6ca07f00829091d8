#include "train/trainer.h"

#include <signal.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <stdexcept>

#include "dist/collective.h"
#include "dist/grad_reducer.h"
#include "dist/world.h"
#include "tensor/device_hooks.h"
#include "train/draw_plan.h"
#include "train/eval_scope.h"
#include "train/noise_log.h"
#include "train/step.h"
#include "train/train_state.h"
#include "optim/optim.h"
#include "data/tokenizer.h"
#include "io/file.h"

namespace nf {
namespace fs = std::filesystem;

namespace {

// A batch of token ids (B, T), on the device the model lives on.
Tensor to_tensor(const std::vector<int64_t>& v, int64_t B, int64_t T, Device device) {
  return from_vector(v, {B, T}).to(device);
}

std::string cli_name(std::string key) {
  for (char& c : key)
    if (c == '_') c = '-';
  return key;
}

// SIGINT / SIGTERM while training: the handler only raises a flag; the loop notices it after the
// current step, saves, and stops. A second signal ends the process at once (the files on disk
// are still whole: every write is atomic).
volatile std::sig_atomic_t g_stop_signal = 0;
extern "C" void on_stop_signal(int sig) {
  if (g_stop_signal != 0) {
    std::signal(sig, SIG_DFL);
    std::raise(sig);
  }
  g_stop_signal = sig;
}
// Installs the handler for the life of a run and puts the previous ones back.
struct StopSignals {
  struct sigaction old_int {}, old_term {};
  StopSignals() {
    g_stop_signal = 0;
    struct sigaction sa {};
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
  }
  ~StopSignals() {
    sigaction(SIGINT, &old_int, nullptr);
    sigaction(SIGTERM, &old_term, nullptr);
  }
};

// log.jsonl cut back to the lines of iterations before `next_iter` (a resumed run writes the
// rest again) and to whole lines (a kill can leave half of one).
void truncate_log(const fs::path& path, int64_t next_iter) {
  if (!fs::exists(path)) return;
  const std::string text = read_file(path.string());
  std::string kept;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) break;  // an unfinished last line
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      if (j.at("iter").get<int64_t>() < next_iter) kept += line + "\n";
    } catch (const nlohmann::json::exception&) {
      // a damaged line is dropped with the rest of what the run will write again
    }
  }
  write_file_atomic(path.string(), kept);
}

// Settings a resumed run may change without leaving the original run's trajectory: when to stop,
// evaluate and print, where the data is read from and on which device.
bool changeable_on_resume(const std::string& key) {
  return key == "max_iters" || key == "eval_interval" || key == "eval_iters" || key == "data" || key == "device";
}

void set_setting(TrainOptions& o, const std::string& k, const nlohmann::json& v) {
  if (k == "data") o.data_dir = v.get<std::string>();
  else if (k == "batch_size") o.batch_size = v.get<int64_t>();
  else if (k == "grad_accum") o.grad_accum = v.get<int64_t>();
  else if (k == "max_iters") o.max_iters = v.get<int64_t>();
  else if (k == "lr") o.lr = v.get<double>();
  else if (k == "min_lr") o.min_lr = v.get<double>();
  else if (k == "warmup_iters") o.warmup_iters = v.get<int64_t>();
  else if (k == "lr_decay_iters") o.lr_decay_iters = v.get<int64_t>();
  else if (k == "weight_decay") o.weight_decay = v.get<double>();
  else if (k == "beta1") o.beta1 = v.get<double>();
  else if (k == "beta2") o.beta2 = v.get<double>();
  else if (k == "grad_clip") o.grad_clip = v.get<double>();
  else if (k == "eval_interval") o.eval_interval = v.get<int64_t>();
  else if (k == "eval_iters") o.eval_iters = v.get<int64_t>();
  else if (k == "seed") o.seed = v.get<uint64_t>();
  else if (k == "optimizer") o.optimizer = v.get<std::string>();
  else if (k == "sampling") o.sampling = v.get<std::string>();
  else if (k == "device") o.device = v.get<std::string>();
}

// --resume: the run's stored settings replace the ones not given; a given one that differs is
// applied with a notice when changeable_on_resume, refused otherwise (it would not continue the
// same run). The architecture is the checkpoint's: a model flag that differs is refused too.
//
// Data parallel over W ranks, the stored grad_accum is the run's micro-batches per step over all
// ranks: a resumed run may use any number of ranks that divides it (each then takes its share),
// and a given --grad-accum must make the same total with this W.
void restore_settings(TrainOptions& o, const nlohmann::json& stored, const std::string& state_path, int W) {
  const nlohmann::json mine = train_settings_json(o, W);
  auto refuse = [&](const std::string& key, const nlohmann::json& given, const nlohmann::json& run) {
    throw std::invalid_argument("--" + cli_name(key) + " " + given.dump() + " differs from the run's " + run.dump() +
                                " (" + state_path + "); a resumed run keeps it: omit the flag, or start a new run");
  };
  for (auto it = stored.begin(); it != stored.end(); ++it) {
    const std::string& key = it.key();
    if (key == "model") {
      // Both sides with the defaults train_settings_json leaves out put back.
      nlohmann::json mine_model = mine.at("model"), run_model = it.value();
      for (nlohmann::json* m : {&mine_model, &run_model})
        if (!m->contains("pos_bias")) (*m)["pos_bias"] = "none";
      for (auto m = run_model.begin(); m != run_model.end(); ++m)
        if (o.given.count(m.key()) && mine_model.contains(m.key()) && mine_model.at(m.key()) != m.value())
          refuse(m.key(), mine_model.at(m.key()), m.value());
      continue;
    }
    if (key == "grad_accum" && !o.given.count(key) && W > 1) {
      const int64_t total = it.value().get<int64_t>();
      if (total % W != 0)
        throw std::invalid_argument("the run in " + state_path + " takes " + std::to_string(total) +
                                    " micro-batches per step, which " + std::to_string(W) +
                                    " ranks cannot share equally: launch a number of ranks that divides it");
      o.grad_accum = total / W;
      continue;
    }
    if (!o.given.count(key)) {
      set_setting(o, key, it.value());
    } else if (mine.contains(key) && mine.at(key) != it.value()) {
      if (key == "grad_accum" && W > 1)
        throw std::invalid_argument("--grad-accum " + std::to_string(o.grad_accum) + " on " + std::to_string(W) +
                                    " ranks makes " + mine.at(key).dump() + " micro-batches per step, the run takes " +
                                    it.value().dump() + " (" + state_path + "); omit the flag, or start a new run");
      if (!changeable_on_resume(key)) refuse(key, mine.at(key), it.value());
      if (!o.quiet)
        std::fprintf(stderr, "noiseformer train: --resume with --%s %s (the run had %s)\n", cli_name(key).c_str(),
                     mine.at(key).dump().c_str(), it.value().dump().c_str());
    }
  }
  // The cosine schedule decays over the run's original length unless told otherwise, so a run
  // extended with a larger --max-iters continues the same curve (then stays at min_lr).
  if (o.given.count("max_iters") && !o.given.count("lr_decay_iters") && stored.value("lr_decay_iters", int64_t(0)) < 0)
    o.lr_decay_iters = stored.at("max_iters").get<int64_t>();
}

std::string format_eta(double seconds) {
  char buf[32];
  const int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%dh%02dm", s / 3600, s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%dm%02ds", s / 60, s % 60);
  return buf;
}

}  // namespace

void TrainOptions::validate() const {
  auto bad = [](const std::string& m) { throw std::invalid_argument(m); };
  auto finite_at_least = [&](const char* flag, double v, double lo) {
    if (!std::isfinite(v) || v < lo) bad(std::string(flag) + " must be a finite number >= " + nlohmann::json(lo).dump() + ", got " + std::to_string(v));
  };
  auto in_unit = [&](const char* flag, double v) {  // [0, 1)
    if (!(v >= 0 && v < 1)) bad(std::string(flag) + " must be in [0, 1), got " + std::to_string(v));
  };
  if (device != "cpu" && device != "cuda") bad("--device must be cpu or cuda, got '" + device + "'");
  if (max_iters < 0) bad("--max-iters must be >= 0");
  if (batch_size < 1 || batch_size > (1 << 20)) bad("--batch-size must be in [1, 1048576]");
  if (grad_accum < 1 || grad_accum > (1 << 16)) bad("--grad-accum must be in [1, 65536]");
  finite_at_least("--lr", lr, 0);
  finite_at_least("--min-lr", min_lr, 0);
  finite_at_least("--weight-decay", weight_decay, 0);
  finite_at_least("--grad-clip", grad_clip, 0);
  in_unit("--beta1", beta1);
  in_unit("--beta2", beta2);
  if (warmup_iters < 0) bad("--warmup-iters must be >= 0");
  if (lr_decay_iters < -1) bad("--lr-decay-iters must be >= 0 (or -1: --max-iters)");
  if (eval_interval < 0) bad("--eval-interval must be >= 0 (0: evaluate only at the end)");
  if (eval_iters < 1) bad("--eval-iters must be >= 1");
  if (log_interval < 1) bad("--log-interval must be >= 1");
  if (!(bucket_mb > 0 && bucket_mb <= 1024)) bad("--bucket-mb must be in (0, 1024], got " + std::to_string(bucket_mb));
  if (optimizer != "adamw" && optimizer != "sgd") bad("--optimizer must be adamw or sgd");
  parse_sampling(sampling);
}

nlohmann::json train_settings_json(const TrainOptions& o, int world_size) {
  std::error_code ec;
  fs::path data = fs::weakly_canonical(fs::path(o.data_dir), ec);
  if (ec) data = fs::absolute(o.data_dir);
  nlohmann::json m = o.model.to_json();
  m.erase("vocab_size");  // taken from the data's meta.json at training time
  // The default is left out, so runs stored before the key existed (training states, compare's
  // settings.json and summary.json) still match the same settings given today.
  if (o.model.pos_bias == "none") m.erase("pos_bias");
  return {{"data", data.string()},  {"model", m},
          {"batch_size", o.batch_size}, {"grad_accum", o.grad_accum * world_size}, {"max_iters", o.max_iters},
          {"lr", o.lr},                 {"min_lr", o.min_lr},         {"warmup_iters", o.warmup_iters},
          {"lr_decay_iters", o.lr_decay_iters}, {"weight_decay", o.weight_decay}, {"beta1", o.beta1},
          {"beta2", o.beta2},           {"grad_clip", o.grad_clip},   {"eval_interval", o.eval_interval},
          {"eval_iters", o.eval_iters}, {"seed", o.seed},             {"optimizer", o.optimizer},
          {"sampling", o.sampling},     {"device", o.device}};
}

double estimate_loss(GPT& model, const TokenData& data, int64_t batch_size, int64_t iters, uint64_t seed) {
  EvalScope scope(model);
  const int64_t T = model.config().block_size;
  const Device dev = model.device();
  BatchSampler sampler(data, batch_size, T, Sampling::Random, seed);
  std::vector<int64_t> x, y;
  double total = 0;
  for (int64_t i = 0; i < iters; ++i) {
    sampler.next(x, y);
    total += model.forward(to_tensor(x, batch_size, T, dev), to_tensor(y, batch_size, T, dev)).ce.item();
  }
  return total / static_cast<double>(std::max<int64_t>(iters, 1));
}

double estimate_loss(GPT& model, const TokenData& data, int64_t batch_size, int64_t iters, uint64_t seed,
                     Communicator& comm, DrawPlan& draws) {
  EvalScope scope(model);
  const int64_t T = model.config().block_size;
  const Device dev = model.device();
  BatchSampler sampler(data, batch_size, T, Sampling::Random, seed);
  std::vector<int64_t> x, y;
  // Batch i is evaluated by rank i mod W, its random draws (noise at eval = sample) starting
  // where one process's would; the others skip it. Slot i holds its loss on every rank after the sum.
  std::vector<double> slots(static_cast<size_t>(iters), 0.0);
  const uint64_t c0 = model.rng.counter(), rng_seed = model.rng.seed();
  for (int64_t i = 0; i < iters; ++i) {
    if (i % comm.size() != comm.rank()) {
      sampler.skip();
      continue;
    }
    sampler.next(x, y);
    const uint64_t from = draws.start(c0, i);
    model.rng.set_state(rng_seed, from);
    slots[static_cast<size_t>(i)] = model.forward(to_tensor(x, batch_size, T, dev), to_tensor(y, batch_size, T, dev)).ce.item();
    draws.check(from, model.rng.counter());
  }
  comm.allreduce_sum(slots.data(), slots.size());
  model.rng.set_state(rng_seed, draws.start(c0, iters));
  double total = 0;
  for (double l : slots) total += l;  // in batch order, as one process adds them
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
  const Device dev = model.device();
  double weighted = 0;
  for (size_t i = 0; i < starts.size(); i += batch_size) {
    const int64_t B = std::min<int64_t>(batch_size, static_cast<int64_t>(starts.size() - i));
    std::vector<int64_t> x(B * T), y(B * T);
    for (int64_t b = 0; b < B; ++b) fill_window(data, starts[i + b], T, x.data() + b * T, y.data() + b * T);
    // Each batch's mean over B·T targets, weighted by its B·T: every target counts equally.
    weighted += model.forward(to_tensor(x, B, T, dev), to_tensor(y, B, T, dev)).ce.item() * static_cast<double>(B * T);
  }
  EvalResult r;
  r.tokens = static_cast<int64_t>(starts.size()) * T;
  r.loss = weighted / static_cast<double>(r.tokens);
  return r;
}

TrainResult run_training(const TrainOptions& options) {
  SoloCommunicator solo;
  return run_training(options, solo);
}

namespace {

// A 64-bit fingerprint of every parameter's bytes: ranks compare theirs to prove they hold the
// same weights (at the start, and at each save).
uint64_t weights_fingerprint(const GPT& model) {
  uint64_t h = 0x9E3779B97F4A7C15ULL;
  for (const auto& [name, t] : model.named_parameters()) {
    const std::vector<float> v = t.to_vector<float>();
    for (float f : v) {
      uint32_t bits;
      std::memcpy(&bits, &f, sizeof bits);
      h = splitmix64_mix(h ^ bits);
    }
  }
  return h;
}

uint64_t tokens_fingerprint(const TokenData& data) {
  uint64_t h = data.size();
  for (size_t i = 0; i < data.size(); ++i) h = splitmix64_mix(h ^ data[i]);
  return h;
}

// Collective: throws on every rank unless every rank's `text` equals rank 0's. `what` names it.
void require_same_on_every_rank(Communicator& comm, const std::string& text, const std::string& what) {
  if (comm.size() == 1) return;
  std::string root = text;
  comm.broadcast(root, 0);
  std::exception_ptr failure;
  if (root != text)
    failure = std::make_exception_ptr(std::runtime_error(what + " differ from rank 0's"));
  agree(comm, failure);
}

}  // namespace

TrainResult run_training(const TrainOptions& options, Communicator& comm) {
  TrainOptions opt = options;
  const int W = comm.size();
  const bool lead = comm.rank() == 0;  // the rank that prints and writes every file
  if (!lead) opt.quiet = true;
  const fs::path out_dir(opt.out_dir);
  const std::string ckpt = (out_dir / "ckpt.safetensors").string();
  const std::string state_path = state_path_for(ckpt);

  // ---- set-up, on every rank: state, settings, data, model, optimizer -------------------------
  // Each rank reads the same files; a failure on any of them stops all of them (dist/collective.h).
  std::unique_ptr<ResumePoint> resume;
  std::string tokenizer_meta;
  TokenData train_data, val_data;
  std::unique_ptr<GPT> model;
  std::unique_ptr<Optimizer> optimizer;
  std::unique_ptr<BatchSampler> sampler;
  TrainState state;
  Device device = Device::CPU;
  std::exception_ptr setup_failure;
  try {
    // A resumed run starts from its state file: settings, model, counters.
    if (opt.resume) {
      if (!fs::exists(state_path))
        throw std::runtime_error(state_path + ": missing: nothing to resume in " + out_dir.string());
      resume = std::make_unique<ResumePoint>(read_train_state(state_path));
      restore_settings(opt, resume->state.settings, state_path, W);
    }
    opt.validate();
    // A new model's config is checked before any file is read (the vocabulary is set later).
    if (!resume && opt.init.empty()) opt.model.validate();
    device = device_named(opt.device);

    // ---- data and tokenizer ----
    const fs::path data_dir(opt.data_dir);
    const fs::path meta_path = data_dir / "meta.json";
    if (!fs::exists(meta_path)) throw std::runtime_error(meta_path.string() + ": missing (run `noiseformer prepare` first)");
    auto tokenizer = load_tokenizer(meta_path.string());
    tokenizer_meta = tokenizer->to_meta_json().dump();
    const int vocab = tokenizer->vocab_size();
    train_data = TokenData::load((data_dir / "train.bin").string(), vocab);
    val_data = TokenData::load((data_dir / "val.bin").string(), vocab);

    // ---- model ----
    if (resume) {
      model = std::move(resume->model);
    } else if (!opt.init.empty()) {
      model = std::move(load_model(opt.init).model);
    } else {
      GPTConfig cfg = opt.model;
      cfg.vocab_size = vocab;
      cfg.validate();
      model = std::make_unique<GPT>(cfg, opt.seed);
    }
    // A fresh run (also from --init) draws its dropout masks and noise from --seed.
    if (!resume) model->rng.manual_seed(opt.seed ^ 0x5eedULL);
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
    // The model, and so every tensor of the run, lives on --device from here on: the optimizer's
    // moments are made beside the parameters, batches are moved there, checkpoints read back.
    model->to(device);

    if (opt.optimizer == "adamw")
      optimizer = std::make_unique<AdamW>(std::vector<ParamGroup>{{model->decay_parameters(), opt.weight_decay},
                                                                  {model->no_decay_parameters(), 0.0}},
                                          opt.beta1, opt.beta2);
    else
      optimizer = std::make_unique<SGD>(std::vector<ParamGroup>{{model->parameters(), 0.0}});

    sampler = std::make_unique<BatchSampler>(train_data, opt.batch_size, cfg.block_size,
                                             parse_sampling(opt.sampling), opt.seed);
    if (resume) {
      resume->model = std::move(model);  // restore_optimizer names the moments by this model's parameters
      restore_optimizer(*resume, *optimizer);
      model = std::move(resume->model);
      state = resume->state;
      sampler->set_state(state.sampler);
      model->rng.set_state(state.rng_seed, state.rng_counter);
    }
    state.settings = train_settings_json(opt, W);
  } catch (...) {
    setup_failure = std::current_exception();
  }
  agree(comm, setup_failure);
  const GPTConfig& cfg = model->config();
  // Data parallel: every rank must run the same run from the same weights and counters.
  if (W > 1) {
    nlohmann::json same = state.settings;
    same.erase("data");  // the path may differ between machines; the tokens are compared below
    std::string root = same.dump();
    comm.broadcast(root, 0);
    std::exception_ptr differs;
    const nlohmann::json theirs = nlohmann::json::parse(root);
    for (auto it = same.begin(); it != same.end() && !differs; ++it)
      if (!theirs.contains(it.key()) || theirs.at(it.key()) != it.value())
        differs = std::make_exception_ptr(std::invalid_argument(
            "the settings differ from rank 0's: --" + cli_name(it.key()) + " " + it.value().dump() + " here, " +
            (theirs.contains(it.key()) ? theirs.at(it.key()).dump() : std::string("none")) + " on rank 0"));
    agree(comm, differs);
    require_same_on_every_rank(comm,
                               std::to_string(tokens_fingerprint(train_data)) + " " +
                                   std::to_string(tokens_fingerprint(val_data)),
                               "the tokens of this rank's train.bin or val.bin");
    require_same_on_every_rank(comm,
                               std::to_string(weights_fingerprint(*model)) + " " + std::to_string(state.next_iter) +
                                   " " + std::to_string(model->rng.counter()) + " " +
                                   std::to_string(state.sampler[0]) + " " + std::to_string(state.sampler[2]),
                               "the weights or counters of this rank");
  }

  // ---- files: rank 0 alone ----
  // with_model false: the state alone (--keep-best keeps the best model in ckpt.safetensors).
  auto save_all = [&](int64_t next_iter, bool with_model = true) {
    state.next_iter = next_iter;
    state.sampler = sampler->state();
    state.rng_seed = model->rng.seed();
    state.rng_counter = model->rng.counter();
    state.checkpoint_id = new_checkpoint_id(next_iter);
    // The state (which holds the weights too) first: after a kill between the two writes the
    // state is the newer, and --resume continues from it and rewrites the model file.
    save_train_state(state_path, *model, *optimizer, state, tokenizer_meta);
    if (with_model) save_model(ckpt, *model, tokenizer_meta, state.checkpoint_id);
  };
  // Data parallel, a save is collective: the ranks prove they hold the same weights, rank 0
  // writes, and a failed write stops every rank.
  auto save_collectively = [&](int64_t next_iter, bool with_model = true) {
    require_same_on_every_rank(comm, std::to_string(weights_fingerprint(*model)), "the weights of this rank");
    std::exception_ptr failure;
    try {
      if (lead) save_all(next_iter, with_model);
    } catch (...) {
      failure = std::current_exception();
    }
    agree(comm, failure);
  };
  const fs::path log_path = out_dir / "log.jsonl";
  std::ofstream log;
  std::exception_ptr files_failure;
  try {
    if (lead) {
      fs::create_directories(out_dir);
      write_file_atomic((out_dir / "meta.json").string(), tokenizer_meta + "\n");
      if (resume && !opt.keep_best) {  // with --keep-best the model file is the best save, not the last
        bool same_save = false;
        if (fs::exists(ckpt)) {
          const SafetensorsFile f = load_safetensors(ckpt);
          const auto id = f.metadata.find("checkpoint_id");
          same_save = id != f.metadata.end() && id->second == state.checkpoint_id;
        }
        if (!same_save) {
          if (!opt.quiet)
            std::fprintf(stderr, "noiseformer train: %s is not from the save of %s (interrupted between the two "
                                 "writes?): resuming from the state, which holds the weights, and rewriting it\n",
                         ckpt.c_str(), state_path.c_str());
          save_model(ckpt, *model, tokenizer_meta, state.checkpoint_id);
        }
      }
      if (resume) truncate_log(log_path, state.next_iter);
      log.open(log_path, resume ? std::ios::app : std::ios::trunc);
      if (!log) throw std::runtime_error(log_path.string() + ": cannot open for writing");
    }
  } catch (...) {
    files_failure = std::current_exception();
  }
  agree(comm, files_failure);
  // Every line is flushed and checked: a full disk stops the run with a clear error instead of
  // training on with a log cut mid-line. Rank 0 only; data parallel, the caller agrees on it.
  auto write_log = [&](const nlohmann::json& line) {
    if (!lead) return;
    log << line.dump() << "\n";
    log.flush();
    if (!log) throw std::runtime_error(log_path.string() + ": write failed (disk full?)");
  };

  TrainResult result;
  if (opt.max_iters == 0) {
    // With --resume, keep the run's position: save_all(0) used to reset next_iter to 0, so a
    // later --resume restarted from iteration 0 with the optimizer moments of a later step.
    save_collectively(state.next_iter);
    return result;
  }
  // The micro-batches of one step over all ranks (--grad-accum is per rank).
  const int64_t micro_batches = opt.grad_accum * W;
  if (!opt.quiet)
    std::cerr << "noiseformer train: " << cfg.attention << ", " << model->num_parameters() << " parameters, "
              << cfg.n_layer << "x" << cfg.n_embd << ", T=" << cfg.block_size << ", B=" << opt.batch_size
              << (opt.grad_accum > 1 ? "x" + std::to_string(opt.grad_accum) : "") << ", kl_weight="
              << (is_noise(cfg.kind()) ? std::to_string(cfg.kl_weight) : "-")
              << (W > 1 ? ", " + std::to_string(W) + " ranks (" + comm.name() + ")" : std::string()) << "\n";

  const StopSignals stop_signals;
  const int64_t decay_iters = opt.lr_decay_iters < 0 ? opt.max_iters : opt.lr_decay_iters;
  const int64_t T = cfg.block_size, B = opt.batch_size;
  std::vector<int64_t> x, y;

  // ---- data parallel: the reducer and where each micro-batch's random draws start ----
  std::unique_ptr<GradReducer> reducer;
  std::unique_ptr<DrawPlan> train_draws, eval_draws;
  if (W > 1) {
    // Gradients are summed over MPI for CPU parameters, over NCCL for GPU ones
    // (gradient_communicator chooses by the parameters' device).
    const std::vector<Tensor> params = model->parameters();
    reducer = std::make_unique<GradReducer>(params, gradient_communicator(comm, params.front().device()),
                                            static_cast<size_t>(opt.bucket_mb * 1024 * 1024));
    // The probes run a micro-batch of the right shape (all token 0) in training and in eval mode.
    auto probe = [&model, B, T, device] {
      const std::vector<int64_t> zeros(static_cast<size_t>(B * T), 0);
      model->forward(to_tensor(zeros, B, T, device), to_tensor(zeros, B, T, device));
    };
    train_draws = std::make_unique<DrawPlan>(model->rng, probe);
    eval_draws = std::make_unique<DrawPlan>(model->rng, [&model, probe] {
      EvalScope scope(*model);
      probe();
    });
  }
  auto evaluate = [&](const TokenData& data, uint64_t seed) {
    return W > 1 ? estimate_loss(*model, data, B, opt.eval_iters, seed, comm, *eval_draws)
                 : estimate_loss(*model, data, B, opt.eval_iters, seed);
  };

  const auto t_start = std::chrono::steady_clock::now();
  int64_t tokens_done = 0;
  double sec_per_iter = 0;  // moving average of recent steps, for the ETA
  int64_t last_saved = state.next_iter;
  for (int64_t it = state.next_iter; it < opt.max_iters; ++it) {
    const auto t0 = std::chrono::steady_clock::now();
    const double lr = learning_rate(it, opt.lr, opt.min_lr, opt.warmup_iters, decay_iters);
    double loss_sum = 0, kl = 0;
    bool stop = false;  // data parallel: a signal reached some rank during this step
    StepTimes times;
    if (W == 1) {
      train_step(*model, *optimizer, {opt.grad_accum, opt.grad_clip, lr}, [&](int64_t) {
        sampler->next(x, y);
        GPTOutput out = model->forward(to_tensor(x, B, T, device), to_tensor(y, B, T, device));
        loss_sum += out.loss.item();
        if (Tensor kl_term = out.term("kl"); kl_term.defined()) kl += kl_term.item() / static_cast<double>(opt.grad_accum);
        return out.loss;
      });
    } else {
      // Micro-batch m of the step is the m-th batch of the sampler and starts the model's
      // generator where one process would after m-1 micro-batches; each rank reads its own and
      // skips the rest. Slots: the losses, the KL terms, then how many ranks were signalled.
      std::vector<double> slots(static_cast<size_t>(2 * micro_batches + 1), 0.0);
      const uint64_t c0 = model->rng.counter(), seed = model->rng.seed();
      int64_t drawn = 0;  // batches the sampler has passed this step
      StepOptions so{micro_batches, opt.grad_clip, lr};
      so.reducer = reducer.get();
      times = train_step(*model, *optimizer, so, [&](int64_t m) {
        for (; drawn < m; ++drawn) sampler->skip();
        sampler->next(x, y);
        ++drawn;
        const uint64_t from = train_draws->start(c0, m);
        model->rng.set_state(seed, from);
        GPTOutput out = model->forward(to_tensor(x, B, T, device), to_tensor(y, B, T, device));
        train_draws->check(from, model->rng.counter());
        slots[static_cast<size_t>(m)] = out.loss.item();
        if (Tensor kl_term = out.term("kl"); kl_term.defined())
          slots[static_cast<size_t>(micro_batches + m)] = kl_term.item();
        return out.loss;
      });
      for (; drawn < micro_batches; ++drawn) sampler->skip();
      model->rng.set_state(seed, train_draws->start(c0, micro_batches));
      slots.back() = g_stop_signal != 0 ? 1.0 : 0.0;
      const auto tc = std::chrono::steady_clock::now();
      comm.allreduce_sum(slots.data(), slots.size());
      times.comm += std::chrono::duration<double>(std::chrono::steady_clock::now() - tc).count();
      // Summed in micro-batch order, as one process sums them.
      for (int64_t m = 0; m < micro_batches; ++m) {
        loss_sum += slots[static_cast<size_t>(m)];
        kl += slots[static_cast<size_t>(micro_batches + m)] / static_cast<double>(micro_batches);
      }
      stop = slots.back() > 0;
    }
    const double loss = loss_sum / static_cast<double>(micro_batches);
    // A non-finite loss means the weights are garbage from here on: stop before anything is
    // saved, keep the last good checkpoint, and say so.
    if (!std::isfinite(loss))
      fail_together(comm, "training diverged: loss is " + std::to_string(loss) + " at iteration " +
                              std::to_string(it) + "; the last good checkpoint (iteration " +
                              std::to_string(last_saved) + ") is kept in " + out_dir.string());
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    const double tok_s = static_cast<double>(B * T * micro_batches) / (ms / 1000.0);
    tokens_done += B * T * micro_batches;
    nlohmann::json line{{"iter", it}, {"loss", loss}, {"lr", lr}, {"ms", ms}, {"tok_per_s", tok_s}};
    if (is_noise(cfg.kind())) line["kl"] = kl;
    if (W > 1) {
      line["comm_ms"] = times.comm * 1000.0;
      line["comm_wait_ms"] = times.comm_wait * 1000.0;
    }
    std::exception_ptr log_failure;
    try {
      write_log(line);
    } catch (...) {
      log_failure = std::current_exception();
    }
    agree(comm, log_failure);
    result.final_train_loss = loss;
    result.iterations = it + 1;
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count();
    result.tokens_per_second = static_cast<double>(tokens_done) / elapsed;
    sec_per_iter = sec_per_iter == 0 ? ms / 1000.0 : 0.9 * sec_per_iter + 0.1 * (ms / 1000.0);
    if (!opt.quiet && (it % opt.log_interval == 0 || it + 1 == opt.max_iters)) {
      std::fprintf(stderr, "iter %6lld/%lld  loss %.4f  lr %.2e  %7.0f tok/s  %6.1f ms/it", static_cast<long long>(it),
                   static_cast<long long>(opt.max_iters), loss, lr, result.tokens_per_second, ms);
      if (W > 1) std::fprintf(stderr, "  comm %4.1f%%", 100.0 * times.comm * 1000.0 / ms);
      std::fprintf(stderr, "  ETA %s\n", format_eta(sec_per_iter * static_cast<double>(opt.max_iters - it - 1)).c_str());
    }
    const bool last = it + 1 == opt.max_iters;
    if ((opt.eval_interval > 0 && (it + 1) % opt.eval_interval == 0) || last) {
      const double tl = evaluate(train_data, opt.seed + 1);
      const double vl = evaluate(val_data, opt.seed + 2);
      std::exception_ptr eval_log_failure;
      try {
        nlohmann::json eval_line{{"iter", it}, {"train_loss", tl}, {"val_loss", vl}};
        add_noise_fields(eval_line, *model);  // noise models: σ and μ per layer and map
        write_log(eval_line);
      } catch (...) {
        eval_log_failure = std::current_exception();
      }
      agree(comm, eval_log_failure);
      result.final_val_loss = vl;
      if (!opt.quiet) std::fprintf(stderr, "eval  iter %lld: train %.4f  val %.4f\n", static_cast<long long>(it), tl, vl);
      if (!std::isfinite(tl) || !std::isfinite(vl))
        fail_together(comm, "training diverged: evaluation loss is not finite at iteration " + std::to_string(it) +
                                "; the last good checkpoint (iteration " + std::to_string(last_saved) +
                                ") is kept in " + out_dir.string());
      if (!opt.keep_best || vl < state.best_val) {
        state.best_val = std::min(state.best_val, vl);
        save_collectively(it + 1);
        last_saved = it + 1;
      }
    }
    if (W == 1) stop = g_stop_signal != 0;
    if (stop && !last) {
      if (last_saved != it + 1) save_collectively(it + 1, !opt.keep_best);
      const char* how = g_stop_signal == SIGINT    ? "interrupted (SIGINT)"
                        : g_stop_signal == SIGTERM ? "stopped (SIGTERM)"
                                                   : "stopped (a signal to another rank)";
      throw TrainingInterrupted(std::string(how) + " after iteration " + std::to_string(it) + ": saved " + ckpt +
                                "; continue with: noiseformer train --out " + out_dir.string() + " --resume");
    }
  }
  return result;
}

}  // namespace nf
