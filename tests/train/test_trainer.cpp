// The training loop (train/trainer.cpp): evaluation over all windows, log.jsonl, exact resume
// (also with dropout and NoiseFormer's noise), gradient accumulation, `--max-iters 0`, and the
// checks run_training makes before it writes anything.
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

using namespace nf::test;

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

}  // namespace

TEST_SUITE("train") {
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
    for (const std::string a : {"base", "noise-v1", "noise-v2"}) {
      CAPTURE(a);
      const bool noise = a != "base";
      TrainOptions o = small_run(data, tmp.file("run_" + a), a);
      o.max_iters = 5;
      o.eval_interval = 2;
      o.lr_decay_iters = 5;
      TrainResult r = run_training(o);
      CHECK(r.iterations == 5);
      auto log = read_log(o.out_dir + "/log.jsonl");
      std::vector<int64_t> iters, evals;
      std::set<std::string> want_iter = {"iter", "loss", "lr", "ms", "tok_per_s"};
      if (noise) want_iter.insert("kl");  // the KL term is logged for noise variants
      // Evaluations of noise variants carry σ and μ per layer and ε map (train/noise_log.h).
      std::set<std::string> want_eval = {"iter", "train_loss", "val_loss"};
      if (noise) want_eval.insert({"noise_sigma", "noise_mu"});
      for (const auto& j : log) {
        if (j.contains("val_loss")) {
          CHECK(keys(j) == want_eval);
          if (noise) {
            REQUIRE(j["noise_sigma"].size() == 2);  // layers
            for (const char* k : {"noise_sigma", "noise_mu"})
              for (const auto& layer : j[k]) CHECK(layer.size() == (a == "noise-v1" ? 1u : 2u));  // maps
          }
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
      if (noise) {
        // The last evaluation's numbers are the saved model's: σ = exp(½ log σ²) and μ, exactly.
        auto m = load_model(o.out_dir + "/ckpt.safetensors");
        for (size_t l = 0; l < 2; ++l) {
          const auto& named = m.model->blocks[l]->attn->named_parameters();
          std::vector<double> mu, lv;
          for (const auto& [n, t] : named) {
            if (n == "noise_mu") mu = values(t);
            if (n == "noise_logvar") lv = values(t);
          }
          REQUIRE(mu.size() == log.back()["noise_mu"][l].size());
          for (size_t h = 0; h < mu.size(); ++h) {
            CHECK(log.back()["noise_mu"][l][h].get<double>() == mu[h]);
            CHECK(log.back()["noise_sigma"][l][h].get<double>() == std::exp(0.5 * lv[h]));
          }
          CHECK(log.back()["noise_sigma"][l][0].get<double>() != 1.0);  // training moved σ off its init
        }
      }
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
      part.given = {"max_iters"};  // every other setting is the run's own, from the state file
      run_training(part);
      auto lf = losses(read_log(full.out_dir + "/log.jsonl")), lp = losses(read_log(part.out_dir + "/log.jsonl"));
      REQUIRE(lf.size() == 6u);
      REQUIRE(lp.size() == 6u);
      for (int64_t it = 0; it < 6; ++it) {
        CAPTURE(it);
        CHECK(lp.at(it) == lf.at(it));  // bit-identical
      }
      CHECK(lf.at(5) != lf.at(2));  // training actually moved
      // The evaluation lines too, with the noise variants' σ and μ.
      auto evals = [](const std::vector<nlohmann::json>& log) {
        std::vector<nlohmann::json> e;
        for (const auto& j : log)
          if (j.contains("val_loss")) e.push_back(j);
        return e;
      };
      CHECK(evals(read_log(part.out_dir + "/log.jsonl")) == evals(read_log(full.out_dir + "/log.jsonl")));
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
    for (size_t i = 0; i < pa.size(); ++i) worst = std::max(worst, max_abs_diff(pa[i].second, pb[i].second));
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
    fails(x, "nothing to resume");
    // val.bin shorter than one block: caught before any training, not at the first evaluation.
    TempDir tmp2;
    const std::string d2 = make_data(tmp2);
    write_tokens(d2 + "/val.bin", std::vector<uint16_t>(10, 1));
    x = o;
    x.data_dir = d2;
    fails(x, "val.bin");
    CHECK_FALSE(fs::exists(o.out_dir + "/log.jsonl"));
  }
}
