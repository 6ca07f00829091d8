// GLUE readers on small fixture files written in each task's real format (never the shared data),
// and the metrics against values worked out by hand.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "glue/data.h"
#include "glue/metrics.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using nf::GlueTask;

namespace {

// A fake <glue_dir>, removed with everything in it at scope exit.
struct GlueDir : nf::test::TempDir {
  // Writes <glue_dir>/<task>/<file> with exactly `text` (no newline added).
  std::string write(const std::string& task, const std::string& file, const std::string& text) const {
    const fs::path p = path / task / file;
    nf::test::write_bytes(p, text);
    return p.string();
  }
  std::string dir() const { return str(); }
};

}  // namespace

TEST_SUITE("glue") {
  TEST_CASE("task table covers the nine GLUE tasks") {
    const auto& tasks = nf::glue_tasks();
    REQUIRE(tasks.size() == 9);
    CHECK(nf::glue_task_info("cola").task == GlueTask::CoLA);
    CHECK(nf::glue_task_info("SST-2").task == GlueTask::SST2);
    CHECK(nf::glue_task_info("sst2").task == GlueTask::SST2);
    CHECK(nf::glue_task_info("stsb").task == GlueTask::STSB);
    CHECK(nf::glue_task_info("MNLI-mm").task == GlueTask::MNLI);
    CHECK_THROWS_WITH_AS(nf::glue_task_info("squad"), doctest::Contains("unknown GLUE task 'squad'"),
                         std::runtime_error);

    const auto& stsb = nf::glue_task_info(GlueTask::STSB);
    CHECK(stsb.num_classes == 1);
    CHECK(stsb.metrics == std::vector<std::string>{"pearson", "spearman"});
    const auto& mnli = nf::glue_task_info(GlueTask::MNLI);
    CHECK(mnli.num_classes == 3);
    REQUIRE(mnli.dev_sets.size() == 2);
    CHECK(mnli.dev_sets[0].file == "dev_matched.tsv");
    CHECK(mnli.dev_sets[1].file == "dev_mismatched.tsv");
    CHECK(mnli.label_names == std::vector<std::string>{"contradiction", "entailment", "neutral"});
    CHECK(nf::glue_task_info(GlueTask::MRPC).metrics == std::vector<std::string>{"f1", "accuracy"});
    CHECK(nf::glue_task_info(GlueTask::QQP).metrics == std::vector<std::string>{"f1", "accuracy"});
    CHECK(nf::glue_task_info(GlueTask::CoLA).metrics == std::vector<std::string>{"mcc"});
    CHECK_FALSE(nf::glue_task_info(GlueTask::SST2).is_pair);
    CHECK(nf::glue_task_info(GlueTask::RTE).is_pair);
    for (const auto& t : tasks) {
      CHECK(t.train_file == "train.tsv");
      CHECK(t.label_names.size() == size_t(t.num_classes == 1 ? 0 : t.num_classes));
    }
  }

  TEST_CASE("CoLA header-less in_domain format (source, label, mark, sentence)") {
    GlueDir g;
    // Real layout: no header, blank 3rd column for acceptable sentences, '*' for unacceptable,
    // and (like the real dev.tsv) no newline after the last row.
    g.write("CoLA", "dev.tsv",
            "gj04\t1\t\tThe sailors rode the breeze clear of the rocks.\n"
            "gj04\t0\t*\tThe sailors rode the breeze clear from the rocks \"quoted.\n"
            "cj99\t1\t\t\"He said so,\" she said.\n"
            "this row has no tabs at all\n"
            "gj04\t1\t\t\n"  // empty sentence: kept, it is a well-formed row
            "gj04\t2\t\tLabel two does not exist.\n"
            "gj04\t0\t*\tNo final newline.");
    const nf::GlueSplit s = nf::read_glue_split(g.dir(), GlueTask::CoLA, "dev.tsv");
    REQUIRE(s.examples.size() == 5);
    CHECK(s.malformed_rows == 2);
    REQUIRE(s.problems.size() == 2);
    CHECK(s.problems[0].find("dev.tsv:4:") != std::string::npos);
    CHECK(s.problems[1].find("unknown label '2'") != std::string::npos);
    CHECK(s.examples[0].text_a == "The sailors rode the breeze clear of the rocks.");
    CHECK(s.examples[0].label == 1);
    CHECK(s.examples[0].has_label);
    CHECK(s.examples[0].id == "0");
    CHECK(s.examples[1].label == 0);
    CHECK(s.examples[1].text_a == "The sailors rode the breeze clear from the rocks \"quoted.");
    CHECK(s.examples[2].text_a == "\"He said so,\" she said.");  // quotes are text, not CSV quoting
    CHECK(s.examples[3].text_a.empty());
    CHECK(s.examples[4].text_a == "No final newline.");
    CHECK(s.examples[4].text_b.empty());
  }

  TEST_CASE("CoLA headered variants: sentence/label, and test.tsv without labels") {
    GlueDir g;
    g.write("CoLA", "train.tsv",
            "sentence\tlabel\n"
            "Our friends won't buy this analysis.\t1\n"
            "\"Quote at start.\t0\n"
            "too\tmany\tfields\n");
    const auto s = nf::read_glue_split(g.dir(), GlueTask::CoLA, "train.tsv");
    REQUIRE(s.examples.size() == 2);
    CHECK(s.malformed_rows == 1);
    CHECK(s.examples[0].text_a == "Our friends won't buy this analysis.");
    CHECK(s.examples[0].label == 1);
    CHECK(s.examples[1].text_a == "\"Quote at start.");
    CHECK(s.examples[1].label == 0);

    g.write("CoLA", "test.tsv", "index\tsentence\n0\tBill whistled past the house.\n1\tBill \"x\".\n");
    const auto t = nf::read_glue_split(g.dir(), GlueTask::CoLA, "test.tsv");
    REQUIRE(t.examples.size() == 2);
    CHECK(t.malformed_rows == 0);
    CHECK_FALSE(t.examples[0].has_label);
    CHECK(t.examples[0].label == -1);
    CHECK(t.examples[1].id == "1");
    CHECK(t.examples[1].text_a == "Bill \"x\".");
  }

  TEST_CASE("SST-2: sentence/label header, trailing space kept") {
    GlueDir g;
    g.write("SST-2", "train.tsv",
            "sentence\tlabel\n"
            "hide new secretions from the parental units \t0\n"
            "it 's a \" charming \" journey . \t1\n"
            "\t1\n"                 // empty sentence
            "no label column\n"     // 1 field
            "good movie\tpositive\n");  // label is not 0/1
    const auto s = nf::read_glue_split(g.dir(), GlueTask::SST2, "train.tsv");
    REQUIRE(s.examples.size() == 3);
    CHECK(s.malformed_rows == 2);
    CHECK(s.examples[0].text_a == "hide new secretions from the parental units ");
    CHECK(s.examples[1].text_a == "it 's a \" charming \" journey . ");
    CHECK(s.examples[1].label == 1);
    CHECK(s.examples[2].text_a.empty());

    g.write("SST-2", "test.tsv", "index\tsentence\n0\tuneasy mishmash of styles and genres .\n");
    const auto t = nf::read_glue_split(g.dir(), GlueTask::SST2, "test.tsv");
    REQUIRE(t.examples.size() == 1);
    CHECK_FALSE(t.examples[0].has_label);
    CHECK(t.examples[0].id == "0");
  }

  TEST_CASE("MRPC: BOM on the header, Quality label, #1/#2 String") {
    GlueDir g;
    g.write("MRPC", "dev.tsv",
            "\xEF\xBB\xBFQuality\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
            "1\t1355540\t1355592\tHe said the pie business doesn 't fit .\t\" The pie business does not fit .\n"
            "0\t2029631\t2029565\tMagnarelli said \" 100 percent \" .\t\n"  // empty second string
            "1\t123\t456\tonly one sentence\n");
    const auto s = nf::read_glue_split(g.dir(), GlueTask::MRPC, "dev.tsv");
    REQUIRE(s.examples.size() == 2);
    CHECK(s.malformed_rows == 1);
    CHECK(s.examples[0].label == 1);
    CHECK(s.examples[0].text_a == "He said the pie business doesn 't fit .");
    CHECK(s.examples[0].text_b == "\" The pie business does not fit .");
    CHECK(s.examples[1].label == 0);
    CHECK(s.examples[1].text_b.empty());

    g.write("MRPC", "test.tsv",
            "index\t#1 ID\t#2 ID\t#1 String\t#2 String\n"
            "0\t1089874\t1089925\tPCCW 's chief .\tCurrent Chief .\n");
    const auto t = nf::read_glue_split(g.dir(), GlueTask::MRPC, "test.tsv");
    REQUIRE(t.examples.size() == 1);
    CHECK_FALSE(t.examples[0].has_label);
    CHECK(t.examples[0].text_b == "Current Chief .");
  }

  TEST_CASE("QQP: id qid1 qid2 question1 question2 is_duplicate") {
    GlueDir g;
    g.write("QQP", "train.tsv",
            "id\tqid1\tqid2\tquestion1\tquestion2\tis_duplicate\n"
            "133273\t213221\t213222\tHow is the life of a math student?\tWhich level of \"prepration\" is enough?\t0\n"
            "402555\t536040\t536041\tHow do I control my horny emotions?\tHow do you control your horniness?\t1\n"
            "201841\t303951\t174364\tHow can I create an Android app?\n");  // a known-broken row: 4 fields
    const auto s = nf::read_glue_split(g.dir(), GlueTask::QQP, "train.tsv");
    REQUIRE(s.examples.size() == 2);
    CHECK(s.malformed_rows == 1);
    CHECK(s.examples[0].id == "133273");
    CHECK(s.examples[0].text_b == "Which level of \"prepration\" is enough?");
    CHECK(s.examples[1].label == 1);

    g.write("QQP", "test.tsv", "id\tquestion1\tquestion2\n0\tWhy?\tWhy not?\n");
    const auto t = nf::read_glue_split(g.dir(), GlueTask::QQP, "test.tsv");
    REQUIRE(t.examples.size() == 1);
    CHECK_FALSE(t.examples[0].has_label);
    CHECK(t.examples[0].text_a == "Why?");
  }

  TEST_CASE("STS-B: ten columns, sentences at 7 and 8, float score last") {
    GlueDir g;
    const std::string header =
        "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\tscore\n";
    g.write("STS-B", "dev.tsv",
            header +
                "0\tmain-captions\tMSRvid\t2012test\t0000\tnone\tnone\tA man with a hard hat is dancing.\t"
                "A man wearing a hard hat is dancing.\t5.000\n"
                "1\tmain-news\theadlines\t2013\t0001\tnone\tnone\tHe said \"no\t\" comment.\tSecond.\t3.800\n"  // 11 fields
                "2\tmain-news\theadlines\t2013\t0002\tnone\tnone\t\"Quoted\" start.\tEnd.\t0.25\n"
                "3\tmain-news\theadlines\t2013\t0003\tnone\tnone\tA.\tB.\tabc\n");
    const auto s = nf::read_glue_split(g.dir(), GlueTask::STSB, "dev.tsv");
    REQUIRE(s.examples.size() == 2);
    CHECK(s.malformed_rows == 2);
    CHECK(s.examples[0].score == doctest::Approx(5.0));
    CHECK(s.examples[0].label == -1);
    CHECK(s.examples[0].has_label);
    CHECK(s.examples[0].text_b == "A man wearing a hard hat is dancing.");
    CHECK(s.examples[1].id == "2");
    CHECK(s.examples[1].text_a == "\"Quoted\" start.");
    CHECK(s.examples[1].score == doctest::Approx(0.25));
    CHECK(nf::glue_references(GlueTask::STSB, s.examples) == std::vector<double>{5.0, 0.25});

    g.write("STS-B", "test.tsv",
            "index\tgenre\tfilename\tyear\told_index\tsource1\tsource2\tsentence1\tsentence2\n"
            "0\tmain-captions\tMSRvid\t2012test\t0024\tnone\tnone\tA girl is styling her hair.\tA girl is brushing her hair.\n");
    const auto t = nf::read_glue_split(g.dir(), GlueTask::STSB, "test.tsv");
    REQUIRE(t.examples.size() == 1);
    CHECK_FALSE(t.examples[0].has_label);
    CHECK_THROWS_AS(nf::glue_references(GlueTask::STSB, t.examples), std::runtime_error);
  }

  TEST_CASE("MNLI: many columns, gold_label, matched and mismatched dev files") {
    GlueDir g;
    const std::string header =
        "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
        "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tlabel2\tlabel3\tlabel4\t"
        "label5\tgold_label\n";
    auto row = [](const std::string& idx, const std::string& s1, const std::string& s2,
                  const std::string& gold) {
      return idx + "\t63735\t63735n\tslate\t( ( The ) )\t( x )\t(ROOT)\t(ROOT)\t" + s1 + "\t" + s2 +
             "\tneutral\tentailment\tneutral\tneutral\tneutral\t" + gold + "\n";
    };
    g.write("MNLI", "dev_matched.tsv",
            header + row("0", "The new rights are nice enough", "Everyone really likes the newest benefits ", "neutral") +
                row("1", "This \"site\" includes a list.", "The Government Executive ...", "contradiction") +
                row("2", "a", "b", "entailment") + "3\tshort\trow\n");
    g.write("MNLI", "dev_mismatched.tsv",
            header + row("0", "Your contribution helped.", "", "entailment") + row("1", "x", "y", "-"));
    const auto& info = nf::glue_task_info(GlueTask::MNLI);
    const auto m = nf::read_glue_split(g.dir(), GlueTask::MNLI, info.dev_sets[0].file);
    REQUIRE(m.examples.size() == 3);
    CHECK(m.malformed_rows == 1);
    CHECK(m.examples[0].label == 2);  // neutral
    CHECK(m.examples[1].label == 0);  // contradiction
    CHECK(m.examples[2].label == 1);  // entailment
    CHECK(m.examples[1].text_a == "This \"site\" includes a list.");
    CHECK(m.examples[0].text_b == "Everyone really likes the newest benefits ");
    const auto mm = nf::read_glue_split(g.dir(), GlueTask::MNLI, info.dev_sets[1].file);
    REQUIRE(mm.examples.size() == 1);
    CHECK(mm.malformed_rows == 1);  // "-": no gold label
    CHECK(mm.examples[0].text_b.empty());

    // train.tsv has only label1 before gold_label; test files have no labels.
    g.write("MNLI", "train.tsv",
            "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
            "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\tlabel1\tgold_label\n"
            "0\t31193\t31193n\tgovernment\t(x)\t(y)\t(X)\t(Y)\tConceptually cream skimming.\tProduct and geography.\tneutral\tneutral\n");
    const auto tr = nf::read_glue_split(g.dir(), GlueTask::MNLI, "train.tsv");
    REQUIRE(tr.examples.size() == 1);
    CHECK(tr.examples[0].label == 2);
    g.write("MNLI", "test_matched.tsv",
            "index\tpromptID\tpairID\tgenre\tsentence1_binary_parse\tsentence2_binary_parse\t"
            "sentence1_parse\tsentence2_parse\tsentence1\tsentence2\n"
            "0\t31493\t31493\ttravel\t(x)\t(y)\t(X)\t(Y)\tHierbas.\tThe liqueur.\n");
    const auto te = nf::read_glue_split(g.dir(), GlueTask::MNLI, "test_matched.tsv");
    REQUIRE(te.examples.size() == 1);
    CHECK_FALSE(te.examples[0].has_label);
    CHECK(te.examples[0].text_b == "The liqueur.");
  }

  TEST_CASE("QNLI: index question sentence label (entailment/not_entailment)") {
    GlueDir g;
    g.write("QNLI", "dev.tsv",
            "index\tquestion\tsentence\tlabel\n"
            "0\tWhat came into force?\tAs of that day, the constitution came into force.\tentailment\n"
            "658\tWhat is \"unmatched?\tA sentence with one \" quote.\tnot_entailment\n"
            "7\tMissing sentence\tentailment\n");
    const auto s = nf::read_glue_split(g.dir(), GlueTask::QNLI, "dev.tsv");
    REQUIRE(s.examples.size() == 2);
    CHECK(s.malformed_rows == 1);
    CHECK(s.examples[0].label == 0);
    CHECK(s.examples[1].label == 1);
    CHECK(s.examples[1].id == "658");
    CHECK(s.examples[1].text_a == "What is \"unmatched?");
    CHECK(s.examples[1].text_b == "A sentence with one \" quote.");
  }

  TEST_CASE("RTE: index sentence1 sentence2 label") {
    GlueDir g;
    g.write("RTE", "train.tsv",
            "index\tsentence1\tsentence2\tlabel\n"
            "0\tNo Weapons of Mass Destruction Found in Iraq Yet.\tWeapons Found in Iraq.\tnot_entailment\n"
            "2164\t\"The starting quote is part of the text.\tIt is.\tentailment\n"
            "5\ta\tb\tmaybe\n");
    const auto s = nf::read_glue_split(g.dir(), GlueTask::RTE, "train.tsv");
    REQUIRE(s.examples.size() == 2);
    CHECK(s.malformed_rows == 1);
    CHECK(s.problems[0].find("unknown label 'maybe'") != std::string::npos);
    CHECK(s.examples[0].label == 1);
    CHECK(s.examples[1].label == 0);
    CHECK(s.examples[1].text_a == "\"The starting quote is part of the text.");
  }

  TEST_CASE("WNLI: index sentence1 sentence2 label 0/1, CRLF tolerated") {
    GlueDir g;
    g.write("WNLI", "dev.tsv",
            "index\tsentence1\tsentence2\tlabel\r\n"
            "0\tThe drain is clogged with hair. It has to be cleaned.\tThe hair has to be cleaned.\t0\r\n"
            "1\tJane knocked on Susan's door but she did not answer.\tSusan did not answer.\t1\r\n"
            "\n"  // blank line: ignored
            "2\textra\tfield\there\t1\n");
    const auto s = nf::read_glue_split(g.dir(), GlueTask::WNLI, "dev.tsv");
    REQUIRE(s.examples.size() == 2);
    CHECK(s.malformed_rows == 1);
    CHECK(s.examples[0].label == 0);
    CHECK(s.examples[1].label == 1);
    CHECK(s.examples[1].text_b == "Susan did not answer.");
    CHECK(nf::glue_references(GlueTask::WNLI, s.examples) == std::vector<double>{0, 1});
  }

  TEST_CASE("missing file, empty file and a header without the needed columns throw") {
    GlueDir g;
    CHECK_THROWS_WITH_AS(nf::read_glue_split(g.dir(), GlueTask::RTE, "dev.tsv"),
                         doctest::Contains("no such file"), std::runtime_error);
    g.write("RTE", "dev.tsv", "");
    CHECK_THROWS_WITH_AS(nf::read_glue_split(g.dir(), GlueTask::RTE, "dev.tsv"),
                         doctest::Contains("empty"), std::runtime_error);
    g.write("RTE", "dev.tsv", "index\tpremise\thypothesis\tlabel\n0\ta\tb\tentailment\n");
    CHECK_THROWS_WITH_AS(nf::read_glue_split(g.dir(), GlueTask::RTE, "dev.tsv"),
                         doctest::Contains("no 'sentence1' column"), std::runtime_error);
    // The header's own names are quoted in that message: a control byte in them (here a CR in
    // the middle of a name) must not break its one line.
    g.write("RTE", "dev.tsv", "index\tprem\rise\thypothesis\tlabel\n");
    CHECK_THROWS_WITH_AS(nf::read_glue_split(g.dir(), GlueTask::RTE, "dev.tsv"),
                         doctest::Contains("(its columns: index, prem ise, hypothesis, label)"), std::runtime_error);
  }

  TEST_CASE("metrics: accuracy, F1 and MCC on a small confusion matrix") {
    // labels      1 1 1 1 0 0 0
    // predictions 1 1 1 0 1 0 0
    // TP = 3, FN = 1, FP = 1, TN = 2.
    const std::vector<int> labels = {1, 1, 1, 1, 0, 0, 0};
    const std::vector<int> preds = {1, 1, 1, 0, 1, 0, 0};
    // accuracy = (TP + TN) / 7 = 5/7
    CHECK(nf::accuracy(preds, labels) == doctest::Approx(5.0 / 7.0));
    // F1 = 2TP / (2TP + FP + FN) = 6 / 8 = 0.75
    CHECK(nf::f1_score(preds, labels) == doctest::Approx(0.75));
    // MCC = (TP·TN − FP·FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))
    //     = (3·2 − 1·1) / sqrt(4·4·3·3) = 5 / 12
    CHECK(nf::matthews_corrcoef(preds, labels) == doctest::Approx(5.0 / 12.0));
    // scikit-learn's documented example: y_true = [+1 +1 +1 −1], y_pred = [+1 −1 +1 +1]:
    // TP = 2, FN = 1, FP = 1, TN = 0 -> (0 − 1) / sqrt(3·3·1·1) = −1/3.
    CHECK(nf::matthews_corrcoef({1, -1, 1, 1}, {1, 1, 1, -1}) == doctest::Approx(-1.0 / 3.0));
    // Undefined (a constant prediction makes a zero factor in the denominator): 0.
    CHECK(nf::matthews_corrcoef({1, 1, 1}, {1, 0, 1}) == 0.0);
    CHECK(nf::matthews_corrcoef(labels, labels) == doctest::Approx(1.0));
    // F1 without any positive, predicted or true: 0.
    CHECK(nf::f1_score({0, 0}, {0, 0}) == 0.0);
    CHECK_THROWS_AS(nf::accuracy({1, 0}, {1}), std::invalid_argument);
    CHECK_THROWS_AS(nf::accuracy({}, {}), std::invalid_argument);
  }

  TEST_CASE("metrics: Pearson and Spearman with ties") {
    const std::vector<double> x = {1, 2, 3, 4, 5};
    const std::vector<double> y = {2, 4, 5, 4, 5};
    // Pearson: mean x = 3, mean y = 4; dx = −2 −1 0 1 2, dy = −2 0 1 0 1.
    // Σdx·dy = 4 + 0 + 0 + 0 + 2 = 6, Σdx² = 10, Σdy² = 4 + 0 + 1 + 0 + 1 = 6
    // r = 6 / sqrt(10·6) = 0.7745966692...
    CHECK(nf::pearson_correlation(x, y) == doctest::Approx(6.0 / std::sqrt(60.0)));
    // Spearman: ranks of x are 1..5. y sorted is 2 | 4 4 | 5 5, so 2 -> 1, the two 4s share
    // ranks 2,3 -> 2.5, the two 5s share 4,5 -> 4.5: ranks(y) = 1, 2.5, 4.5, 2.5, 4.5 (mean 3).
    // dy = −2 −0.5 1.5 −0.5 1.5: Σdx·dy = 4 + 0.5 + 0 − 0.5 + 3 = 7,
    // Σdy² = 4 + 0.25 + 2.25 + 0.25 + 2.25 = 9, ρ = 7 / sqrt(10·9) = 0.7378647873...
    // (scipy.stats.spearmanr gives the same.)
    CHECK(nf::average_ranks(y) == std::vector<double>{1, 2.5, 4.5, 2.5, 4.5});
    CHECK(nf::spearman_correlation(x, y) == doctest::Approx(7.0 / std::sqrt(90.0)));
    CHECK(nf::pearson_correlation({1, 1, 1}, {1, 2, 3}) == 0.0);  // undefined -> 0
    CHECK(nf::pearson_correlation({1, 2, 3}, {-2, -4, -6}) == doctest::Approx(-1.0));
  }

  TEST_CASE("glue_metrics reports each task's GLUE metrics; MNLI's two dev sets separately") {
    const std::vector<double> labels = {1, 1, 1, 1, 0, 0, 0};
    const std::vector<double> preds = {1, 1, 1, 0, 1, 0, 0};

    const auto cola = nf::glue_metrics(GlueTask::CoLA, preds, labels);
    CHECK(cola.eval_set == "CoLA");
    REQUIRE(cola.metrics.size() == 1);
    CHECK(cola.value("mcc") == doctest::Approx(5.0 / 12.0));

    const auto mrpc = nf::glue_metrics(GlueTask::MRPC, preds, labels);
    REQUIRE(mrpc.metrics.size() == 2);
    CHECK(mrpc.metrics[0].first == "f1");
    CHECK(mrpc.value("f1") == doctest::Approx(0.75));
    CHECK(mrpc.value("accuracy") == doctest::Approx(5.0 / 7.0));
    CHECK(nf::glue_task_score({mrpc}) == doctest::Approx((0.75 + 5.0 / 7.0) / 2));
    CHECK(nf::glue_metrics(GlueTask::QQP, preds, labels).value("f1") == doctest::Approx(0.75));
    CHECK(nf::glue_metrics(GlueTask::RTE, preds, labels).value("accuracy") == doctest::Approx(5.0 / 7.0));
    CHECK_THROWS_AS(nf::glue_metrics(GlueTask::CoLA, preds, labels).value("f1"), std::invalid_argument);

    const auto sts = nf::glue_metrics(GlueTask::STSB, {1, 2, 3, 4, 5}, {2, 4, 5, 4, 5});
    CHECK(sts.eval_set == "STS-B");
    CHECK(sts.value("pearson") == doctest::Approx(6.0 / std::sqrt(60.0)));
    CHECK(sts.value("spearman") == doctest::Approx(7.0 / std::sqrt(90.0)));

    // MNLI: one call per dev set; asking for "dev" is an error, not a silent pick.
    const std::vector<double> mnli_ref = {0, 1, 2, 2};
    const auto m = nf::glue_metrics(GlueTask::MNLI, {0, 1, 2, 0}, mnli_ref, "matched");
    const auto mm = nf::glue_metrics(GlueTask::MNLI, {0, 1, 1, 0}, mnli_ref, "mismatched");
    CHECK(m.eval_set == "MNLI-m");
    CHECK(mm.eval_set == "MNLI-mm");
    CHECK(m.value("accuracy") == doctest::Approx(0.75));
    CHECK(mm.value("accuracy") == doctest::Approx(0.5));
    CHECK(nf::glue_task_score({m, mm}) == doctest::Approx(0.625));
    CHECK_THROWS_WITH_AS(nf::glue_metrics(GlueTask::MNLI, mnli_ref, mnli_ref),
                         doctest::Contains("matched"), std::invalid_argument);
    CHECK_THROWS_AS(nf::glue_metrics(GlueTask::RTE, preds, labels, "matched"), std::invalid_argument);

    // Class ids must be integers in range.
    CHECK_THROWS_AS(nf::glue_metrics(GlueTask::SST2, {0, 2}, {0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(nf::glue_metrics(GlueTask::SST2, {0, 0.5}, {0, 1}), std::invalid_argument);
    CHECK_THROWS_AS(nf::glue_metrics(GlueTask::SST2, {0, 1}, {0}), std::invalid_argument);
  }

  TEST_CASE("a constant prediction (STS-B's majority baseline) has correlation exactly 0") {
    // The mean of the constants is rounded (3 x 2.7 / 3 != 2.7), which must not leave ~1e-16.
    CHECK(nf::pearson_correlation({2.7, 2.7, 2.7}, {1, 2, 4}) == 0.0);
    CHECK(nf::spearman_correlation({2.7, 2.7, 2.7}, {1, 2, 4}) == 0.0);
    CHECK(nf::pearson_correlation({1, 2, 4}, {0.1, 0.1, 0.1}) == 0.0);
  }
}
