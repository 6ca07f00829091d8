// Training: the learning-rate schedule, AdamW/SGD/clipping against hand-computed steps, which
// tensors are decayed, exact resume (also with dropout and NoiseFormer's noise), gradient
// accumulation, evaluation over all windows, log.jsonl, `--max-iters 0`, and checkpoints
// (round trip, safetensors metadata, mismatches).
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/node.h"
#include "models/gpt.h"
#include "io/checkpoint.h"
#include "train/train_state.h"
#include "data/dataset.h"
#include "optim/optim.h"
#include "io/safetensors.h"
#include "train/trainer.h"
#include "tests/support.h"

using namespace nf;
namespace fs = std::filesystem;

using nf::test::TempDir;
using nf::test::error_of;
using nf::test::contains;

namespace {

// A prepared char-level data directory of ~4 KB of pseudo-English (train.bin, val.bin, meta.json).
std::string make_data(const TempDir& tmp) { return nf::test::fixture_data(tmp, 4242, 4000); }

GPTConfig tiny(const std::string& attention) { return nf::test::tiny_gpt(attention, 16, 16); }

TrainOptions small_run(const std::string& data, const std::string& out, const std::string& attention) {
  TrainOptions o;
  o.data_dir = data;
  o.out_dir = out;
  o.model = tiny(attention);
  o.batch_size = 4;
  o.max_iters = 6;
  o.eval_interval = 3;
  o.eval_iters = 2;
  o.warmup_iters = 2;
  o.lr_decay_iters = 6;
  o.lr = 1e-2;
  o.min_lr = 1e-3;
  o.seed = 99;
  o.quiet = true;
  return o;
}

std::vector<nlohmann::json> read_log(const std::string& path) {
  std::ifstream in(path);
  REQUIRE(in);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// iteration -> its "loss" (iteration lines only).
std::map<int64_t, double> losses(const std::vector<nlohmann::json>& log) {
  std::map<int64_t, double> out;
  for (const auto& j : log)
    if (j.contains("loss")) out[j.at("iter").get<int64_t>()] = j.at("loss").get<double>();
  return out;
}

std::set<std::string> keys(const nlohmann::json& j) {
  std::set<std::string> out;
  for (auto it = j.begin(); it != j.end(); ++it) out.insert(it.key());
  return out;
}

using nf::test::values;

Tensor f32(const std::vector<float>& v, Shape s) { return from_vector<float>(v, std::move(s)); }

Tensor ids(const std::vector<int64_t>& v, int64_t B, int64_t T) { return from_vector<int64_t>(v, {B, T}); }

// Every parameter equal, bit for bit.
bool same_weights(const GPT& a, const GPT& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i].first != pb[i].first || values(pa[i].second) != values(pb[i].second)) return false;
  return true;
}

void perturb(GPT& m, double std, uint64_t seed) {
  NoGradGuard ng;
  Generator g(seed);
  for (auto& [n, t] : m.named_parameters()) t.add_(randn(t.shape(), g, t.dtype()), std);
}


}  // namespace

