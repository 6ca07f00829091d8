#pragma once
// Fixtures of the GLUE suites (glue_finetune, glue_sweep): a tiny checkpoint with its char
// tokenizer, each task's train and dev files in its real format (with one malformed row each),
// and `noiseformer glue` run in-process with its stdout captured. Everything is written under
// the test's own TempDir, never read from a shared copy of GLUE.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "data/tokenizer.h"
#include "glue/data.h"
#include "io/checkpoint.h"
#include "tests/support.h"

namespace nf::test {

using nf::GlueTask;

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string l; std::getline(ss, l);) out.push_back(l);
  return out;
}

// One layer, width 16, 2 heads.
inline nf::GPTConfig tiny_config(const std::string& attention, int64_t vocab, int64_t block = 32) {
  return nf::test::tiny_gpt(attention, 16, block, 2, vocab, /*n_layer=*/1);
}

// Lower-case letters, digits and a little punctuation: fixture text with capitals or quotes
// exercises the char tokenizer's fallback for characters it never saw.
inline const char* const kCorpus = "abcdefghijklmnopqrstuvwxyz 0123456789.,?!'\n";

// A freshly initialised GPT saved as a checkpoint with its char tokenizer in the metadata.
inline std::string make_checkpoint(const std::filesystem::path& dir, const std::string& attention, int64_t block = 32,
                            bool with_tokenizer = true) {
  const nf::CharTokenizer tok = nf::CharTokenizer::from_text(kCorpus);
  nf::GPT gpt(tiny_config(attention, tok.vocab_size(), block), 7);
  const std::string path = (dir / (attention + ".safetensors")).string();
  nf::save_model(path, gpt, with_tokenizer ? tok.to_meta_json().dump() : "");
  return path;
}

// ---- fixture files in each task's real format ------------------------------------------------

inline std::string header_of(GlueTask t, const std::string& file) {
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

inline std::string row_of(GlueTask t, const std::string& file, int i, const std::string& a, const std::string& b, int label,
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
inline int write_task_fixtures(const std::filesystem::path& dir, GlueTask t) {
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

inline void write_all_fixtures(const std::filesystem::path& dir) {
  for (const auto& info : nf::glue_tasks()) write_task_fixtures(dir, info.task);
}

// Runs `noiseformer glue ARGS…` in-process, returning its stdout; `rc` gets the exit status.
inline std::string run_glue_cli(const std::vector<std::string>& args, int& rc) {
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
inline std::string glue_cli_error(const std::vector<std::string>& args, int& rc) {
  try {
    run_glue_cli(args, rc);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace nf::test
