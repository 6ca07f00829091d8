// Study tools: compare's table writer, its statistics and log reader, presets and overrides,
// resuming a comparison (finished runs are reused, not retrained), the loss-curve and
// attention-map PNGs (decoded back with stb_image), and the attention-map hooks themselves.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/node.h"
#include "models/gpt.h"
#include "nn/diff_attention.h"
#include "nn/noise_attention.h"
#include "study/attention_map.h"
#include "io/checkpoint.h"
#include "study/compare.h"
#include "data/dataset.h"
#include "study/noise_plot.h"
#include "study/plot.h"
#include "data/tokenizer.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_STATIC
#define STBI_ONLY_PNG
#include <stb/stb_image.h>
#include "tests/support.h"
#pragma GCC diagnostic pop

using namespace nf;
namespace fs = std::filesystem;

using namespace nf::test;

namespace {

std::string study_data(const TempDir& tmp) { return nf::test::fixture_data(tmp, 99, 3000); }

struct Png {
  int w = 0, h = 0;
  size_t colours = 0;
};
Png decode_png(const std::string& path) {
  int w = 0, h = 0, comp = 0;
  unsigned char* px = stbi_load(path.c_str(), &w, &h, &comp, 3);
  REQUIRE_MESSAGE(px != nullptr, path << ": " << (stbi_failure_reason() ? stbi_failure_reason() : "?"));
  std::set<uint32_t> colours;
  for (int i = 0; i < w * h; ++i)
    colours.insert(uint32_t(px[3 * i]) << 16 | uint32_t(px[3 * i + 1]) << 8 | px[3 * i + 2]);
  stbi_image_free(px);
  return {w, h, colours.size()};
}

CompareOptions tiny_compare(const std::string& data, const std::string& out) {
  CompareOptions o;
  o.data_dir = data;
  o.out_dir = out;
  o.attentions = {"base", "diff"};
  o.seeds = 1;
  o.seed = 5;
  o.overrides = {{"n-layer", "1"},    {"n-head", "2"},       {"n-embd", "16"},    {"block-size", "16"},
                 {"batch-size", "2"}, {"max-iters", "4"},    {"eval-interval", "2"}, {"eval-iters", "1"},
                 {"warmup-iters", "0"}};
  o.eval_windows = 4;
  o.eval_batch = 2;
  o.logit_batch = 2;
  o.quiet = true;
  return o;
}

GPTConfig map_config(const std::string& attention) { return nf::test::tiny_gpt(attention, 16, 16, 4, 20); }

}  // namespace