TEST_SUITE("train") {
  // ---- schedule and optimizers -----------------------------------------------------------------
  TEST_CASE("learning rate: linear warm-up, cosine decay to min_lr, then min_lr") {
    const double lr = 6e-4, mn = 6e-5;
    CHECK(learning_rate(0, lr, mn, 0, 100) == lr);  // exactly lr at iteration 0 without warm-up
    CHECK(learning_rate(0, lr, mn, 10, 110) == doctest::Approx(lr * 1 / 11));
    CHECK(learning_rate(4, lr, mn, 10, 110) == doctest::Approx(lr * 5 / 11));
    CHECK(learning_rate(9, lr, mn, 10, 110) == doctest::Approx(lr * 10 / 11));
    CHECK(learning_rate(10, lr, mn, 10, 110) == doctest::Approx(lr));
    CHECK(learning_rate(60, lr, mn, 10, 110) == doctest::Approx((lr + mn) / 2));
    CHECK(learning_rate(35, lr, mn, 10, 110) == doctest::Approx(mn + 0.5 * (1 + std::cos(M_PI / 4)) * (lr - mn)));
    CHECK(learning_rate(110, lr, mn, 10, 110) == doctest::Approx(mn));
    CHECK(learning_rate(111, lr, mn, 10, 110) == mn);
    CHECK(learning_rate(5000, lr, mn, 10, 110) == mn);
    double prev = learning_rate(10, lr, mn, 10, 110);
    for (int it = 11; it <= 110; ++it) {
      const double cur = learning_rate(it, lr, mn, 10, 110);
      CHECK(cur <= prev);
      prev = cur;
    }
  }

  TEST_CASE("AdamW: two steps equal the hand-computed update, decay decoupled and per group") {
    const double lr = 0.01, b1 = 0.9, b2 = 0.99, eps = 1e-8, wd = 0.1;
    Tensor p1 = f32({0.5f, -1.0f}, {2});      // a 1-D tensor: no decay
    Tensor p2 = f32({2.0f, 0.3f}, {2, 1});    // a 2-D tensor: decayed
    Tensor p3 = f32({1.5f, -2.5f}, {1, 2});   // decayed, zero gradient: decay alone moves it
    Tensor p4 = f32({7.0f}, {1, 1});          // no gradient at all: untouched
    for (Tensor* p : {&p1, &p2, &p3, &p4}) p->requires_grad_(true);
    AdamW opt({{{p2, p3, p4}, wd}, {{p1}, 0.0}}, b1, b2, eps);
    const std::vector<std::vector<double>> g1 = {{0.2, -0.4}, {-0.1, 0.3}}, g2 = {{1.0, -0.05}, {0.5, 0.2}};
    std::vector<double> w1 = {0.5, -1.0}, w2 = {2.0, 0.3}, w3 = {1.5, -2.5};
    std::vector<double> m1(2, 0), v1(2, 0), m2(2, 0), v2(2, 0);
    auto hand = [&](std::vector<double>& w, std::vector<double>& m, std::vector<double>& v, const std::vector<double>& g,
                    double decay, int t) {
      for (size_t i = 0; i < w.size(); ++i) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        const double mh = m[i] / (1 - std::pow(b1, t)), vh = v[i] / (1 - std::pow(b2, t));
        w[i] = w[i] - lr * decay * w[i] - lr * mh / (std::sqrt(vh) + eps);
      }
    };
    for (int t = 1; t <= 2; ++t) {
      p1.set_grad(from_vector<double>(g1[t - 1], {2}).to(DType::F32));
      p2.set_grad(from_vector<double>(g2[t - 1], {2, 1}).to(DType::F32));
      p3.set_grad(zeros({1, 2}));
      opt.step(lr);
      hand(w1, m1, v1, g1[t - 1], 0.0, t);
      hand(w2, m2, v2, g2[t - 1], wd, t);
      for (double& w : w3) w *= 1 - lr * wd;
      for (int i = 0; i < 2; ++i) {
        CHECK(values(p1)[i] == doctest::Approx(w1[i]).epsilon(1e-6));
        CHECK(values(p2)[i] == doctest::Approx(w2[i]).epsilon(1e-6));
        CHECK(values(p3)[i] == doctest::Approx(w3[i]).epsilon(1e-6));
      }
      CHECK(values(p4)[0] == 7.0);
    }
    CHECK(opt.steps == 2);
    // First step of Adam moves every coordinate by ≈ lr (m̂/√v̂ = sign g).
    CHECK(std::fabs(w1[0] - 0.5) > 0.0);
    opt.zero_grad();
    CHECK_FALSE(p1.grad().defined());
  }

  TEST_CASE("SGD: w <- w - lr*g, no momentum, no decay") {
    Tensor a = f32({1.0f, -2.0f}, {2}), b = f32({0.5f, 0.25f, 4.0f, -1.0f}, {2, 2});
    a.requires_grad_(true);
    b.requires_grad_(true);
    SGD opt({{{a, b}, 0.0}});
    for (int step = 0; step < 2; ++step) {
      a.set_grad(f32({0.5f, -1.0f}, {2}));
      b.set_grad(f32({1.0f, 0.0f, -2.0f, 0.5f}, {2, 2}));
      opt.step(0.1);
    }
    CHECK(values(a)[0] == doctest::Approx(1.0 - 2 * 0.1 * 0.5));
    CHECK(values(a)[1] == doctest::Approx(-2.0 + 2 * 0.1 * 1.0));
    CHECK(values(b) == std::vector<double>{values(b)[0], 0.25, values(b)[2], values(b)[3]});
    CHECK(values(b)[0] == doctest::Approx(0.5 - 0.2));
    CHECK(values(b)[2] == doctest::Approx(4.0 + 0.4));
    CHECK(values(b)[3] == doctest::Approx(-1.0 - 0.1));
  }

  TEST_CASE("clip_grad_norm scales to the global norm and returns the norm before") {
    Tensor a = f32({3.0f}, {1}), b = f32({4.0f}, {1, 1}), c = f32({1.0f}, {1});
    for (Tensor* t : {&a, &b, &c}) t->requires_grad_(true);
    a.set_grad(f32({3.0f}, {1}));
    b.set_grad(f32({4.0f}, {1, 1}));  // c has no gradient: ignored
    CHECK(clip_grad_norm({a, b, c}, 10.0) == doctest::Approx(5.0));
    CHECK(values(a.grad())[0] == 3.0);  // under the limit: untouched
    CHECK(clip_grad_norm({a, b, c}, 0.0) == doctest::Approx(5.0));
    CHECK(values(a.grad())[0] == 3.0);  // 0: off
    CHECK(clip_grad_norm({a, b, c}, 1.0) == doctest::Approx(5.0));
    CHECK(values(a.grad())[0] == doctest::Approx(0.6).epsilon(1e-5));
    CHECK(values(b.grad())[0] == doctest::Approx(0.8).epsilon(1e-5));
    CHECK(clip_grad_norm({a, b}, 1.0) == doctest::Approx(1.0).epsilon(1e-5));
  }

  TEST_CASE("GPT::decay_parameters: exactly the >= 2-D weights; biases, norms, λ, noise and c_h are not decayed") {
    std::vector<GPTConfig> cfgs;
    for (const std::string a : {"base", "symmetric", "noise-v1", "noise-v2", "diff", "shared-diff", "selective"})
      cfgs.push_back(tiny(a));
    GPTConfig pw = tiny("symmetric");
    pw.pairwise = true;
    cfgs.push_back(pw);
    GPTConfig rp = tiny("noise-v2");
    rp.noise_mean = "relpos";  // μ, log σ² become [H, block]: 2-D, and still not decayed
    cfgs.push_back(rp);
    for (const GPTConfig& c : cfgs) {
      CAPTURE(c.to_json().dump());
      GPT m(c);
      std::set<const TensorImpl*> decay, nodecay;
      for (const Tensor& t : m.decay_parameters()) decay.insert(t.impl());
      for (const Tensor& t : m.no_decay_parameters()) nodecay.insert(t.impl());
      CHECK(decay.size() + nodecay.size() == m.parameters().size());
      for (auto& [n, t] : m.named_parameters()) {
        CAPTURE(n);
        const bool special = n.find("noise_") != std::string::npos || n.find("pairwise_c") != std::string::npos ||
                             n.find("lambda_") != std::string::npos || n.find("subln") != std::string::npos ||
                             n.find("ln_") != std::string::npos || n.find(".bias") != std::string::npos;
        const bool want_decay = !special && t.dim() >= 2;
        CHECK(decay.count(t.impl()) == (want_decay ? 1u : 0u));
        CHECK(nodecay.count(t.impl()) == (want_decay ? 0u : 1u));
        if (n == "transformer.wte.weight" || n.find("c_attn.weight") != std::string::npos ||
            n.find("_down.weight") != std::string::npos)
          CHECK(want_decay);
      }
    }
  }

  // ---- evaluation ------------------------------------------------------------------------------
  TEST_CASE("evaluate_windows is the mean CE over all non-overlapping windows, each target once") {
    GPTConfig c = tiny("base");
    c.block_size = 8;
    c.dropout = 0.2;  // evaluation must switch it off
    GPT m(c, 5);
    perturb(m, 0.3, 6);
    const int64_t T = 8;
    std::vector<uint16_t> toks(3 * T + 5);
    Generator g(7);
    for (auto& t : toks) t = static_cast<uint16_t>(g.next_u64() % 11);
    TokenData data(toks, "mem");
    // Windows o = 0, 8, 16 (o + T + 1 <= 29); o = 24 would need 33 tokens.
    double sum = 0;
    {
      NoGradGuard ng;
      m.eval();
      for (int64_t o : {0, 8, 16}) {
        std::vector<int64_t> x(toks.begin() + o, toks.begin() + o + T), y(toks.begin() + o + 1, toks.begin() + o + T + 1);
        sum += m.forward(ids(x, 1, T), ids(y, 1, T)).ce.item();
      }
      m.train();
    }
    const uint64_t counter = m.rng.counter();
    for (int64_t bs : {1, 2, 3, 8}) {  // 2: a partial last batch, which must weigh by its size
      CAPTURE(bs);
      EvalResult r = evaluate_windows(m, data, bs);
      CHECK(r.tokens == 3 * T);
      CHECK(r.loss == doctest::Approx(sum / 3).epsilon(1e-5));
    }
    CHECK(m.is_training());             // the mode is restored
    CHECK(m.rng.counter() == counter);  // no dropout masks were drawn
    TokenData short_data(std::vector<uint16_t>(T, 1), "short.bin");
    CHECK(contains(error_of([&] { evaluate_windows(m, short_data, 2); }), "short.bin"));
  }

  // ---- the training loop -----------------------------------------------------------------------
  TEST_CASE("log.jsonl: one line per iteration and per evaluation, with the specified keys") {
    TempDir tmp;
    const std::string data = make_data(tmp);
    for (const std::string a : {"base", "noise-v1"}) {
      CAPTURE(a);
      TrainOptions o = small_run(data, tmp.file("run_" + a), a);
      o.max_iters = 5;
      o.eval_interval = 2;
      o.lr_decay_iters = 5;
      TrainResult r = run_training(o);
      CHECK(r.iterations == 5);
      auto log = read_log(o.out_dir + "/log.jsonl");
      std::vector<int64_t> iters, evals;
      std::set<std::string> want_iter = {"iter", "loss", "lr", "ms", "tok_per_s"};
      if (a == "noise-v1") want_iter.insert("kl");  // the KL term is logged for noise variants
      for (const auto& j : log) {
        if (j.contains("val_loss")) {
          CHECK(keys(j) == std::set<std::string>{"iter", "train_loss", "val_loss"});
          evals.push_back(j["iter"].get<int64_t>());
          CHECK(std::isfinite(j["val_loss"].get<double>()));
          CHECK(std::isfinite(j["train_loss"].get<double>()));
        } else {
          CHECK(keys(j) == want_iter);
          const int64_t it = j["iter"].get<int64_t>();
          iters.push_back(it);
          CHECK(j["lr"].get<double>() == doctest::Approx(learning_rate(it, o.lr, o.min_lr, o.warmup_iters, 5)));
          CHECK(j["loss"].get<double>() > 0);
          CHECK(j["ms"].get<double>() >= 0);
          CHECK(j["tok_per_s"].get<double>() > 0);
        }
      }
      CHECK(iters == std::vector<int64_t>{0, 1, 2, 3, 4});
      CHECK(evals == std::vector<int64_t>{1, 3, 4});  // every eval_interval, and at the end
      CHECK(r.final_val_loss == log.back()["val_loss"].get<double>());
      CHECK(fs::exists(o.out_dir + "/ckpt.safetensors"));
      CHECK(fs::exists(state_path_for(o.out_dir + "/ckpt.safetensors")));
      CHECK(fs::exists(o.out_dir + "/meta.json"));
    }
  }

  TEST_CASE("exact resume: 3 iterations + resume to 6 equals 6 iterations (base, noise-v2, dropout)") {
    TempDir tmp;
    const std::string data = make_data(tmp);
    struct Case {
      std::string attention;
      double dropout;
      std::string optimizer;
    };
    for (const Case& k : {Case{"base", 0.0, "adamw"}, Case{"noise-v2", 0.0, "adamw"}, Case{"base", 0.1, "adamw"},
                          Case{"noise-v1", 0.1, "sgd"}}) {
      CAPTURE(k.attention);
      CAPTURE(k.dropout);
      CAPTURE(k.optimizer);
      TrainOptions full = small_run(data, tmp.file("full"), k.attention);
      full.model.dropout = k.dropout;
      full.optimizer = k.optimizer;
      TrainOptions part = full;
      part.out_dir = tmp.file("part");
      part.max_iters = 3;
      run_training(full);
      run_training(part);
      part.max_iters = 6;
      part.resume = true;
      part.seed = 12345;            // the batch sampler and model rng come from the state file
      part.model.n_embd = 32;       // ignored on resume: the checkpoint's config wins
      run_training(part);
      auto lf = losses(read_log(full.out_dir + "/log.jsonl")), lp = losses(read_log(part.out_dir + "/log.jsonl"));
      REQUIRE(lf.size() == 6u);
      REQUIRE(lp.size() == 6u);
      for (int64_t it = 0; it < 6; ++it) {
        CAPTURE(it);
        CHECK(lp.at(it) == lf.at(it));  // bit-identical
      }
      CHECK(lf.at(5) != lf.at(2));  // training actually moved
      auto mf = load_model(full.out_dir + "/ckpt.safetensors"), mp = load_model(part.out_dir + "/ckpt.safetensors");
      CHECK(same_weights(*mf.model, *mp.model));
      CHECK(mp.model->config().n_embd == 16);
      fs::remove_all(full.out_dir);
      fs::remove_all(part.out_dir);
    }
  }

  TEST_CASE("gradient accumulation: G=2 micro-batches of B=2 step like one batch of B=4") {
    // With sequential sampling both runs see the same windows per step (the sampler advances
    // per micro-batch), and the mean of two equal-sized means is the mean over all four rows.
    TempDir tmp;
    const std::string data = make_data(tmp);
    TrainOptions one = small_run(data, tmp.file("one"), "base");
    one.sampling = "sequential";
    // Plain SGD without clipping: the step is linear in the gradient, so a gradient that is not
    // averaged over the micro-batches (2x too large) shows in the losses and weights.
    one.optimizer = "sgd";
    one.grad_clip = 0;
    one.lr = one.min_lr = 2.0;
    TrainOptions acc = one;
    acc.out_dir = tmp.file("acc");
    one.batch_size = 4;
    acc.batch_size = 2;
    acc.grad_accum = 2;
    run_training(one);
    TrainResult r = run_training(acc);
    CHECK(r.iterations == 6);
    auto l1 = losses(read_log(one.out_dir + "/log.jsonl")), l2 = losses(read_log(acc.out_dir + "/log.jsonl"));
    REQUIRE(l1.size() == 6u);
    REQUIRE(l2.size() == 6u);
    for (int64_t it = 0; it < 6; ++it) {
      CAPTURE(it);
      CHECK(l2.at(it) == doctest::Approx(l1.at(it)).epsilon(1e-4));
    }
    auto a = load_model(one.out_dir + "/ckpt.safetensors"), b = load_model(acc.out_dir + "/ckpt.safetensors");
    auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
    double worst = 0;
    for (size_t i = 0; i < pa.size(); ++i) {
      std::vector<double> x = values(pa[i].second), y = values(pb[i].second);
      for (size_t j = 0; j < x.size(); ++j) worst = std::max(worst, std::fabs(x[j] - y[j]));
    }
    CHECK(worst < 1e-3);
  }

  TEST_CASE("--max-iters 0 writes the freshly initialised model (and --init's) and stops") {
    TempDir tmp;
    const std::string data = make_data(tmp);
    TrainOptions o = small_run(data, tmp.file("zero"), "diff");
    o.max_iters = 0;
    o.seed = 77;
    TrainResult r = run_training(o);
    CHECK(r.iterations == 0);
    const std::string ckpt = o.out_dir + "/ckpt.safetensors";
    LoadedModel lm = load_model(ckpt);
    GPTConfig want = o.model;
    want.vocab_size = lm.model->config().vocab_size;
    CHECK(lm.model->config().to_json() == want.to_json());
    CHECK(same_weights(*lm.model, GPT(want, 77)));
    CHECK(read_log(o.out_dir + "/log.jsonl").empty());
    CHECK_FALSE(lm.tokenizer_meta.empty());
    // --init: the architecture and weights come from the checkpoint.
    TrainOptions i = small_run(data, tmp.file("init"), "base");
    i.init = ckpt;
    i.max_iters = 0;
    run_training(i);
    LoadedModel li = load_model(i.out_dir + "/ckpt.safetensors");
    CHECK(li.model->config().attention == "diff");
    CHECK(same_weights(*li.model, *lm.model));
    // and training from --init starts at those weights
    i.max_iters = 2;
    i.out_dir = tmp.file("init2");
    run_training(i);
    CHECK(load_model(i.out_dir + "/ckpt.safetensors").model->config().attention == "diff");
    // --resume with --max-iters 0 rewrites the model but keeps the run's position.
    const std::string state = state_path_for(i.out_dir + "/ckpt.safetensors");
    CHECK(load_safetensors(state).metadata.at("next_iter") == "2");
    i.resume = true;
    i.max_iters = 0;
    run_training(i);
    CHECK(load_safetensors(state).metadata.at("next_iter") == "2");
  }

  TEST_CASE("run_training rejects bad options and data before writing a checkpoint") {
    TempDir tmp;
    const std::string data = make_data(tmp);
    auto fails = [&](TrainOptions o, const std::string& part) {
      const std::string msg = error_of([&] { run_training(o); });
      CAPTURE(msg);
      CHECK(contains(msg, part));
      CHECK_FALSE(fs::exists(o.out_dir + "/ckpt.safetensors"));
    };
    TrainOptions o = small_run(data, tmp.file("bad"), "base");
    TrainOptions x = o;
    x.device = "tpu";
    fails(x, "--device");
    x = o;
    x.optimizer = "lion";
    fails(x, "--optimizer");
    x = o;
    x.data_dir = tmp.file("nowhere");
    fails(x, "meta.json");
    x = o;
    x.resume = true;  // nothing to resume from
    fails(x, "ckpt.safetensors");
    // val.bin shorter than one block: caught before any training, not at the first evaluation.
    TempDir tmp2;
    const std::string d2 = make_data(tmp2);
    write_tokens(d2 + "/val.bin", std::vector<uint16_t>(10, 1));
    x = o;
    x.data_dir = d2;
    fails(x, "val.bin");
    CHECK_FALSE(fs::exists(o.out_dir + "/log.jsonl"));
  }

  // ---- checkpoints ------------------------------------------------------------------------------
  TEST_CASE("checkpoint round trip: save_model / load_model give identical weights and logits") {
    TempDir tmp;
    for (const std::string a : {"base", "symmetric", "noise-v1", "noise-v2", "diff", "shared-diff", "selective"}) {
      CAPTURE(a);
      GPTConfig c = tiny(a);
      c.noise_mean = a == "noise-v2" ? "relpos" : "scalar";
      c.pairwise = a == "symmetric";
      GPT m(c, 3);
      perturb(m, 0.2, 4);
      const std::string path = tmp.file(a + ".safetensors");
      save_model(path, m, R"({"tokenizer":"char","vocab_size":11,"chars":"abcdefghijk"})");
      LoadedModel lm = load_model(path);
      CHECK(lm.model->config().to_json() == c.to_json());
      CHECK(same_weights(*lm.model, m));
      CHECK(lm.tokenizer_meta == R"({"tokenizer":"char","vocab_size":11,"chars":"abcdefghijk"})");
      m.eval();
      lm.model->eval();
      std::vector<int64_t> x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0, 1, 2, 3, 4, 5};
      CHECK(values(m.forward(ids(x, 1, 16)).logits) == values(lm.model->forward(ids(x, 1, 16)).logits));
      // No temporary file is left beside it.
      for (auto& e : fs::directory_iterator(tmp.path)) CHECK(e.path().extension() == ".safetensors");
    }
  }

  TEST_CASE("safetensors layout: config JSON under __metadata__ with the interfaces.md names, F32 tensors") {
    TempDir tmp;
    GPTConfig c = tiny("noise-v2");
    c.kl_weight = 0.01;
    GPT m(c);
    const std::string path = tmp.file("m.safetensors");
    save_model(path, m, "");
    SafetensorsFile f = load_safetensors(path);
    REQUIRE(f.metadata.count("config"));
    nlohmann::json cfg = nlohmann::json::parse(f.metadata.at("config"));
    for (const char* k : {"n_layer", "n_head", "n_embd", "block_size", "vocab_size", "bias", "dropout", "attention",
                          "kl_weight", "noise_mean", "noise_at_eval", "lowrank", "pairwise"})
      CHECK_MESSAGE(cfg.contains(k), k);
    CHECK(cfg["n_layer"] == 2);
    CHECK(cfg["n_embd"] == 16);
    CHECK(cfg["attention"] == "noise-v2");
    CHECK(cfg["kl_weight"].get<double>() == 0.01);
    CHECK(cfg["bias"] == true);
    CHECK(cfg["noise_at_eval"] == "mean");
    auto params = m.named_parameters();
    REQUIRE(f.tensors.size() == params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      CHECK(f.tensors[i].first == params[i].first);
      CHECK(f.tensors[i].second.dtype == "F32");
      CHECK(f.tensors[i].second.shape == params[i].second.shape());
    }
    CHECK(f.find("lm_head.weight") == nullptr);
    CHECK(f.find("transformer.h.1.attn.noise_mu") != nullptr);
    // Raw bytes are the weights, little-endian float32.
    std::vector<float> wte = raw_tensor_values<float>(f.at("transformer.wte.weight"));
    CHECK(std::vector<double>(wte.begin(), wte.end()) == values(m.wte->weight));
  }

  TEST_CASE("a checkpoint whose config does not match its tensors, or is missing/invalid, is a one-line error") {
    TempDir tmp;
    GPT m(tiny("base"));
    const std::string path = tmp.file("m.safetensors");
    save_model(path, m, "");
    SafetensorsFile f = load_safetensors(path);
    auto rewrite = [&](const std::string& name, const std::function<void(std::map<std::string, std::string>&)>& edit) {
      std::map<std::string, std::string> meta = f.metadata;
      edit(meta);
      save_safetensors(tmp.file(name), f.tensors, meta);
      return tmp.file(name);
    };
    auto load_error = [&](const std::string& p) { return error_of([&] { load_model(p); }); };
    std::string e = load_error(rewrite("wide.safetensors", [](auto& meta) {
      auto j = nlohmann::json::parse(meta["config"]);
      j["n_embd"] = 32;
      meta["config"] = j.dump();
    }));
    CHECK(contains(e, "wide.safetensors"));
    CHECK(contains(e, "does not match"));
    CHECK(e.find('\n') == std::string::npos);
    e = load_error(rewrite("deep.safetensors", [](auto& meta) {
      auto j = nlohmann::json::parse(meta["config"]);
      j["n_layer"] = 3;
      meta["config"] = j.dump();
    }));
    CHECK(contains(e, "transformer.h.2"));
    e = load_error(rewrite("sym.safetensors", [](auto& meta) {
      auto j = nlohmann::json::parse(meta["config"]);
      j["attention"] = "symmetric";
      meta["config"] = j.dump();
    }));
    CHECK(contains(e, "c_attn"));
    CHECK(contains(load_error(rewrite("noconfig.safetensors", [](auto& meta) { meta.erase("config"); })), "config"));
    CHECK(contains(load_error(rewrite("badjson.safetensors", [](auto& meta) { meta["config"] = "{not json"; })),
                   "not valid JSON"));
    CHECK(contains(load_error(rewrite("badkey.safetensors", [](auto& meta) {
                     auto j = nlohmann::json::parse(meta["config"]);
                     j["n_heads"] = 2;
                     meta["config"] = j.dump();
                   })),
                   "n_heads"));
    CHECK(contains(load_error(tmp.file("missing.safetensors")), "missing.safetensors"));
  }
}
