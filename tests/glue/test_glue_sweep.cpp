// `noiseformer glue --all` (glue/sweep.h, glue/table.h): the table in the paper's layout with a
// majority-class row, several seeds per cell as mean ± sample std, tasks left out for missing
// files, and a sweep that reuses the runs an earlier invocation finished. Fixtures and the tiny
// checkpoint are written by the tests (tests/glue/glue_fixtures.h); every run is one epoch on
// nine training rows.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "glue/sweep.h"
#include "glue/table.h"
#include "tests/glue/glue_fixtures.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using nf::GlueTask;
using json = nlohmann::ordered_json;

using namespace nf::test;

namespace {

json read_json(const fs::path& p) { return json::parse(read_bytes(p)); }

// The cells of one markdown table row, "| a | b |" -> {"a", "b"}.
std::vector<std::string> cells_of(const std::string& row) {
  std::vector<std::string> out;
  const std::string inner = row.substr(2, row.size() - 4);
  size_t start = 0;
  for (size_t at; (at = inner.find(" | ", start)) != std::string::npos; start = at + 3) out.push_back(inner.substr(start, at - start));
  out.push_back(inner.substr(start));
  return out;
}

// A one-seed cell as the table writes it: each metric of `part` ("metrics" or "majority") × 100
// with 2 decimals, joined by "/".
std::string one_seed_cell(const json& summary, const std::string& part) {
  std::string cell;
  for (const auto& set : summary.at(part).items())
    for (const auto& metric : set.value().items()) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.2f", 100 * metric.value().get<double>());
      cell += (cell.empty() ? "" : "/") + std::string(buf);
    }
  return cell;
}

// A summary as metrics.json holds it, for tables built by hand: one metric of a one-dev-set task.
json summary_of(uint64_t seed, const std::string& set, const std::string& metric, double value, double majority) {
  return {{"seed", seed}, {"metrics", {{set, {{metric, value}}}}}, {"majority", {{set, {{metric, majority}}}}}};
}

// Every metrics.json under `dir` with its modification time.
std::map<std::string, fs::file_time_type> metrics_times(const fs::path& dir) {
  std::map<std::string, fs::file_time_type> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.path().filename() == "metrics.json") out[e.path().string()] = fs::last_write_time(e.path());
  return out;
}

nf::GlueSweepOptions small_sweep(const fs::path& dir, const std::string& ckpt) {
  nf::GlueSweepOptions s;
  s.run.glue_dir = (dir / "glue").string();
  s.run.epochs = 1;
  s.run.batch_size = 4;
  s.run.lr = 1e-3;
  s.run.quiet = true;
  s.run.skip_malformed = true;  // every fixture file has one bad row
  s.tasks = {"RTE", "STS-B"};
  s.checkpoints = {ckpt};
  s.labels = {"base"};
  s.out_dir = (dir / "sweep").string();
  s.seeds = 2;
  return s;
}

}  // namespace

