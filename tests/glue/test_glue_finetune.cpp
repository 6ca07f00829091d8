// GLUE fine-tuning (glue/finetune.cpp): the input encoding and truncation rule, a tiny fine-tune
// that beats the majority class, and `noiseformer glue` end to end — every task, and --all's
// table — on fixture files and a tiny checkpoint the tests write (never the shared data). The
// classification head itself: tests/models/test_sequence_classifier.cpp.
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
#include "tests/support.h"

namespace fs = std::filesystem;
using nf::GlueTask;

using namespace nf::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// One layer, width 16, 2 heads.
nf::GPTConfig tiny_config(const std::string& attention, int64_t vocab, int64_t block = 32) {
  return nf::test::tiny_gpt(attention, 16, block, 2, vocab, /*n_layer=*/1);
}

// Lower-case letters, digits and a little punctuation: fixture text with capitals or quotes
// exercises the char tokenizer's fallback for characters it never saw.
const char* kCorpus = "abcdefghijklmnopqrstuvwxyz 0123456789.,?!'\n";

// A freshly initialised GPT saved as a checkpoint with its char tokenizer in the metadata.
std::string make_checkpoint(const fs::path& dir, const std::string& attention, int64_t block = 32,
                            bool with_tokenizer = true) {
  const nf::CharTokenizer tok = nf::CharTokenizer::from_text(kCorpus);
  nf::GPT gpt(tiny_config(attention, tok.vocab_size(), block), 7);
  const std::string path = (dir / (attention + ".safetensors")).string();
  nf::save_model(path, gpt, with_tokenizer ? tok.to_meta_json().dump() : "");
  return path;
}

// ---- fixture files in each task's real format ------------------------------------------------

std::string header_of(GlueTask t, const std::string& file) {
  switch (t) {
    case GlueTask::CoLA: return "";  // the distributed in_domain files have no header
    case GlueTask::SST2: return "sentence\tlabel\n";
    case GlueTask::MRPC: return "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n";
    case GlueTask::QQP: return "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n";
    case GlueTask::STSB: return "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
    case GlueTask::MNLI:
      return std::string("index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
                         "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\t") +
             (file == "train.tsv" ? "label1\tgold_label\n" : "label1\tlabel2\tlabel3\tlabel4\tlabel5\tgold_label\n");
    case GlueTask::QNLI: return "index\tquestion\tsentence\tlabel\n";
    case GlueTask::RTE:
    case GlueTask::WNLI: return "index\tsentence1\tsentence2\tlabel\n";
  }
  return "";
}

std::string row_of(GlueTask t, const std::string& file, int i, const std::string& a, const std::string& b, int label,
                   double score) {
  const auto& info = nf::glue_task_info(t);
  const std::string name = t == GlueTask::STSB ? "" : info.label_names[label];
  const std::string idx = std::to_string(i);
  char sc[16];
  std::snprintf(sc, sizeof sc, "%.3f", score);
  switch (t) {
    case GlueTask::CoLA: return "gj04\t" + name + "\t" + (label == 0 ? "*" : "") + "\t" + a + "\n";
    case GlueTask::SST2: return a + "\t" + name + "\n";
    case GlueTask::MRPC: return name + "\t" + std::to_string(1000 + i) + "\t" + std::to_string(2000 + i) + "\t" + a + "\t" + b + "\n";
    case GlueTask::QQP: return idx + "\t" + std::to_string(10 + i) + "\t" + std::to_string(20 + i) + "\t" + a + "\t" + b + "\t" + name + "\n";
    case GlueTask::STSB: return idx + "\tmain-captions\tMSRvid\t2012test\t000" + idx + "\tnone\tnone\t" + a + "\t" + b + "\t" + sc + "\n";
    case GlueTask::MNLI:
      return idx + "\t" + idx + "\t" + idx + "n\tslate\t( x )\t( y )\t(ROOT)\t(ROOT)\t" + a + "\t" + b + "\t" +
             (file == "train.tsv" ? name : name + "\t" + name + "\t" + name + "\t" + name + "\t" + name) + "\t" + name + "\n";
    case GlueTask::QNLI:
    case GlueTask::RTE:
    case GlueTask::WNLI: return idx + "\t" + a + "\t" + b + "\t" + name + "\n";
  }
  return "";
}

// Writes <dir>/<TASK>/train.tsv (10 rows, 9 readable) and each dev file (7 rows, 6 readable):
// a quoted sentence, an empty field and one row with the wrong number of columns in every file.
// Returns the number of readable dev rows per file.
int write_task_fixtures(const fs::path& dir, GlueTask t) {
  const auto& info = nf::glue_task_info(t);
  const int K = info.num_classes == 1 ? 3 : info.num_classes;
  const char* words[] = {"the cat sat", "a dog ran", "birds sing", "it rains", "we eat bread", "they left early"};
  std::vector<std::string> files = {info.train_file};
  for (const auto& d : info.dev_sets) files.push_back(d.file);
  for (const std::string& file : files) {
    const int n = file == "train.tsv" ? 9 : 6;
    std::string text = header_of(t, file);
    for (int i = 0; i < n; ++i) {
      std::string a = words[i % 6], b = words[(i + i / 3) % 6];
      if (i == 1) a = "\"Quoted,\" he said of it.";  // quotes are text, and unseen by the tokenizer
      if (i == 2) (info.is_pair ? b : a) = "";          // an empty field is a well-formed row
      text += row_of(t, file, i, a, b, i % K, (i % 6) * 1.0);
      if (i == 3) text += t == GlueTask::CoLA ? "this row has no tabs\n" : std::to_string(100 + i) + "\twrong column count\n";
    }
    write_bytes(dir / info.dir / file, text);
  }
  return 6;
}

