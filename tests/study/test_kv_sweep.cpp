// kv-sweep (study/kv_sweep.h): the smallest KV-cache budget at which each variant is within a
// tolerance of the reference's full-context loss; its summaries on hand-made numbers, a sweep
// over a real tiny compare folder (the full-context loss agrees with the batched evaluation, a
// second invocation reuses every point), its refusals, and the seed band it draws.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "io/checkpoint.h"
#include "study/compare.h"
#include "study/kv_sweep.h"
#include "study/plot.h"
#include "tests/support.h"
#include "train/trainer.h"

using namespace nf;
using namespace nf::test;
namespace fs = std::filesystem;

namespace {

KVSweepPoint point(const std::string& v, uint64_t seed, int64_t budget, double loss, int64_t mem) {
  return {v, seed, budget, loss, 100, mem, 6400, false};
}

}  // namespace

TEST_SUITE("study") {
  TEST_CASE("kv-sweep summary: mean, spread and the smallest budget within the tolerance") {
    // block_size 64; reference 2.0, tolerance 1 %: the target is loss <= 2.02.
    std::vector<KVSweepPoint> pts;
    for (uint64_t s : {1, 2}) {
      const double d = s == 1 ? -0.001 : 0.001;
      pts.push_back(point("sel", s, 0, 1.99 + d, 6400));
      pts.push_back(point("sel", s, 32, 2.00 + d, 3200));
      pts.push_back(point("sel", s, 8, 2.015 + d, 800));
      pts.push_back(point("sel", s, 4, 2.10 + d, 400));
      pts.push_back(point("base", s, 0, 2.00 + d, 6400));
      pts.push_back(point("base", s, 32, 2.05 + d, 3200));
      pts.push_back(point("base", s, 8, 2.30 + d, 800));
      pts.push_back(point("base", s, 4, 2.60 + d, 400));
    }
    std::vector<KVSweepVariant> v = summarize_kv_sweep(pts, {"base", "sel"}, 2.0, 0.01, 64);
    REQUIRE(v.size() == 2);
    CHECK(v[0].budgets == std::vector<int64_t>{4, 8, 32, 0});  // ascending entries; 0 is all 64
    CHECK(v[1].mean[1] == doctest::Approx(2.015));
    CHECK(v[1].std[1] == doctest::Approx(std::sqrt(2 * 0.001 * 0.001)));
    CHECK(v[1].lo[1] == doctest::Approx(2.014));
    CHECK(v[1].hi[1] == doctest::Approx(2.016));
    CHECK(v[0].equal_budget == 0);  // base reaches its own loss only with the whole context
    CHECK(v[1].equal_budget == 8);
    CHECK(v[1].equal_memory_bytes == 800);
    CHECK(v[1].full_cache_bytes == 6400);
    // A tighter tolerance no budget of base meets... and one that even the whole context misses.
    CHECK(summarize_kv_sweep(pts, {"sel"}, 2.0, 0.0, 64)[0].equal_budget == 32);
    CHECK(summarize_kv_sweep(pts, {"base"}, 1.9, 0.01, 64)[0].equal_budget == -1);
  }

  TEST_CASE("kv-sweep over a compare folder: full context = batched eval, budgets, reuse, files") {
    TempDir tmp;
    const std::string data = fixture_data(tmp, 7, 3000);
    CompareOptions c;
    c.data_dir = data;
    c.out_dir = tmp.file("runs");
    c.attentions = {"base", "selective"};
    c.seeds = 2;
    c.seed = 3;
    c.overrides = {{"n-layer", "2"},    {"n-head", "2"},    {"n-embd", "16"},       {"block-size", "16"},
                   {"batch-size", "2"}, {"max-iters", "3"}, {"eval-interval", "3"}, {"eval-iters", "1"},
                   {"warmup-iters", "0"}};
    c.eval_windows = 2;
    c.eval_batch = 2;
    c.logit_batch = 2;
    c.logit_batches = 1;
    c.quiet = true;
    run_compare(c);

    KVSweepOptions o;
    o.runs_dir = c.out_dir;
    o.variants = {"base", "selective"};
    o.budgets = {0, 8, 4, 2};
    o.max_windows = 0;  // every window: comparable with evaluate_windows
    KVSweepResult r = run_kv_sweep(o);
    CHECK(r.block_size == 16);
    CHECK(r.points.size() == 2 * 2 * 4);
    for (const char* f : {"kv_sweep.json", "kv_sweep.md", "kv_sweep.png"})
      CHECK_MESSAGE(fs::exists(fs::path(c.out_dir) / "kv-sweep" / f), f);

    // The whole context decoded token by token is the batched full-sequence evaluation.
    const TokenData val = TokenData::load(data + "/val.bin", 0);
    for (const auto& p : r.points) {
      CAPTURE(p.variant);
      CAPTURE(p.budget);
      CHECK_FALSE(p.reused);
      CHECK(p.tokens > 0);
      CHECK(p.tokens % 16 == 0);
      CHECK(p.tokens == r.points.front().tokens);
      if (p.budget == 0) {
        LoadedModel lm = load_model(c.out_dir + "/" + p.variant + "-seed" + std::to_string(p.seed) + "/ckpt.safetensors");
        CHECK(p.loss == doctest::Approx(evaluate_windows(*lm.model, val, 4).loss).epsilon(1e-5));
        CHECK(p.memory_bytes == p.full_cache_bytes);
      } else {
        CHECK(p.memory_bytes == p.full_cache_bytes * p.budget / 16);  // every layer filled its budget
      }
    }
    // The reference is base's full-context loss, its mean over the seeds.
    double ref = 0;
    for (const auto& p : r.points)
      if (p.variant == "base" && p.budget == 0) ref += p.loss / 2;
    CHECK(r.reference_loss == doctest::Approx(ref));
    REQUIRE(r.variants.size() == 2);
    CHECK(r.variants[0].budgets == std::vector<int64_t>{2, 4, 8, 0});
    CHECK(r.variants[0].equal_budget >= 0);  // base at full context is within 1 % of itself
    CHECK(read_bytes(c.out_dir + "/kv-sweep/kv_sweep.md").find("| full (16) |") != std::string::npos);

    // A second invocation decodes nothing again and reports the same numbers.
    KVSweepResult again = run_kv_sweep(o);
    REQUIRE(again.points.size() == r.points.size());
    for (size_t i = 0; i < r.points.size(); ++i) {
      CHECK(again.points[i].reused);
      CHECK(again.points[i].loss == r.points[i].loss);
    }
    CHECK(again.reference_loss == r.reference_loss);

    // Refusals, one line each.
    KVSweepOptions bad = o;
    bad.reference = "symmetric";
    CHECK_THROWS_WITH_AS(run_kv_sweep(bad), doctest::Contains("not among the variants"), std::invalid_argument);
    bad = o;
    bad.budgets = {8, 4};
    CHECK_THROWS_WITH_AS(run_kv_sweep(bad), doctest::Contains("must include 0"), std::invalid_argument);
    bad = o;
    bad.budgets = {0, 1};
    CHECK_THROWS_WITH_AS(run_kv_sweep(bad), doctest::Contains("budget 1 is not 0 or in [2, block_size = 16]"),
                         std::invalid_argument);
    bad = o;
    bad.budgets = {0, 17};
    CHECK_THROWS_AS(run_kv_sweep(bad), std::invalid_argument);
    bad = o;
    bad.variants = {"base", "diff"};
    CHECK_THROWS_WITH_AS(run_kv_sweep(bad), doctest::Contains("no finished run of 'diff'"), std::runtime_error);
    bad = o;
    bad.runs_dir = tmp.file("nowhere");
    CHECK_THROWS_WITH_AS(run_kv_sweep(bad), doctest::Contains("not a directory"), std::runtime_error);
  }

  TEST_CASE("line_chart draws a band of a series' spread under its curve") {
    plot::Series s{"a", {0, 1, 2}, {1, 2, 1.5}, plot::category_color(0), false};
    const plot::Canvas plain = plot::line_chart({s}, "t", "x", "y", 400, 300);
    s.lo = {0.5, 1.5, 1.0};
    s.hi = {1.5, 2.5, 2.0};
    const plot::Canvas banded = plot::line_chart({s}, "t", "x", "y", 400, 300);
    // The band is the series' colour blended into the white background.
    const auto tint = [](uint8_t c) { return static_cast<uint8_t>(std::lround(0.78 * 255 + 0.22 * c)); };
    const plot::Rgb c = plot::category_color(0), band{tint(c.r), tint(c.g), tint(c.b)};
    const auto count = [&](const plot::Canvas& cv) {
      size_t n = 0;
      for (int y = 0; y < cv.height(); ++y)
        for (int x = 0; x < cv.width(); ++x) n += cv.get(x, y) == band;
      return n;
    };
    CHECK(count(plain) == 0);
    CHECK(count(banded) > 1000);
    // On a log2 x axis the same series draws its band too, and x <= 0 is left out, not drawn.
    plot::Series l{"b", {0, 2, 8, 64}, {3, 2, 1.5, 1.4}, plot::category_color(0), false};
    l.lo = {3, 1.9, 1.4, 1.3};
    l.hi = {3, 2.1, 1.6, 1.5};
    CHECK(count(plot::line_chart({l}, "t", "x", "y", 400, 300, /*log2_x=*/true)) > 1000);
    s.hi.pop_back();
    CHECK_THROWS_WITH_AS(plot::line_chart({s}, "t", "x", "y", 400, 300), doctest::Contains("band of another length"),
                         std::invalid_argument);
  }
}