TEST_SUITE("study") {
  TEST_CASE("summarize_runs and the markdown table on hand-made numbers") {
    auto run = [](const std::string& a, uint64_t seed, int64_t params, double val, double tok, double peak_mib, double logit) {
      RunSummary r;
      r.attention = a;
      r.seed = seed;
      r.parameters = params;
      r.val_loss = val;
      r.tok_per_s = tok;
      r.peak_bytes = peak_mib * 1024 * 1024;
      r.max_logit = logit;
      return r;
    };
    CompareResult res;
    res.base_parameters = 1000;
    res.runs = {run("base", 1, 1000, 1.5, 1000, 1.0, 3.0), run("base", 2, 1000, 1.7, 3000, 2.0, 5.0),
                run("symmetric", 1, 940, 2.0, 1500, 0.5, 7.25)};
    res.variants = summarize_runs(res.runs, res.base_parameters);
    REQUIRE(res.variants.size() == 2);
    const VariantSummary& b = res.variants[0];
    CHECK(b.attention == "base");
    CHECK(b.runs == 2);
    CHECK(b.val_mean == doctest::Approx(1.6));
    CHECK(b.val_std == doctest::Approx(std::sqrt(0.02)));  // sample std of {1.5, 1.7}
    CHECK(b.tok_per_s == doctest::Approx(2000));
    CHECK(b.peak_mib == doctest::Approx(2.0));  // max over seeds
    CHECK(b.max_logit_mean == doctest::Approx(4.0));
    CHECK(b.params_vs_base_pct == doctest::Approx(0.0));
    const VariantSummary& s = res.variants[1];
    CHECK(s.params_vs_base_pct == doctest::Approx(-6.0));
    CHECK(s.val_std == 0.0);

    const std::string md = results_markdown(res);
    CHECK(md.find("| attention | parameters | vs base | val loss | train tok/s | peak tensor MiB | max \\|logit\\| |") != std::string::npos);
    CHECK(md.find("| base | 1,000 | +0.0% | 1.6000 ± 0.1414 | 2,000 | 2.0 | 4.00 ± 1.41 |") != std::string::npos);
    CHECK(md.find("| symmetric | 940 | -6.0% | 2.0000 | 1,500 | 0.5 | 7.25 |") != std::string::npos);

    nlohmann::json j = results_json(res);
    CHECK(j["base_parameters"] == 1000);
    CHECK(j["variants"].size() == 2);
    CHECK(j["variants"][0]["val_loss_std"].get<double>() == doctest::Approx(std::sqrt(0.02)));
    CHECK(j["runs"].size() == 3);
    CHECK(j["runs"][2]["max_logit"].get<double>() == 7.25);
  }

  TEST_CASE("read_log: curves, resumed duplicates (last wins), throughput of training steps only") {
    TempDir tmp;
    const std::string path = tmp.file("log.jsonl");
    {
      std::ofstream f(path);
      f << R"({"iter":0,"loss":4.0,"lr":0.001,"ms":100.0,"tok_per_s":1000.0})" << "\n"
        << R"({"iter":1,"loss":3.0,"lr":0.001,"ms":100.0,"tok_per_s":1000.0})" << "\n"
        << R"({"iter":1,"train_loss":3.1,"val_loss":3.2})" << "\n"
        << R"({"iter":2,"loss":9.0,"lr":0.001,"ms":50.0,"tok_per_s":2000.0})" << "\n"  // lost to a kill …
        << R"({"iter":2,"loss":2.5,"lr":0.001,"ms":100.0,"tok_per_s":1000.0})" << "\n"  // … and redone
        << R"({"iter":3,"train_loss":2.4,"val_loss":2.6})" << "\n"
        << R"({"iter":3,"lo)";  // a line cut short
    }
    LogCurves c = read_log(path);
    CHECK(c.iterations == 3);
    REQUIRE(c.train.size() == 3);
    CHECK(c.train[2].second == 2.5);
    REQUIRE(c.val.size() == 2);
    CHECK(c.val[0] == std::make_pair<int64_t, double>(1, 3.2));
    CHECK(c.val[1] == std::make_pair<int64_t, double>(3, 2.6));
    CHECK(c.tokens == doctest::Approx(300));
    CHECK(c.ms == doctest::Approx(300));
    CHECK_THROWS_WITH_AS(read_log(tmp.file("none.jsonl")), doctest::Contains("none.jsonl"), std::runtime_error);
  }

  TEST_CASE("presets: the file, then overrides, then attention/seed/data/out") {
    TempDir tmp;
    fs::create_directories(tmp.file("cfg"));
    {
      std::ofstream f(tmp.file("cfg/tiny-diff.json"));
      f << R"({"attention":"base","data":"somewhere","out":"runs/x","seed":77,"n_layer":3,"n_head":2,"n_embd":32,)"
        << R"("block_size":32,"max_iters":1500,"lr":0.002})";
    }
    CompareOptions o;
    o.preset = "tiny";
    o.configs_dir = tmp.file("cfg");
    o.overrides = {{"max-iters", "9"}};
    TrainOptions t = resolve_train_options(o, "diff", std::nullopt, tmp.file("run"));
    CHECK(t.model.attention == "diff");
    CHECK(t.model.n_layer == 3);
    CHECK(t.lr == doctest::Approx(0.002));
    CHECK(t.max_iters == 9);
    CHECK(t.seed == 77);
    CHECK(t.data_dir == "somewhere");
    CHECK(t.out_dir == tmp.file("run"));
    CHECK(t.quiet);
    t = resolve_train_options(o, "diff", 5, tmp.file("run"));
    CHECK(t.seed == 5);
    CHECK_THROWS_WITH_AS(resolve_train_options(o, "base", std::nullopt, "x"), doctest::Contains("tiny-base.json"),
                         std::runtime_error);
    o.overrides = {{"n-layr", "2"}};
    CHECK_THROWS_AS(resolve_train_options(o, "diff", std::nullopt, "x"), std::runtime_error);
  }

  TEST_CASE("compare: two tiny runs; a second invocation reuses them; an interrupted one resumes") {
    TempDir tmp;
    const std::string data = study_data(tmp);
    const std::string out = tmp.file("results");
    CompareOptions o = tiny_compare(data, out);

    CompareResult r1 = run_compare(o);
    CHECK(r1.trained == 2);
    CHECK(r1.reused == 0);
    REQUIRE(r1.runs.size() == 2);
    for (const auto& r : r1.runs) {
      CHECK(fs::exists(fs::path(r.run_dir) / "ckpt.safetensors"));
      CHECK(fs::exists(fs::path(r.run_dir) / "summary.json"));
      CHECK(r.iterations == 4);
      CHECK(r.val_curve.size() == 2);  // evaluations after iterations 1 and 3
      CHECK(r.train_curve.size() == 4);
      CHECK(r.val_tokens == 4 * 16);
      CHECK(std::isfinite(r.val_loss));
      CHECK(r.val_loss > 0);
      CHECK(r.tok_per_s > 0);
      CHECK(r.max_logit > 0);
      CHECK(r.peak_bytes > 0);
    }
    CHECK(r1.runs[0].run_dir == (fs::path(out) / "base-seed5").string());
    CHECK(r1.runs[1].attention == "diff");
    CHECK(r1.runs[1].parameters > r1.runs[0].parameters);  // diff adds λ vectors and subln
    for (const char* f : {"results.md", "results.json", "loss_curves.png", "train_loss_curves.png"})
      CHECK_MESSAGE(fs::exists(fs::path(out) / f), f);

    const std::string log0 = read_bytes(r1.runs[0].run_dir + "/log.jsonl"), log1 = read_bytes(r1.runs[1].run_dir + "/log.jsonl");
    const auto t0 = fs::last_write_time(r1.runs[0].run_dir + "/ckpt.safetensors");
    const auto t1 = fs::last_write_time(r1.runs[1].run_dir + "/ckpt.safetensors");

    // Second invocation: nothing is retrained, the numbers are the same.
    CompareResult r2 = run_compare(o);
    CHECK(r2.trained == 0);
    CHECK(r2.reused == 2);
    for (size_t i = 0; i < 2; ++i) {
      CHECK(r2.runs[i].reused);
      CHECK(r2.runs[i].val_loss == r1.runs[i].val_loss);
      CHECK(r2.runs[i].max_logit == r1.runs[i].max_logit);
      CHECK(r2.runs[i].val_curve == r1.runs[i].val_curve);
    }
    CHECK(read_bytes(r1.runs[0].run_dir + "/log.jsonl") == log0);
    CHECK(fs::last_write_time(r1.runs[0].run_dir + "/ckpt.safetensors") == t0);
    CHECK(fs::last_write_time(r1.runs[1].run_dir + "/ckpt.safetensors") == t1);

    // An interrupted run (no summary.json yet) resumes from its checkpoint state: here it had
    // finished all iterations, so nothing is appended and the same checkpoint is measured.
    fs::remove(r1.runs[1].run_dir + "/summary.json");
    CompareResult r3 = run_compare(o);
    CHECK(r3.trained == 1);
    CHECK(r3.reused == 1);
    CHECK(r3.runs[0].reused);
    CHECK_FALSE(r3.runs[1].reused);
    CHECK(r3.runs[1].val_loss == r1.runs[1].val_loss);
    CHECK(read_bytes(r1.runs[1].run_dir + "/log.jsonl") == log1);

    // Other measurement settings: re-measured from the checkpoint, still not retrained.
    o.eval_windows = 2;
    CompareResult r4 = run_compare(o);
    CHECK(r4.trained == 0);
    CHECK(r4.runs[0].val_tokens == 2 * 16);
    CHECK(fs::last_write_time(r1.runs[0].run_dir + "/ckpt.safetensors") == t0);

    // Other training settings into the same folder: refused, nothing overwritten.
    o.overrides.back() = {"warmup-iters", "1"};
    CHECK_THROWS_WITH_AS(run_compare(o), doctest::Contains("different settings"), std::runtime_error);
    CHECK(read_bytes(r1.runs[0].run_dir + "/log.jsonl") == log0);
  }

  TEST_CASE("compare: a preset variant (base-alibi) runs under its own name with its file's settings") {
    TempDir tmp;
    const std::string data = study_data(tmp);
    fs::create_directories(tmp.file("cfg"));
    write_bytes(tmp.file("cfg/tiny-base.json"), R"({"attention":"base","seed":5})");
    write_bytes(tmp.file("cfg/tiny-base-alibi.json"), R"({"attention":"base","pos_bias":"alibi","seed":5})");
    CompareOptions o = tiny_compare(data, tmp.file("results"));
    o.preset = "tiny";
    o.configs_dir = tmp.file("cfg");
    o.attentions = {"base", "base-alibi"};
    CompareResult r = run_compare(o);
    REQUIRE(r.runs.size() == 2);
    CHECK(r.runs[1].attention == "base-alibi");
    CHECK(r.runs[1].run_dir == (fs::path(tmp.file("results")) / "base-alibi-seed5").string());
    CHECK(load_model(r.runs[1].run_dir + "/ckpt.safetensors").model->config().pos_bias == "alibi");
    CHECK(load_model(r.runs[0].run_dir + "/ckpt.safetensors").model->config().pos_bias == "none");
    CHECK(r.runs[1].parameters == r.runs[0].parameters);  // ALiBi has no parameters
    CHECK(r.runs[1].val_loss != r.runs[0].val_loss);
    CHECK(results_markdown(r).find("| base-alibi | ") != std::string::npos);
    // A name that is neither an attention nor a preset file: one line naming both.
    o.attentions = {"base", "base-rope"};
    CHECK(error_of([&] { run_compare(o); }).find("unknown variant 'base-rope': not an attention (base|") == 0);
    CHECK(contains(error_of([&] { run_compare(o); }), "tiny-base-rope.json"));
    o.preset = "";
    CHECK(contains(error_of([&] { run_compare(o); }), "needs --preset"));
  }

  TEST_CASE("max_attention_logit: the max over several batches of windows, whatever the batching") {
    TempDir tmp;
    const std::string data = study_data(tmp);
    const int vocab = load_tokenizer(data + "/meta.json")->vocab_size();
    TokenData val = TokenData::load(data + "/val.bin", vocab);
    for (const std::string a : {"base", "noise-v2", "selective", "diff"}) {
      CAPTURE(a);
      GPT m(nf::test::tiny_gpt(a, 16, 16, 2, vocab), 3);
      nf::test::perturb(m, 0.3, 4);
      const double one = max_attention_logit(m, val, 1, 1), six = max_attention_logit(m, val, 2, 3);
      CHECK(one > 0);
      // Its windows include the first one's; a window computed inside a different batch may
      // differ in its last bits (the matrix products are blocked differently), hence the margin.
      CHECK(six >= one * (1 - 1e-6));
      CHECK(six == doctest::Approx(max_attention_logit(m, val, 6, 1)).epsilon(1e-6));  // same windows, one batch
      CHECK(six == doctest::Approx(max_attention_logit(m, val, 1, 6)).epsilon(1e-6));
    }
  }

  TEST_CASE("noise history: read from log.jsonl's evaluation lines, drawn one panel per layer") {
    TempDir tmp;
    const std::string path = tmp.file("log.jsonl");
    write_bytes(path, std::string(R"({"iter":0,"loss":4.0,"lr":0.001,"ms":1.0,"tok_per_s":1.0,"kl":0.0})") + "\n" +
                          R"({"iter":1,"train_loss":3.0,"val_loss":3.1,"noise_sigma":[[1.0,0.9],[0.8,0.7],[1.0,1.0]],"noise_mu":[[0,0],[0,0],[0,0.5]]})" + "\n" +
                          R"({"iter":3,"train_loss":2.0,"val_loss":2.1,"noise_sigma":[[0.5,0.4],[0.6,0.7],[0.9,1.1]],"noise_mu":[[0,0],[0,0],[0,0.25]]})" + "\n" +
                          R"({"iter":3,"train_)");  // cut short by a kill
    NoiseHistory h = read_noise_history(path);
    CHECK(h.x == std::vector<int64_t>{1, 3});
    REQUIRE(h.sigma.size() == 2);
    CHECK(h.sigma[1][2][1] == 1.1);
    CHECK(h.mu[0][2][1] == 0.5);
    const std::string png = tmp.file("sigma.png");
    noise_chart(h, "sigma", "noise sigma").write_png(png);
    const Png p = decode_png(png);
    CHECK(p.w == 2 * 640);  // two columns of panels
    CHECK(p.h == 40 + 2 * 380);  // three layers: two rows
    CHECK(p.colours > 5);
    CHECK_THROWS_WITH_AS(noise_chart(h, "logvar", "x"), doctest::Contains("sigma or mu"), std::invalid_argument);
    const nlohmann::json j = noise_history_json(h);
    CHECK(j["x"] == nlohmann::json::array({1, 3}));
    CHECK(j["sigma"][1][2][1] == 1.1);
    CHECK(j["mu"][0][2][1] == 0.5);

    write_bytes(path, R"({"iter":1,"train_loss":3.0,"val_loss":3.1})" "\n");  // base model: no noise fields
    CHECK_THROWS_WITH_AS(read_noise_history(path), doctest::Contains("no evaluation line with noise_sigma"), std::runtime_error);
    write_bytes(path, std::string(R"({"iter":1,"noise_sigma":[[1.0]],"noise_mu":[[0.0]]})") + "\n" +
                          R"({"iter":2,"noise_sigma":[[1.0,2.0]],"noise_mu":[[0.0,0.0]]})" + "\n");
    CHECK_THROWS_WITH_AS(read_noise_history(path), doctest::Contains("differ"), std::runtime_error);
  }

  TEST_CASE("noise by distance: a relpos model's tables read per layer, map and distance") {
    for (const std::string attention : {"noise-v1", "noise-v2"}) {
      CAPTURE(attention);
      GPTConfig c = nf::test::tiny_gpt(attention, 8, 6, 2, 11, 2);
      c.noise_mean = "relpos";
      GPT m(c, 5);
      perturb(m, 0.3, 6);
      const NoiseHistory h = noise_by_distance(m);
      CHECK(h.x == std::vector<int64_t>{0, 1, 2, 3, 4, 5});
      const size_t maps = attention == "noise-v2" ? 2 : 1;
      for (size_t l = 0; l < 2; ++l) {
        const auto a = std::dynamic_pointer_cast<NoiseAttention>(m.blocks[l]->attn);
        REQUIRE(a);
        const std::vector<double> mu = a->noise_mu.to_vector<double>(), lv = a->noise_logvar.to_vector<double>();
        for (size_t d = 0; d < 6; ++d) {
          REQUIRE(h.mu[d][l].size() == maps);
          for (size_t k = 0; k < maps; ++k) {
            CHECK(h.mu[d][l][k] == mu[k * 6 + d]);
            CHECK(h.sigma[d][l][k] == doctest::Approx(std::exp(0.5 * lv[k * 6 + d])));
          }
        }
      }
    }
    CHECK_THROWS_WITH_AS(noise_by_distance(GPT(nf::test::tiny_gpt("noise-v2", 8, 6))), doctest::Contains("noise_mean relpos"),
                         std::invalid_argument);
    CHECK_THROWS_AS(noise_by_distance(GPT(nf::test::tiny_gpt("base", 8, 6))), std::invalid_argument);
  }

  TEST_CASE("loss-curve PNGs decode, have the chart's size and are not blank") {
    std::vector<RunSummary> runs;
    for (int v = 0; v < 3; ++v)
      for (int s = 0; s < 2; ++s) {
        RunSummary r;
        r.attention = attention_names()[static_cast<size_t>(v)];
        r.seed = static_cast<uint64_t>(s);
        for (int it = 0; it < 5; ++it) {
          r.val_curve.push_back({it * 10 + 9, 3.0 - 0.2 * it - 0.05 * v + 0.01 * s});
          for (int k = 0; k < 10; ++k) r.train_curve.push_back({it * 10 + k, 3.2 - 0.02 * (it * 10 + k)});
        }
        runs.push_back(r);
      }
    TempDir tmp;
    write_loss_curves(runs, tmp.file("val.png"), tmp.file("train.png"));
    for (const char* f : {"val.png", "train.png"}) {
      Png p = decode_png(tmp.file(f));
      CHECK(p.w == 900);
      CHECK(p.h == 560);
      CHECK(p.colours >= 5);  // white, black, grid grey, three curve colours
    }
    // An empty chart is still a valid picture.
    plot::line_chart({}, "empty", "x", "y", 300, 200).write_png(tmp.file("empty.png"));
    CHECK(decode_png(tmp.file("empty.png")).w == 300);
  }

  TEST_CASE("attention maps: probabilities, noise-free = eval mean, P = A1 - lambda A2, selective F") {
    std::vector<int64_t> ids{1, 5, 3, 9, 2, 7, 7, 0, 4, 11};
    const int64_t T = static_cast<int64_t>(ids.size());
    auto causal_rows_sum_to_one = [&](const std::vector<float>& p) {
      for (int64_t i = 0; i < T; ++i) {
        double s = 0;
        for (int64_t j = 0; j < T; ++j) {
          if (j > i) CHECK(p[static_cast<size_t>(i * T + j)] == 0.0f);
          s += p[static_cast<size_t>(i * T + j)];
        }
        CHECK(s == doctest::Approx(1.0).epsilon(1e-5));
      }
    };
    SUBCASE("base") {
      GPT m(map_config("base"), 3);
      AttentionMaps a = compute_attention_maps(m, ids, 1, 1);
      REQUIRE(a.rows.size() == 1);
      REQUIRE(a.rows[0].panels.size() == 4);
      for (const auto& p : a.rows[0].panels) causal_rows_sum_to_one(p);
      CHECK_THROWS_AS(compute_attention_maps(m, ids, 2, 1), std::invalid_argument);
    }
    SUBCASE("noise-v2: noise-free row equals the eval-mode map; the sample differs") {
      GPT m(map_config("noise-v2"), 3);
      AttentionMaps a = compute_attention_maps(m, ids, 1, 1);
      REQUIRE(a.rows.size() == 2);
      for (const auto& r : a.rows)
        for (const auto& p : r.panels) causal_rows_sum_to_one(p);
      AttentionProbe& probe = m.blocks[1]->attn->probe();
      CHECK_FALSE(m.is_training());
      probe.record_maps(true);
      {
        NoGradGuard ng;
        m.forward(from_vector(ids, {1, T}));
      }
      REQUIRE(probe.maps().size() == 1);
      std::vector<double> eval_map = probe.maps()[0].value.to_vector<double>();
      double diff_free = 0, diff_sample = 0;
      for (size_t h = 0; h < 4; ++h)
        for (size_t k = 0; k < static_cast<size_t>(T * T); ++k) {
          diff_free = std::max(diff_free, std::abs(eval_map[h * T * T + k] - a.rows[0].panels[h][k]));
          diff_sample = std::max(diff_sample, static_cast<double>(std::abs(a.rows[1].panels[h][k] - a.rows[0].panels[h][k])));
        }
      CHECK(diff_free < 1e-6);
      CHECK(diff_sample > 1e-3);  // σ = 1 at initialisation
    }
    SUBCASE("diff: A1, A2 probabilities, P = A1 - lambda A2 (diverging)") {
      GPT m(map_config("diff"), 3);
      AttentionMaps a = compute_attention_maps(m, ids, 0, 1);
      REQUIRE(a.rows.size() == 3);
      CHECK(a.rows[2].diverging);
      REQUIRE(a.rows[0].panels.size() == 2);  // h = H/2 heads
      const double lambda = std::dynamic_pointer_cast<DiffAttention>(m.blocks[0]->attn)->lambda().item();
      for (size_t h = 0; h < 2; ++h) {
        causal_rows_sum_to_one(a.rows[0].panels[h]);
        causal_rows_sum_to_one(a.rows[1].panels[h]);
        for (size_t k = 0; k < static_cast<size_t>(T * T); ++k)
          CHECK(a.rows[2].panels[h][k] ==
                doctest::Approx(a.rows[0].panels[h][k] - lambda * a.rows[1].panels[h][k]).epsilon(1e-5));
      }
    }
    SUBCASE("selective: F (one panel, ≥ 0, zero on the first row) and the final maps") {
      GPT m(map_config("selective"), 3);
      AttentionMaps a = compute_attention_maps(m, ids, 1, 1);
      REQUIRE(a.rows.size() == 2);
      REQUIRE(a.rows[0].panels.size() == 1);
      const auto& F = a.rows[0].panels[0];
      for (int64_t j = 0; j < T; ++j) CHECK(F[static_cast<size_t>(j)] == 0.0f);
      for (float f : F) CHECK(f >= 0.0f);
      REQUIRE(a.rows[1].panels.size() == 4);
      for (const auto& p : a.rows[1].panels) causal_rows_sum_to_one(p);
    }
  }

  TEST_CASE("attention-map PNGs from saved checkpoints decode, right size, not blank") {
    TempDir tmp;
    const std::string data = study_data(tmp);
    const std::string meta = load_tokenizer(data + "/meta.json")->to_meta_json().dump();
    const int vocab = load_tokenizer(data + "/meta.json")->vocab_size();
    for (const char* att : {"base", "noise-v1", "diff", "shared-diff", "selective"}) {
      CAPTURE(att);
      GPTConfig c = map_config(att);
      c.vocab_size = vocab;
      GPT m(c, 11);
      const std::string ckpt = tmp.file(std::string(att) + ".safetensors");
      save_model(ckpt, m, meta);
      AttentionMapOptions o;
      o.checkpoint = ckpt;
      o.prompt = "the king said unto them";  // 23 chars: the last 16 are used
      o.layer = 1;
      o.out = tmp.file(std::string(att) + ".png");
      AttentionMaps a = write_attention_map(o);
      CHECK(a.T == 16);
      CHECK(a.prompt_tokens == 23);
      CHECK(a.tokens.size() == 16);
      plot::Canvas expect = render_attention_maps(a, 0, "x");
      Png p = decode_png(o.out);
      CHECK(p.w == expect.width());
      CHECK(p.h == expect.height());
      CHECK(p.colours >= 8);
    }
    AttentionMapOptions bad;
    bad.checkpoint = tmp.file("base.safetensors");
    bad.prompt = "the";
    bad.layer = 5;
    bad.out = tmp.file("bad.png");
    CHECK_THROWS_WITH_AS(write_attention_map(bad), doctest::Contains("--layer 5"), std::invalid_argument);
    CHECK_FALSE(fs::exists(bad.out));
  }

  TEST_CASE("plot helpers: nice ticks, labels, text drawing") {
    std::vector<double> t = plot::nice_ticks(0.0, 600.0, 6);
    REQUIRE(t.size() >= 2);
    CHECK(t.front() == 0.0);
    CHECK(t[1] - t[0] == doctest::Approx(100.0));
    CHECK(plot::tick_label(1.25, 0.25) == "1.25");
    CHECK(plot::tick_label(300, 100) == "300");
    plot::Canvas c(40, 20);
    CHECK(c.text(1, 1, "A1", plot::kBlack) == 12);
    bool ink = false;
    for (int y = 0; y < 20; ++y)
      for (int x = 0; x < 40; ++x) ink = ink || c.get(x, y) == plot::kBlack;
    CHECK(ink);
    const std::string png = c.png();
    CHECK(png.substr(1, 3) == "PNG");
  }
}