void write_all_fixtures(const fs::path& dir) {
  for (const auto& info : nf::glue_tasks()) write_task_fixtures(dir, info.task);
}

// Runs `noiseformer glue ARGS…` in-process, returning its stdout; `rc` gets the exit status.
std::string run_glue_cli(const std::vector<std::string>& args, int& rc) {
  std::vector<std::string> store = {"glue"};
  store.insert(store.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : store) argv.push_back(s.data());
  argv.push_back(nullptr);
  FILE* tmp = std::tmpfile();
  if (tmp == nullptr) throw std::runtime_error("tmpfile() failed");
  std::cout.flush();  // doctest's own output must not land in the capture
  std::fflush(stdout);
  const int saved = ::dup(1);
  ::dup2(::fileno(tmp), 1);
  auto restore = [&] {
    std::fflush(stdout);
    ::dup2(saved, 1);
    ::close(saved);
  };
  try {
    rc = nf::cli::cmd_glue(static_cast<int>(store.size()), argv.data());
  } catch (...) {
    restore();
    std::fclose(tmp);
    throw;
  }
  restore();
  std::string out;
  std::rewind(tmp);
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, tmp)) > 0;) out.append(buf, n);
  std::fclose(tmp);
  return out;
}

// The one-line error `noiseformer glue ARGS…` throws, or "" if it does not throw.
std::string glue_cli_error(const std::vector<std::string>& args, int& rc) {
  try {
    run_glue_cli(args, rc);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

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

  TEST_CASE("glue --all writes the paper's table: one row per checkpoint, one column per task") {
    TempDir d;
    write_all_fixtures(d.path / "glue");
    const std::string base = make_checkpoint(d.path, "base");
    const std::string noise = make_checkpoint(d.path, "noise-v2");
    int rc = -1;
    const std::string out = (d.path / "sweep").string();
    const std::string stdout_text =
        run_glue_cli({"--all", "--glue-dir", (d.path / "glue").string(), "--checkpoint", base, noise, "--epochs",
                      "1", "--batch-size", "4", "--out", out, "--quiet", "--skip-malformed"},
                     rc);
    REQUIRE(rc == 0);
    CHECK(lines_of(stdout_text).size() == 14);  // one JSON line per run: 2 checkpoints x 7 tasks
    const std::string table = read_bytes(fs::path(out) / "glue_table.md");
    MESSAGE("glue --all on the fixtures:\n" << table);
    const auto rows = lines_of(table);
    REQUIRE(rows.size() == 4);
    CHECK(rows[0] ==
          "| Model | MRPC (F1/acc) | CoLA (MCC) | MNLI (m/mm acc) | QQP (F1/acc) | RTE (acc) | QNLI (acc) | SST-2 (acc) |");
    CHECK(rows[1] == "|---|---|---|---|---|---|---|---|");
    CHECK(rows[2].rfind("| base | ", 0) == 0);
    CHECK(rows[3].rfind("| noise-v2 | ", 0) == 0);
    // The cells are the runs' metrics x 100.
    const auto first = nlohmann::json::parse(lines_of(stdout_text)[0]);
    char cell[64];
    std::snprintf(cell, sizeof cell, "| base | %.2f/%.2f |", 100 * first["metrics"]["MRPC"]["f1"].get<double>(),
                  100 * first["metrics"]["MRPC"]["accuracy"].get<double>());
    CHECK(rows[2].rfind(cell, 0) == 0);
    CHECK(fs::exists(fs::path(out) / "1_base" / "MRPC" / "predictions_dev.tsv"));
    CHECK(fs::exists(fs::path(out) / "2_noise-v2" / "MNLI" / "predictions_mismatched.tsv"));

    // Explicit tasks and labels; the table can go anywhere.
    const std::string table2 = (d.path / "t2.md").string();
    run_glue_cli({"--all", "--tasks", "sts-b", "wnli", "--glue-dir", (d.path / "glue").string(), "--checkpoints", base,
                  "--labels", "NanoGPT base", "--epochs", "1", "--out", out, "--table", table2, "--quiet", "--skip-malformed"},
                 rc);
    REQUIRE(rc == 0);
    const auto rows2 = lines_of(read_bytes(table2));
    REQUIRE(rows2.size() == 3);
    CHECK(rows2[0] == "| Model | STS-B (Pearson/Spearman) | WNLI (acc) |");
    CHECK(rows2[2].rfind("| NanoGPT base | ", 0) == 0);

    // The table alone, with a missing run.
    CHECK(nf::glue_markdown_table({"x"}, {"RTE"}, {{nullptr}}) == "| Model | RTE (acc) |\n|---|---|\n| x | – |\n");
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