TEST_SUITE("glue_sweep") {
  TEST_CASE("cells: one seed is the run's metrics x 100; several are mean ± sample std; the majority row; n/a; –") {
    nf::GlueTable t;
    t.tasks = {"RTE", "QQP", "SST-2"};
    t.seeds = {1, 2};
    t.labels = {"a", "b"};
    t.checkpoints = {"a.safetensors", "b.safetensors"};
    t.cells.assign(2, std::vector<nf::GlueTableCell>(3));
    // RTE: row a has both seeds; row b only the first. The baseline is the same for both seeds.
    t.cells[0][0].runs = {summary_of(1, "RTE", "accuracy", 0.5, 0.52), summary_of(2, "RTE", "accuracy", 0.6, 0.52)};
    t.cells[1][0].runs = {summary_of(1, "RTE", "accuracy", 0.7, 0.52)};
    // QQP: no files.
    t.cells[0][1].no_files = t.cells[1][1].no_files = true;
    // SST-2: row a has not run; row b's seeds trained on subsets with different majority baselines.
    t.cells[1][2].runs = {summary_of(1, "SST-2", "accuracy", 0.9, 0.5), summary_of(2, "SST-2", "accuracy", 0.8, 0.6)};
    const auto rows = lines_of(nf::glue_markdown_table(t));
    REQUIRE(rows.size() >= 6);
    CHECK(rows[0] == "| Model | RTE (acc) | QQP (F1/acc) | SST-2 (acc) |");
    CHECK(rows[1] == "|---|---|---|---|");
    // 50 and 60: mean 55, sample std sqrt(((50-55)² + (60-55)²) / (2 - 1)) = 7.07.
    CHECK(rows[2] == "| a | 55.00 ± 7.07 | n/a (no files) | – |");
    CHECK(rows[3] == "| b | 70.00 (1/2 seeds) | n/a (no files) | 85.00 ± 7.07 |");
    CHECK(rows[4] == "| majority class | 52.00 | n/a (no files) | 55.00 ± 7.07 |");
    CHECK(rows[5].empty());
    const std::string table = nf::glue_markdown_table(t);
    CHECK(contains(table, "mean ± sample standard deviation over 2 fine-tuning seeds (1–2)"));
    CHECK(contains(table, "*majority class*: the dev metrics of always predicting the most frequent class"));
    CHECK(contains(table, "*n/a (no files)*"));
    CHECK(contains(table, "*(k/N seeds)*"));
    CHECK_FALSE(contains(table, "STS-B"));  // the footnote speaks of the tasks the table has

    // The JSON twin: per row and task the runs' metrics, the mean and std x 100, and the state.
    const json j = nf::glue_table_json(t);
    CHECK(j["seeds"] == json::array({1, 2}));
    REQUIRE(j["rows"].size() == 3);
    const json& a_rte = j["rows"][0]["cells"]["RTE"];
    CHECK(a_rte["text"] == "55.00 ± 7.07");
    CHECK(a_rte["status"] == "done");
    REQUIRE(a_rte["runs"].size() == 2);
    CHECK(a_rte["runs"][1]["seed"] == 2);
    CHECK(a_rte["runs"][1]["metrics"]["RTE"]["accuracy"] == 0.6);
    CHECK(a_rte["mean"]["RTE"]["accuracy"].get<double>() == doctest::Approx(55.0));
    CHECK(a_rte["std"]["RTE"]["accuracy"].get<double>() == doctest::Approx(std::sqrt(50.0)));
    CHECK(j["rows"][1]["cells"]["RTE"]["status"] == "partial");
    CHECK(j["rows"][1]["cells"]["RTE"]["std"]["RTE"]["accuracy"].is_null());  // one run: no spread
    CHECK(j["rows"][0]["cells"]["QQP"]["status"] == "no files");
    CHECK(j["rows"][0]["cells"]["SST-2"]["status"] == "not run");
    CHECK(j["rows"][0]["checkpoint"] == "a.safetensors");
    CHECK(j["rows"][2]["label"] == "majority class");
    CHECK(j["rows"][2]["checkpoint"].is_null());
    CHECK(j["rows"][2]["cells"]["SST-2"]["runs"][1]["metrics"]["SST-2"]["accuracy"] == 0.6);

    // One planned seed: exactly the run's values, no ±.
    t.seeds = {1};
    t.cells[0][0].runs.resize(1);
    t.cells[1][2].runs.resize(1);
    const auto one = lines_of(nf::glue_markdown_table(t));
    CHECK(one[2] == "| a | 50.00 | n/a (no files) | – |");
    CHECK(one[3] == "| b | 70.00 | n/a (no files) | 90.00 |");
    CHECK(one[4] == "| majority class | 52.00 | n/a (no files) | 50.00 |");
    CHECK(contains(nf::glue_markdown_table(t), "Dev-set metrics × 100, fine-tuned with seed 1."));
  }

  TEST_CASE("glue --all writes the paper's table: one row per checkpoint, the majority class, one column per task") {
    TempDir d;
    write_all_fixtures(d.path / "glue");
    const std::string base = make_checkpoint(d.path, "base");
    const std::string noise = make_checkpoint(d.path, "noise-v2");
    int rc = -1;
    const fs::path out = d.path / "sweep";
    const std::string stdout_text =
        run_glue_cli({"--all", "--glue-dir", (d.path / "glue").string(), "--checkpoint", base, noise, "--epochs", "1",
                      "--batch-size", "4", "--out", out.string(), "--quiet", "--skip-malformed"},
                     rc);
    REQUIRE(rc == 0);
    const auto runs = lines_of(stdout_text);
    REQUIRE(runs.size() == 14);  // one JSON line per run: 2 checkpoints x 7 tasks
    const std::string table = read_bytes(out / "glue_table.md");
    MESSAGE("glue --all on the fixtures:\n" << table);
    const auto rows = lines_of(table);
    REQUIRE(rows.size() > 5);
    CHECK(rows[0] ==
          "| Model | MRPC (F1/acc) | CoLA (MCC) | MNLI (m/mm acc) | QQP (F1/acc) | RTE (acc) | QNLI (acc) | SST-2 (acc) |");
    CHECK(rows[1] == "|---|---|---|---|---|---|---|---|");
    CHECK(rows[5].empty());
    CHECK(rows[6] == "Dev-set metrics × 100, fine-tuned with seed 1337.");
    // Every cell is its run's metrics x 100 (the runs come row by row, in column order); the last
    // row is the runs' majority baseline.
    const std::vector<std::string> row_names = {"base", "noise-v2", "majority class"};
    for (size_t r = 0; r < 3; ++r) {
      CAPTURE(r);
      const auto cells = cells_of(rows[2 + r]);
      REQUIRE(cells.size() == 8);
      CHECK(cells[0] == row_names[r]);
      for (size_t c = 0; c < 7; ++c) {
        const json run = json::parse(runs[(r == 2 ? 0 : r) * 7 + c]);
        CHECK(cells[1 + c] == one_seed_cell(run, r == 2 ? "majority" : "metrics"));
      }
    }
    // One seed keeps the run folders of one (checkpoint, task) each.
    CHECK(fs::exists(out / "1_base" / "MRPC" / "predictions_dev.tsv"));
    CHECK(fs::exists(out / "1_base" / "MRPC" / "metrics.json"));
    CHECK(fs::exists(out / "2_noise-v2" / "MNLI" / "predictions_mismatched.tsv"));
    // The JSON beside the table names the files each cell comes from.
    const json j = read_json(out / "glue_table.json");
    CHECK(j["rows"][0]["cells"]["MRPC"]["text"] == cells_of(rows[2])[1]);
    CHECK(j["rows"][0]["cells"]["MRPC"]["runs"][0]["metrics_file"] == (out / "1_base" / "MRPC" / "metrics.json").string());
    CHECK(j["rows"][1]["checkpoint"] == noise);

    // Explicit tasks and labels; the table can go anywhere, its JSON beside it.
    const std::string table2 = (d.path / "t2.md").string();
    run_glue_cli({"--all", "--tasks", "sts-b", "wnli", "--glue-dir", (d.path / "glue").string(), "--checkpoints", base,
                  "--labels", "NanoGPT base", "--epochs", "1", "--out", out.string(), "--table", table2, "--quiet",
                  "--skip-malformed"},
                 rc);
    REQUIRE(rc == 0);
    const auto rows2 = lines_of(read_bytes(table2));
    CHECK(rows2[0] == "| Model | STS-B (Pearson/Spearman) | WNLI (acc) |");
    CHECK(rows2[2].rfind("| NanoGPT base | ", 0) == 0);
    CHECK(rows2[3].rfind("| majority class | 0.00/0.00 | ", 0) == 0);
    CHECK(fs::exists(d.path / "t2.json"));
  }

  TEST_CASE("the majority row: the most frequent training class on the dev set; STS-B's constant correlates 0") {
    TempDir d;
    // SST-2: 6 of 9 training sentences are positive, and 3 of the 4 dev sentences: "always
    // positive" scores 75% on dev.
    std::string train = "sentence\tlabel\n", dev = "sentence\tlabel\n";
    for (int i = 0; i < 9; ++i) train += "a sentence " + std::to_string(i) + "\t" + (i % 3 ? "1" : "0") + "\n";
    for (int i = 0; i < 4; ++i) dev += "another one " + std::to_string(i) + "\t" + (i ? "1" : "0") + "\n";
    write_bytes(d.path / "glue" / "SST-2" / "train.tsv", train);
    write_bytes(d.path / "glue" / "SST-2" / "dev.tsv", dev);
    write_task_fixtures(d.path / "glue", GlueTask::STSB);
    write_task_fixtures(d.path / "glue", GlueTask::CoLA);
    write_task_fixtures(d.path / "glue", GlueTask::MRPC);
    int rc = -1;
    const fs::path out = d.path / "sweep";
    const std::string stdout_text =
        run_glue_cli({"--all", "--tasks", "SST-2", "STS-B", "CoLA", "MRPC", "--glue-dir", (d.path / "glue").string(),
                      "--checkpoint", make_checkpoint(d.path, "base"), "--epochs", "1", "--out", out.string(),
                      "--quiet", "--skip-malformed"},
                     rc);
    REQUIRE(rc == 0);
    const std::string table = read_bytes(out / "glue_table.md");
    // MRPC's fixture has more class-0 rows, so the baseline never predicts the positive class:
    // F1 0, accuracy 50%. A constant's Matthews correlation is 0 as well.
    CHECK(lines_of(table)[3] == "| majority class | 75.00 | 0.00/0.00 | 0.00 | 0.00/50.00 |");
    CHECK(contains(table, "for STS-B, of always predicting the mean training score, a constant whose Pearson and "
                          "Spearman correlations are undefined and reported as 0"));
    CHECK(contains(table, "CoLA's Matthews correlation of a constant prediction is 0"));
    // The row is the runs' own `majority`.
    const json sst = json::parse(lines_of(stdout_text)[0]);
    CHECK(sst["majority"]["SST-2"]["accuracy"] == 0.75);
  }

  TEST_CASE("--seeds 2: one folder per seed, and each cell is mean ± sample std of the runs' metrics.json") {
    TempDir d;
    write_task_fixtures(d.path / "glue", GlueTask::MRPC);
    write_task_fixtures(d.path / "glue", GlueTask::MNLI);
    int rc = -1;
    const fs::path out = d.path / "sweep";
    const std::string stdout_text =
        run_glue_cli({"--all", "--tasks", "MRPC", "MNLI", "--seeds", "2", "--seed", "7", "--glue-dir",
                      (d.path / "glue").string(), "--checkpoint", make_checkpoint(d.path, "base"), "--epochs", "1",
                      "--batch-size", "4", "--lr", "1e-3", "--out", out.string(), "--quiet", "--skip-malformed"},
                     rc);
    REQUIRE(rc == 0);
    const auto runs = lines_of(stdout_text);
    REQUIRE(runs.size() == 4);
    // All first seeds before any second one.
    CHECK(json::parse(runs[0])["seed"] == 7);
    CHECK(json::parse(runs[1])["seed"] == 7);
    CHECK(json::parse(runs[2])["seed"] == 8);
    const auto rows = lines_of(read_bytes(out / "glue_table.md"));
    const auto cells = cells_of(rows.at(2));
    const json table_json = read_json(out / "glue_table.json");
    const std::vector<std::string> tasks = {"MRPC", "MNLI"};
    for (size_t c = 0; c < tasks.size(); ++c) {
      CAPTURE(tasks[c]);
      const json s7 = read_json(out / "1_base" / tasks[c] / "seed7" / "metrics.json");
      const json s8 = read_json(out / "1_base" / tasks[c] / "seed8" / "metrics.json");
      CHECK(s7["seed"] == 7);
      CHECK(s8["seed"] == 8);
      CHECK(s7["train_loss"] != s8["train_loss"]);  // another head, another order: another run
      CHECK_FALSE(fs::exists(out / "1_base" / tasks[c] / "metrics.json"));
      // The cell, recomputed from the two files.
      std::string want;
      const json& cell_json = table_json["rows"][0]["cells"][tasks[c]];
      for (const auto& set : s7["metrics"].items())
        for (const auto& metric : set.value().items()) {
          const double a = 100 * metric.value().get<double>();
          const double b = 100 * s8["metrics"][set.key()][metric.key()].get<double>();
          const double mean = (a + b) / 2;
          const double sd = std::sqrt(((a - mean) * (a - mean) + (b - mean) * (b - mean)) / (2 - 1));
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.2f ± %.2f", mean, sd);
          want += (want.empty() ? "" : " / ") + std::string(buf);
          CHECK(cell_json["mean"][set.key()][metric.key()].get<double>() == doctest::Approx(mean));
          CHECK(cell_json["std"][set.key()][metric.key()].get<double>() == doctest::Approx(sd));
        }
      CHECK(cells.at(1 + c) == want);
      CHECK(cell_json["text"] == want);
      REQUIRE(cell_json["runs"].size() == 2);
      CHECK(cell_json["runs"][0]["metrics"] == s7["metrics"]);
      CHECK(cell_json["runs"][1]["metrics"] == s8["metrics"]);
      CHECK(cell_json["runs"][1]["metrics_file"] == (out / "1_base" / tasks[c] / "seed8" / "metrics.json").string());
    }
    // MNLI's cell holds its two dev sets, each mean ± std.
    CHECK(std::count(cells.at(2).begin(), cells.at(2).end(), '/') == 1);
    CHECK(contains(read_bytes(out / "glue_table.md"), "over 2 fine-tuning seeds (7–8)"));
  }

  TEST_CASE("--skip-missing: tasks without their files read n/a (no files), and the others run") {
    TempDir d;
    write_all_fixtures(d.path / "glue");
    fs::remove(d.path / "glue" / "QQP" / "train.tsv");
    fs::remove_all(d.path / "glue" / "MNLI");
    fs::remove(d.path / "glue" / "QNLI" / "dev.tsv");
    const std::string ckpt = make_checkpoint(d.path, "base");
    const std::string glue = (d.path / "glue").string();
    const fs::path out = d.path / "sweep";
    int rc = -1;
    // Without the flag, a missing file stops the command before any run.
    const std::string error = glue_cli_error({"--all", "--glue-dir", glue, "--checkpoint", ckpt, "--out", out.string(),
                                              "--skip-malformed", "--quiet"},
                                             rc);
    CHECK(contains(error, "MNLI"));
    CHECK_FALSE(fs::exists(out));

    const std::string stdout_text = run_glue_cli({"--all", "--glue-dir", glue, "--checkpoint", ckpt, "--epochs", "1",
                                                  "--out", out.string(), "--skip-missing", "--skip-malformed", "--quiet"},
                                                 rc);
    REQUIRE(rc == 0);
    const auto runs = lines_of(stdout_text);
    REQUIRE(runs.size() == 4);  // MRPC CoLA RTE SST-2
    CHECK(json::parse(runs[2])["task"] == "RTE");
    const auto rows = lines_of(read_bytes(out / "glue_table.md"));
    // The paper's columns stay, the absent tasks marked in every row.
    CHECK(rows[0] ==
          "| Model | MRPC (F1/acc) | CoLA (MCC) | MNLI (m/mm acc) | QQP (F1/acc) | RTE (acc) | QNLI (acc) | SST-2 (acc) |");
    for (size_t r = 2; r <= 3; ++r) {
      const auto cells = cells_of(rows[r]);
      REQUIRE(cells.size() == 8);
      CHECK(cells[3] == "n/a (no files)");
      CHECK(cells[4] == "n/a (no files)");
      CHECK(cells[6] == "n/a (no files)");
      CHECK(cells[1] != "n/a (no files)");
      CHECK(cells[5] != "–");
    }
    CHECK(contains(read_bytes(out / "glue_table.md"), "*n/a (no files)*: the task's train or dev file is not in the GLUE folder"));
    CHECK_FALSE(fs::exists(out / "1_base" / "QQP"));
    CHECK(read_json(out / "glue_table.json")["rows"][0]["cells"]["QNLI"]["status"] == "no files");

    // A file that is there but unreadable still stops the sweep; so does having no task at all.
    write_bytes(d.path / "glue" / "RTE" / "dev.tsv", "index\tsentence1\tsentence2\tlbl\n0\ta\tb\tentailment\n");
    const std::string elsewhere = (d.path / "elsewhere").string();
    CHECK(contains(glue_cli_error({"--all", "--glue-dir", glue, "--checkpoint", ckpt, "--skip-missing",
                                   "--skip-malformed", "--quiet", "--out", elsewhere},
                                  rc),
                   "header has no 'label' column"));
    CHECK(contains(glue_cli_error({"--all", "--tasks", "qqp", "mnli", "--glue-dir", glue, "--checkpoint", ckpt,
                                   "--skip-missing", "--quiet", "--out", elsewhere},
                                  rc),
                   "none of the tasks has its train and dev files"));
    CHECK_FALSE(fs::exists(elsewhere));
    // The flags of a sweep need --all.
    CHECK(contains(glue_cli_error({"--task", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--seeds", "2"}, rc),
                   "need --all"));
  }

  TEST_CASE("a second invocation reuses every finished run and writes the identical table") {
    TempDir d;
    write_task_fixtures(d.path / "glue", GlueTask::RTE);
    write_task_fixtures(d.path / "glue", GlueTask::STSB);
    const nf::GlueSweepOptions s = small_sweep(d.path, make_checkpoint(d.path, "base"));
    std::vector<std::string> lines1, lines2;
    const nf::GlueSweepResult r1 = nf::run_glue_sweep(s, [&](const json& j) { lines1.push_back(j.dump()); });
    CHECK(r1.trained == 4);
    CHECK(r1.reused == 0);
    const auto times = metrics_times(s.out_dir);
    CHECK(times.size() == 4);
    const std::string md = read_bytes(r1.table_path), js = read_bytes(r1.json_path);
    CHECK(md == r1.markdown);
    // metrics.json is written whole or not at all: no temporary file is left beside it.
    for (const auto& e : fs::recursive_directory_iterator(s.out_dir))
      CHECK(e.path().filename().string().find(".tmp") == std::string::npos);

    const nf::GlueSweepResult r2 = nf::run_glue_sweep(s, [&](const json& j) { lines2.push_back(j.dump()); });
    CHECK(r2.trained == 0);
    CHECK(r2.reused == 4);
    CHECK(metrics_times(s.out_dir) == times);  // no run was written again
    CHECK(read_bytes(r2.table_path) == md);
    CHECK(read_bytes(r2.json_path) == js);
    CHECK(lines2 == lines1);  // the same JSON lines on stdout

    // The CLI says so on its last line, and the table is still the same.
    int rc = -1;
    run_glue_cli({"--all", "--tasks", "RTE", "STS-B", "--glue-dir", s.run.glue_dir, "--checkpoint", s.checkpoints[0],
                  "--labels", "base", "--epochs", "1", "--batch-size", "4", "--lr", "1e-3", "--seeds", "2", "--out",
                  s.out_dir, "--skip-malformed", "--quiet"},
                 rc);
    REQUIRE(rc == 0);
    CHECK(metrics_times(s.out_dir) == times);
    CHECK(read_bytes(r1.table_path) == md);
  }

  TEST_CASE("runs are not reused when a setting differs, the file is incomplete, or the checkpoint is newer") {
    TempDir d;
    write_task_fixtures(d.path / "glue", GlueTask::RTE);
    write_task_fixtures(d.path / "glue", GlueTask::STSB);
    const std::string ckpt = make_checkpoint(d.path, "base");
    nf::GlueSweepOptions s = small_sweep(d.path, ckpt);
    REQUIRE(nf::run_glue_sweep(s).trained == 4);

    // The finished run of RTE, seed 1337, checked directly.
    nf::GlueOptions run = s.run;
    run.task = "RTE";
    run.checkpoint = ckpt;
    run.seed = 1337;
    run.out_dir = nf::glue_run_dir(s.out_dir, 0, "base", "RTE", 1337, 2);
    CHECK(run.out_dir == (fs::path(s.out_dir) / "1_base" / "RTE" / "seed1337").string());
    std::string why;
    CHECK(nf::reusable_glue_run(run, &why).has_value());
    nf::GlueOptions same_file = run;  // another spelling of the checkpoint's path
    same_file.checkpoint = (d.path / "." / "base.safetensors").string();
    CHECK(nf::reusable_glue_run(same_file).has_value());
    // Each setting that changes the result.
    std::vector<std::pair<std::string, nf::GlueOptions>> changed;
    auto with = [&](const std::string& what, auto change) {
      nf::GlueOptions o = run;
      change(o);
      changed.emplace_back(what, o);
    };
    with("lr", [](nf::GlueOptions& o) { o.lr = 2e-3; });
    with("epochs", [](nf::GlueOptions& o) { o.epochs = 2; });
    with("batch_size", [](nf::GlueOptions& o) { o.batch_size = 8; });
    with("warmup", [](nf::GlueOptions& o) { o.warmup = 0.2; });
    with("weight_decay", [](nf::GlueOptions& o) { o.weight_decay = 0; });
    with("grad_clip", [](nf::GlueOptions& o) { o.grad_clip = 0.5; });
    with("max_train", [](nf::GlueOptions& o) { o.max_train = 5; });
    with("seed", [](nf::GlueOptions& o) { o.seed = 1338; });
    for (const auto& c : changed) {
      CAPTURE(c.first);
      CHECK_FALSE(nf::reusable_glue_run(c.second, &why).has_value());
      CHECK(contains(why, "made with " + c.first));
    }
    nf::GlueOptions other = run;
    other.checkpoint = make_checkpoint(d.path, "noise-v2");
    CHECK_FALSE(nf::reusable_glue_run(other, &why).has_value());
    CHECK(contains(why, "another checkpoint"));
    nf::GlueOptions nowhere = run;
    nowhere.out_dir = (d.path / "none").string();
    CHECK_FALSE(nf::reusable_glue_run(nowhere, &why).has_value());
    CHECK(why.empty());  // nothing there: nothing to report

    // --lr changed: every run is fine-tuned again.
    s.run.lr = 2e-3;
    const auto before = metrics_times(s.out_dir);
    const nf::GlueSweepResult r = nf::run_glue_sweep(s);
    CHECK(r.trained == 4);
    CHECK(r.reused == 0);
    for (const auto& file_time : before) CHECK(fs::last_write_time(file_time.first) != file_time.second);
    CHECK(read_json(fs::path(run.out_dir) / "metrics.json")["lr"] == 2e-3);

    // A half-written metrics.json (a run killed by an older build) is run again, and only that run.
    const fs::path rte = fs::path(run.out_dir) / "metrics.json";
    const std::string whole = read_bytes(rte);
    write_bytes(rte, whole.substr(0, whole.size() / 2));
    run.lr = 2e-3;
    CHECK_FALSE(nf::reusable_glue_run(run, &why).has_value());
    CHECK(why == "not a complete JSON file");
    nf::GlueSweepResult again = nf::run_glue_sweep(s);
    CHECK(again.trained == 1);
    CHECK(again.reused == 3);
    CHECK(nf::reusable_glue_run(run).has_value());

    // A summary from before weight_decay, grad_clip and max_train were recorded.
    json old = read_json(rte);
    old.erase("max_train");
    write_bytes(rte, old.dump(2));
    CHECK_FALSE(nf::reusable_glue_run(run, &why).has_value());
    CHECK(why == "has no max_train");
    // Predictions gone.
    REQUIRE(nf::run_glue_sweep(s).trained == 1);
    fs::remove(fs::path(run.out_dir) / "predictions_dev.tsv");
    CHECK_FALSE(nf::reusable_glue_run(run, &why).has_value());
    CHECK(why == "incomplete: no predictions_dev.tsv");
    REQUIRE(nf::run_glue_sweep(s).trained == 1);
    // The checkpoint trained again in place after the run.
    fs::last_write_time(ckpt, fs::last_write_time(rte) + std::chrono::seconds(5));
    CHECK_FALSE(nf::reusable_glue_run(run, &why).has_value());
    CHECK(why == "the checkpoint was written after it");
    CHECK(nf::run_glue_sweep(s).trained == 4);
  }

  TEST_CASE("bad sweep options: one-line errors before any run") {
    TempDir d;
    write_task_fixtures(d.path / "glue", GlueTask::RTE);
    nf::GlueSweepOptions s = small_sweep(d.path, make_checkpoint(d.path, "base"));
    s.tasks = {"RTE"};
    auto error = [&](const nf::GlueSweepOptions& o) { return error_of([&] { nf::run_glue_sweep(o); }); };
    nf::GlueSweepOptions zero = s;
    zero.seeds = 0;
    CHECK(contains(error(zero), "--seeds must be >= 1"));
    nf::GlueSweepOptions twice = s;
    twice.tasks = {"RTE", "rte"};
    CHECK(contains(error(twice), "RTE is listed twice"));
    nf::GlueSweepOptions json_table = s;
    json_table.table_path = (d.path / "t.json").string();
    CHECK(contains(error(json_table), "needs another extension"));
    nf::GlueSweepOptions overflow = s;
    overflow.run.seed = UINT64_MAX;
    CHECK(contains(error(overflow), "runs past the largest seed"));
    CHECK_FALSE(fs::exists(s.out_dir));
  }
}
