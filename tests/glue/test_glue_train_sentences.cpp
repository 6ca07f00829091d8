// GLUE's training sentences as a corpus (glue/train_sentences.h), on fixture files written in each
// task's real layout: every sentence of every train.tsv present, one per line, in GLUE's task
// order; never a dev or test sentence; repeats and empty sentences left out; a bad row refused
// with glue's one-line message unless skip_malformed.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "glue/train_sentences.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using namespace nf::test;

namespace {

// <glue_dir>/<task>/<file> with exactly `text`.
void write(const TempDir& glue, const std::string& task, const std::string& file, const std::string& text) {
  write_bytes(glue.path / task / file, text);
}

// Three tasks' training files, each with dev (and, for MNLI, test) files beside it that must not
// be read, and a QNLI folder that has only a dev file.
void write_glue(const TempDir& g) {
  // CoLA: no header (source, label, original mark, sentence).
  write(g, "CoLA", "train.tsv",
        "gj04\t1\t\tOur friends won't buy this analysis.\n"
        "gj04\t0\t*\tOne more pseudo generalization or I'm giving up.\n");
  write(g, "CoLA", "dev.tsv", "gj04\t1\t\tA COLA DEV SENTENCE.\n");
  // MRPC: a byte-order mark before its header; two sentences a row.
  write(g, "MRPC", "train.tsv",
        "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
        "1\t702876\t702977\tAmrozi accused his brother , whom he called \" the witness \" .\tReferring to him as \" the witness \" .\n");
  write(g, "MRPC", "dev.tsv", "Quality\t#1 ID\t#2 ID\t#1 String\t#2 String\n1\t1\t2\tMRPC DEV ONE.\tMRPC DEV TWO.\n");
  // MNLI: each premise comes with several hypotheses; CRLF line ends; a hypothesis that is empty.
  const std::string mnli_header = "index\tpromptID\tpairID\tgenre\tsentence1\tsentence2\tgold_label\r\n";
  write(g, "MNLI", "train.tsv",
        mnli_header +
            "0\t1\t1e\tfiction\tThe cat sat on the mat.\tA cat sat.\tentailment\r\n"
            "1\t1\t1c\tfiction\tThe cat sat on the mat.\tNo cat sat.\tcontradiction\r\n"
            "2\t1\t1n\tfiction\tThe cat sat on the mat.\t  \tneutral\r\n");
  write(g, "MNLI", "dev_matched.tsv", mnli_header + "0\t1\t1e\tfiction\tMNLI DEV PREMISE.\tMNLI DEV HYPOTHESIS.\tentailment\r\n");
  write(g, "MNLI", "test_matched.tsv", "index\tpromptID\tpairID\tgenre\tsentence1\tsentence2\n0\t1\t1\tf\tMNLI TEST.\tMNLI TEST 2.\n");
  write(g, "QNLI", "dev.tsv", "index\tquestion\tsentence\tlabel\n0\tQNLI DEV?\tQNLI DEV.\tentailment\n");
}

}  // namespace

TEST_SUITE("glue") {
  TEST_CASE("GLUE train sentences: every sentence of each train.tsv, one per line, in GLUE's task order") {
    TempDir g;
    write_glue(g);
    const nf::GlueTrainSentences s = nf::glue_train_sentences(g.str(), false);
    CHECK(s.text ==
          "Our friends won't buy this analysis.\n"
          "One more pseudo generalization or I'm giving up.\n"
          "Amrozi accused his brother , whom he called \" the witness \" .\n"
          "Referring to him as \" the witness \" .\n"
          "The cat sat on the mat.\n"
          "A cat sat.\n"
          "No cat sat.\n");
    CHECK(s.sentences == 7);
    CHECK(s.duplicates == 2);  // MNLI's premise, written once
    REQUIRE(s.tasks.size() == 3);
    CHECK(s.tasks[0].name == "CoLA");
    CHECK(s.tasks[0].path == (g.path / "CoLA" / "train.tsv").string());
    CHECK(s.tasks[0].rows == 2);
    CHECK(s.tasks[1].name == "MRPC");
    CHECK(s.tasks[1].sentences == 2);
    CHECK(s.tasks[2].name == "MNLI");
    CHECK(s.tasks[2].rows == 3);
    CHECK(s.tasks[2].sentences == 3);
    CHECK(s.absent == std::vector<std::string>{"SST-2", "QQP", "STS-B", "QNLI", "RTE", "WNLI"});
  }

  TEST_CASE("GLUE train sentences: dev and test files are never read (fine-tuning is scored on dev)") {
    TempDir g;
    write_glue(g);
    const std::string text = nf::glue_train_sentences(g.str(), false).text;
    for (const char* unseen : {"DEV", "TEST", "QNLI"}) {
      CAPTURE(unseen);
      CHECK_FALSE(contains(text, unseen));
    }
    // Even a folder of dev files only is no corpus.
    TempDir dev_only;
    write(dev_only, "RTE", "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tA.\tB.\tentailment\n");
    CHECK(contains(error_of([&] { nf::glue_train_sentences(dev_only.str(), false); }),
                   dev_only.str() + ": no GLUE training file (looked for CoLA/train.tsv, SST-2/train.tsv"));
  }

  TEST_CASE("GLUE train sentences: a bad row stops it with file and line, unless skip_malformed") {
    TempDir g;
    write(g, "SST-2", "train.tsv", "sentence\tlabel\ngood film \t1\nbad film\t7\nthis row has no tab\n");
    const std::string path = (g.path / "SST-2" / "train.tsv").string();
    const std::string err = error_of([&] { nf::glue_train_sentences(g.str(), false); });
    CHECK(err.rfind(path + ":3: column 2 (label): unknown label '7'", 0) == 0);
    CHECK(contains(err, "(and 1 more bad row); fix the file, or pass --skip-malformed"));
    CHECK(err.find('\n') == std::string::npos);

    const nf::GlueTrainSentences s = nf::glue_train_sentences(g.str(), true);
    CHECK(s.text == "good film\n");  // trimmed
    REQUIRE(s.tasks.size() == 1);
    CHECK(s.tasks[0].malformed_rows == 2);
  }

  TEST_CASE("GLUE train sentences: a missing folder is one line") {
    TempDir g;
    CHECK(error_of([&] { nf::glue_train_sentences(g.file("absent"), false); }) == g.file("absent") + ": no such directory");
  }
}
