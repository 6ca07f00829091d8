// GLUE fine-tuning (glue/finetune.cpp): the input encoding and truncation rule, a tiny fine-tune
// that beats the majority class, and `noiseformer glue` end to end on every task, on fixture files
// and a tiny checkpoint the tests write (tests/glue/glue_fixtures.h; never the shared data). The
// classification head itself: tests/models/test_sequence_classifier.cpp; --all's sweep and
// table: tests/glue/test_glue_sweep.cpp.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tensor/device_hooks.h"
#include "io/checkpoint.h"
#include "cli/commands.h"
#include "glue/finetune.h"
#include "data/tokenizer.h"
#include "tests/glue/glue_fixtures.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using nf::GlueTask;

using namespace nf::test;

TEST_SUITE("glue_finetune") {
  TEST_CASE("encoder: [SEP] choice, pair layout, lossy fallback, empty input") {
    // '\t' sorts before '\n', so [SEP] ('\n') is id 1 here, not 0.
    const nf::CharTokenizer tok = nf::CharTokenizer::from_text("\t\nab c");
    const nf::GlueEncoder enc(tok, 16);
    const int sep = tok.encode("\n")[0];
    CHECK(sep == 1);
    CHECK(enc.sep_id() == sep);
    nf::GlueExample ex;
    ex.text_a = "ab";
    ex.text_b = "ca";
    // ids: '\t' 0, '\n' 1, ' ' 2, 'a' 3, 'b' 4, 'c' 5.  "ab" [SEP] "ca":
    CHECK(enc.encode(ex, true) == std::vector<int64_t>{3, 4, sep, 5, 3});
    CHECK(enc.encode(ex, false) == std::vector<int64_t>{3, 4});
    // Characters the tokenizer never saw become the fallback id (' ').
    ex.text_a = "aQ\"";
    CHECK(enc.encode(ex, false) == std::vector<int64_t>{3, tok.fallback_id(), tok.fallback_id()});
    // Empty input -> [SEP]; an empty pair is [SEP] alone.
    ex.text_a = "";
    ex.text_b = "";
    CHECK(enc.encode(ex, false) == std::vector<int64_t>{sep});
    CHECK(enc.encode(ex, true) == std::vector<int64_t>{sep});
    // Without '\n' in the vocabulary [SEP] is id 0; byte-level tokenizers use byte 10.
    const nf::CharTokenizer no_nl = nf::CharTokenizer::from_text("xyz");
    CHECK(nf::GlueEncoder(no_nl, 8).sep_id() == 0);
    const nf::ByteTokenizer bytes;
    CHECK(nf::GlueEncoder(bytes, 8).sep_id() == 10);
  }

  TEST_CASE("truncation: single keeps the first block_size tokens; pairs trim the longer from its end") {
    const nf::ByteTokenizer tok;
    const nf::GlueEncoder enc(tok, 8);
    nf::GlueExample ex;
    ex.text_a = "0123456789";
    bool cut = false;
    CHECK(enc.encode(ex, false, &cut) == std::vector<int64_t>{'0', '1', '2', '3', '4', '5', '6', '7'});
    CHECK(cut);
    // Pair, budget 8 - 1 = 7: a (10) is trimmed to 4 before b (3) is touched.
    ex.text_b = "abc";
    CHECK(enc.encode(ex, true, &cut) == std::vector<int64_t>{'0', '1', '2', '3', 10, 'a', 'b', 'c'});
    CHECK(cut);
    // Equal lengths: 5 + 5 -> b 4, a 4, b 3 (a tie trims sentence2 first).
    ex.text_a = "01234";
    ex.text_b = "abcde";
    CHECK(enc.encode(ex, true) == std::vector<int64_t>{'0', '1', '2', '3', 10, 'a', 'b', 'c'});
    // Fits: untouched.
    ex.text_a = "01";
    ex.text_b = "ab";
    CHECK(enc.encode(ex, true, &cut) == std::vector<int64_t>{'0', '1', 10, 'a', 'b'});
    CHECK_FALSE(cut);
    std::vector<int> a(9, 1), b(2, 2);
    nf::truncate_longest_first(a, b, 3);
    CHECK(a.size() == 2);  // (9, 2): a trimmed to 2, then the tie trims b to 1
    CHECK(b.size() == 1);
    // block_size 1: a pair is [SEP] alone.
    const nf::GlueEncoder one(tok, 1);
    CHECK(one.encode(ex, true) == std::vector<int64_t>{10});
  }

  TEST_CASE("a tiny fine-tune beats the majority class on a separable synthetic task") {
    TempDir d;
    const std::string ckpt = make_checkpoint(d.path, "base");
    // SST-2 format. The label is given by the sentence's last character ('!' -> 1, '.' -> 0),
    // after a varying prefix; two thirds of the rows are class 0, so "always 0" scores 2/3.
    const char* words[] = {"red", "blue", "tall", "slow", "cold", "dark", "warm", "soft"};
    auto make = [&](int n, int offset) {
      std::string text = "sentence\tlabel\n";
      for (int i = 0; i < n; ++i) {
        const int k = i + offset;
        const bool pos = k % 3 == 0;
        text += std::string(words[k % 8]) + " " + words[(k * 5 + 1) % 8] + (pos ? " !" : " .") + "\t" + (pos ? "1" : "0") + "\n";
      }
      return text;
    };
    write_bytes(d.path / "glue" / "SST-2" / "train.tsv", make(60, 0));
    write_bytes(d.path / "glue" / "SST-2" / "dev.tsv", make(30, 1));
    nf::GlueOptions o;
    o.task = "sst2";
    o.glue_dir = (d.path / "glue").string();
    o.checkpoint = ckpt;
    o.out_dir = (d.path / "out").string();
    o.epochs = 6;
    o.batch_size = 8;
    o.lr = 3e-3;
    o.warmup = 0.1;
    o.quiet = true;
    const nf::GlueRunResult r = nf::run_glue(o);
    REQUIRE(r.dev.size() == 1);
    const double majority = r.dev[0].majority.value("accuracy");
    CHECK(majority == doctest::Approx(20.0 / 30.0));
    const double acc = r.dev[0].scores.value("accuracy");
    MESSAGE("synthetic SST-2: accuracy " << acc << " vs majority " << majority);
    CHECK(acc > majority);
    CHECK(acc >= 0.9);
    CHECK(r.summary["history"].size() == 6);
    // Same seed, same run.
    o.out_dir = "";
    o.epochs = 1;
    const auto r1 = nf::run_glue(o), r2 = nf::run_glue(o);
    CHECK(r1.dev[0].predictions == r2.dev[0].predictions);
    CHECK(r1.summary["train_loss"] == r2.summary["train_loss"]);
  }

  TEST_CASE("every task runs end to end from the CLI on fixture data") {
    TempDir d;
    write_all_fixtures(d.path / "glue");
    const std::string ckpt = make_checkpoint(d.path, "noise-v2");
    for (const auto& info : nf::glue_tasks()) {
      CAPTURE(info.name);
      const fs::path out = d.path / "out" / info.dir;
      int rc = -1;
      const std::string stdout_text =
          run_glue_cli({"--task", info.name, "--glue-dir", (d.path / "glue").string(), "--checkpoint", ckpt,
                        "--epochs", "2", "--batch-size", "4", "--lr", "1e-3", "--out", out.string(), "--quiet",
                        "--skip-malformed"},
                       rc);
      REQUIRE(rc == 0);
      const auto lines = lines_of(stdout_text);
      REQUIRE(lines.size() == 1);  // one JSON line
      const auto j = nlohmann::ordered_json::parse(lines[0]);  // keys in the order written
      CHECK(j["task"] == info.name);
      CHECK(j["attention"] == "noise-v2");
      CHECK(j["noise_at_eval"] == "mean");
      CHECK(j["train_examples"] == 9);
      CHECK(j["malformed_rows"]["train"] == 1);
      CHECK(j["history"].size() == 2);
      if (info.is_pair) CHECK(j["truncated"]["train"].get<int>() > 0);  // block_size 32 cuts the longer pairs
      REQUIRE(j["metrics"].size() == info.dev_sets.size());
      for (const auto& ds : info.dev_sets) {
        CHECK(j["malformed_rows"][ds.name] == 1);
        const auto pred = lines_of(read_bytes(out / ("predictions_" + ds.name + ".tsv")));
        REQUIRE(pred.size() == 7);  // header + 6 rows
        CHECK(pred[0] == "index\tprediction\tlabel");
        // Every row: index, a prediction in the task's label vocabulary (or a number), the gold label.
        for (size_t i = 1; i < pred.size(); ++i) {
          std::vector<std::string> f;
          std::stringstream ss(pred[i]);
          for (std::string x; std::getline(ss, x, '\t');) f.push_back(x);
          REQUIRE(f.size() == 3);
          if (info.num_classes > 1) {
            CHECK(std::find(info.label_names.begin(), info.label_names.end(), f[1]) != info.label_names.end());
            CHECK(std::find(info.label_names.begin(), info.label_names.end(), f[2]) != info.label_names.end());
          } else {
            CHECK(std::isfinite(std::stod(f[1])));
          }
        }
      }
      for (auto& [set, metrics] : j["metrics"].items()) {
        std::vector<std::string> names;
        for (auto& [m, v] : metrics.items()) {
          names.push_back(m);
          CHECK(v.is_number());
        }
        CHECK(names == info.metrics);
      }
      if (info.task == GlueTask::MNLI) {
        CHECK(j["metrics"].contains("MNLI-m"));
        CHECK(j["metrics"].contains("MNLI-mm"));
      }
      CHECK(fs::exists(out / "metrics.json"));
      CHECK(nlohmann::json::parse(read_bytes(out / "metrics.json"))["score"] == j["score"]);
    }
  }

  TEST_CASE("STS-B predictions_dev.tsv holds every digit: the metrics recomputed from the file are the reported ones") {
    TempDir d;
    write_task_fixtures(d.path / "glue", GlueTask::STSB);
    // Gold scores with more digits than any fixed format keeps.
    const std::vector<double> gold = {3.8, 2.6667, 4.123456789, 0.2, 1.0 / 3.0, 4.75};
    std::string dev = header_of(GlueTask::STSB, "dev.tsv");
    const char* words[] = {"the cat sat", "a dog ran", "birds sing", "it rains", "we eat bread", "they left early"};
    for (int i = 0; i < 6; ++i) {
      char sc[32];
      std::snprintf(sc, sizeof sc, "%.17g", gold[i]);
      dev += std::to_string(i) + "\tmain-captions\tMSRvid\t2012test\t000" + std::to_string(i) + "\tnone\tnone\t" +
             words[i] + "\t" + words[(i + 2) % 6] + "\t" + sc + "\n";
    }
    write_bytes(d.path / "glue" / "STS-B" / "dev.tsv", dev);
    nf::GlueOptions o;
    o.task = "sts-b";
    o.glue_dir = (d.path / "glue").string();
    o.checkpoint = make_checkpoint(d.path, "base");
    o.out_dir = (d.path / "out").string();
    o.epochs = 2;
    o.batch_size = 4;
    o.skip_malformed = true;  // the fixture's train.tsv has its one bad row
    o.lr = 1e-3;
    o.quiet = true;
    const nf::GlueRunResult r = nf::run_glue(o);
    const auto lines = lines_of(read_bytes(d.path / "out" / "predictions_dev.tsv"));
    REQUIRE(lines.size() == 7);
    std::vector<double> pred, label;
    for (size_t i = 1; i < lines.size(); ++i) {
      std::stringstream ss(lines[i]);
      std::string idx, p, l;
      std::getline(ss, idx, '\t');
      std::getline(ss, p, '\t');
      std::getline(ss, l, '\t');
      pred.push_back(std::stod(p));
      label.push_back(std::stod(l));
    }
    CHECK(pred == r.dev[0].predictions);  // every bit of every prediction
    CHECK(label == gold);
    CHECK(lines[1].substr(lines[1].rfind('\t') + 1) == "3.8");  // the shortest form that reads back exactly
    const nf::GlueScores again = nf::glue_metrics(GlueTask::STSB, pred, label);
    const auto reported = nlohmann::json::parse(read_bytes(d.path / "out" / "metrics.json"))["metrics"]["STS-B"];
    CHECK(again.value("pearson") == reported["pearson"].get<double>());
    CHECK(again.value("spearman") == reported["spearman"].get<double>());
    CHECK(again.value("pearson") == r.dev[0].scores.value("pearson"));
    // Rounded to 4 decimals, as the file used to hold them, the metric moves: the test can fail.
    std::vector<double> rounded;
    for (double v : pred) rounded.push_back(std::round(v * 1e4) / 1e4);
    CHECK(nf::glue_metrics(GlueTask::STSB, rounded, label).value("pearson") != reported["pearson"].get<double>());
  }

  TEST_CASE("bad input: one-line errors before any training") {
    TempDir d;
    write_all_fixtures(d.path / "glue");
    const std::string ckpt = make_checkpoint(d.path, "base");
    const std::string glue = (d.path / "glue").string();
    int rc = -1;
    auto error_of = [&](const std::vector<std::string>& args) { return glue_cli_error(args, rc); };
    CHECK(error_of({"--task", "squad", "--glue-dir", glue, "--checkpoint", ckpt}).find("unknown GLUE task 'squad'") !=
          std::string::npos);
    CHECK(error_of({"--task", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--warmup", "100"}).find("--warmup") !=
          std::string::npos);
    CHECK(error_of({"--task", "rte", "--task", "mrpc", "--glue-dir", glue, "--checkpoint", ckpt}).find("--all") !=
          std::string::npos);
    fs::remove(d.path / "glue" / "RTE" / "dev.tsv");
    const std::string missing = error_of({"--task", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--skip-malformed"});
    CHECK(missing.find("dev.tsv") != std::string::npos);
    CHECK(missing.find('\n') == std::string::npos);
    // --all checks every (task, checkpoint) first: nothing was written.
    CHECK(error_of({"--all", "--tasks", "sst-2", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--out",
                    (d.path / "none").string(), "--skip-malformed"})
              .find("dev.tsv") != std::string::npos);
    CHECK_FALSE(fs::exists(d.path / "none"));
    fs::create_directories(d.path / "nt");
    const std::string no_tok = make_checkpoint(d.path / "nt", "base", 32, false);
    CHECK(error_of({"--task", "sst-2", "--glue-dir", glue, "--checkpoint", no_tok, "--quiet"}).find("no tokenizer") !=
          std::string::npos);
    CHECK(error_of({"--all", "--tasks", "sst-2", "--glue-dir", glue, "--checkpoint", ckpt, no_tok, "--out",
                    (d.path / "none").string(), "--skip-malformed"})
              .find("no tokenizer") != std::string::npos);
    CHECK_FALSE(fs::exists(d.path / "none"));
    if (!nf::device_hooks().available())
      CHECK(error_of({"--task", "sst-2", "--glue-dir", glue, "--checkpoint", ckpt, "--device", "cuda"}).find("CUDA") !=
            std::string::npos);
    // A bad flag is a parse error: exit status 2, no exception.
    run_glue_cli({"--task", "sst-2", "--glue-dir", glue, "--checkpoint", ckpt, "--epochs", "many"}, rc);
    CHECK(rc == 2);
  }

  TEST_CASE("train and dev files are checked in full before training: a bad row names file, line and column") {
    TempDir d;
    const std::string ckpt = make_checkpoint(d.path, "base");
    const fs::path rte = d.path / "glue" / "RTE";
    const std::string train = "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tc\td\tnot_entailment\n";
    write_bytes(rte / "train.tsv", train);
    // Line 3 carries a label the task does not have.
    write_bytes(rte / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tc\td\tentailed\n");
    const std::string glue = (d.path / "glue").string();
    const std::string out = (d.path / "out").string();
    int rc = -1;
    auto error_of = [&](const std::vector<std::string>& args) { return glue_cli_error(args, rc); };
    const std::string bad_label = error_of({"--task", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--out", out});
    CHECK(bad_label.find((rte / "dev.tsv").string() + ":3: column 4 (label): unknown label 'entailed' "
                         "(expected entailment or not_entailment)") != std::string::npos);
    CHECK(bad_label.find("--skip-malformed") != std::string::npos);
    CHECK(bad_label.find('\n') == std::string::npos);
    CHECK_FALSE(fs::exists(out));  // nothing trained, nothing written

    // A dev file whose label column goes by an unknown name is refused at its header, not
    // taken for an unlabelled test file.
    write_bytes(rte / "dev.tsv", "index\tsentence1\tsentence2\tlbl\n0\ta\tb\tentailment\n");
    const std::string no_label = error_of({"--task", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--out", out});
    CHECK(no_label.find("GLUE RTE file '" + (rte / "dev.tsv").string() + "', line 1: header has no 'label' column") !=
          std::string::npos);
    CHECK_FALSE(fs::exists(out));

    // A row with too few fields, and STS-B's score column.
    write_bytes(rte / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tno label here\n");
    CHECK(error_of({"--task", "rte", "--glue-dir", glue, "--checkpoint", ckpt}).find(
              "dev.tsv:3: expected 4 tab-separated fields, found 2") != std::string::npos);
    const fs::path sts = d.path / "glue" / "STS-B";
    const std::string sts_header = "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
    write_bytes(sts / "train.tsv", sts_header + "0\tg\tf\ty\to\ts\ts\ta\tb\tfive\n");
    write_bytes(sts / "dev.tsv", sts_header + "0\tg\tf\ty\to\ts\ts\ta\tb\t2.5\n");
    CHECK(error_of({"--task", "sts-b", "--glue-dir", glue, "--checkpoint", ckpt}).find(
              "train.tsv:2: column 10 (score): score 'five' is not a finite number") != std::string::npos);

    // --all reads every task's files before the first run: RTE's bad dev row stops the sweep
    // although SST-2, which comes first, is fine.
    write_bytes(rte / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\ta\tb\tentailment\n1\tc\td\t2\n");
    const fs::path sst = d.path / "glue" / "SST-2";
    write_bytes(sst / "train.tsv", "sentence\tlabel\nab\t0\ncd\t1\n");
    write_bytes(sst / "dev.tsv", "sentence\tlabel\nab\t0\n");
    CHECK(error_of({"--all", "--tasks", "sst-2", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--out", out})
              .find("dev.tsv:3: column 4 (label): unknown label '2'") != std::string::npos);
    CHECK_FALSE(fs::exists(out));

    // With --skip-malformed the bad row is left out and counted.
    const std::string ok = run_glue_cli({"--task", "rte", "--glue-dir", glue, "--checkpoint", ckpt, "--epochs", "1",
                                         "--quiet", "--skip-malformed", "--out", out},
                                        rc);
    REQUIRE(rc == 0);
    const auto j = nlohmann::json::parse(lines_of(ok).at(0));
    CHECK(j["malformed_rows"]["dev"] == 1);
    CHECK(lines_of(read_bytes(fs::path(out) / "predictions_dev.tsv")).size() == 2);  // header + the one good row
  }
}
