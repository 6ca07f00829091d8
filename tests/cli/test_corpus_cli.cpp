// `noiseformer corpus wordnet|glue`, run as a separate process: the file it writes and what it
// prints, and for every wrong use one line on stderr and a non-zero status (2 for the command
// line, 1 for a bad or missing input), with nothing written.
#include <doctest/doctest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "tests/support.h"

namespace fs = std::filesystem;
using namespace nf::test;

namespace {

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

struct Run {
  int code = -1;  // exit status; -1 when killed by a signal
  std::string out, err;
};

// `noiseformer corpus <args>`, stdout and stderr captured under `tmp`.
Run corpus(const TempDir& tmp, const std::string& args) {
  const std::string out = tmp.file("stdout"), err = tmp.file("stderr");
  const int st = std::system((quote(cli_binary()) + " corpus " + args + " >" + quote(out) + " 2>" + quote(err) + " </dev/null").c_str());
  Run r;
  r.code = WIFEXITED(st) && WEXITSTATUS(st) < 128 ? WEXITSTATUS(st) : -1;
  r.out = read_bytes(out);
  r.err = read_bytes(err);
  return r;
}

// Failed with `code`, exactly one line on stderr, "noiseformer corpus: error: …" holding `part`.
void check_error(const Run& r, int code, const std::string& part) {
  CAPTURE(r.err);
  CHECK(r.code == code);
  CHECK(r.err.rfind("noiseformer corpus: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(contains(r.err, part));
}

// A WordNet database of one real synset per file (WordNet 3.0 Copyright 2006 by Princeton
// University. All rights reserved.), in <tmp>/wordnet.
std::string write_wordnet(const TempDir& tmp) {
  const std::string header = "  1 This software and database is being provided to you, the LICENSEE, by  \n";
  const fs::path dir = tmp.path / "wordnet";
  write_bytes(dir / "data.noun", header + "07177111 10 n 01 cahoot 0 001 @ 07176962 n 0000 | collusion; \"in cahoots with\"  \n");
  write_bytes(dir / "data.verb", header + "02378869 41 v 02 buck 0 go_against 1 001 @ 02378641 v 0000 01 + 08 00 | resist; \"buck the trend\"  \n");
  write_bytes(dir / "data.adj", header + "00236839 00 a 01 bibbed 0 001 ! 00236922 a 0101 | having a bib; \"a bibbed apron\"  \n");
  write_bytes(dir / "data.adv", header + "00444324 02 r 01 roaring 0 000 | extremely; \"roaring drunk\"  \n");
  return dir.string();
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("corpus wordnet writes the text and says how big it is") {
    TempDir tmp;
    const std::string dir = write_wordnet(tmp), out = tmp.file("english.txt");
    const Run r = corpus(tmp, "wordnet --dir " + quote(dir) + " --out " + quote(out));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    const std::string text =
        "bibbed: having a bib.\n\"a bibbed apron\"\n"
        "buck, go against: resist.\n\"buck the trend\"\n"
        "cahoot: collusion.\n\"in cahoots with\"\n"
        "roaring: extremely.\n\"roaring drunk\"\n";
    CHECK(read_bytes(out) == text);
    CHECK(contains(r.out, "4 synsets, 4 examples"));
    CHECK(contains(r.out, "wrote " + out + ": " + std::to_string(text.size()) + " bytes, 8 lines (sentences)"));
    // The same from a --config file, the source still on the command line.
    const std::string config = tmp.file("corpus.json"), out2 = tmp.file("english2.txt");
    write_bytes(config, "{\"dir\": \"" + dir + "\", \"out\": \"" + out2 + "\"}");
    CHECK(corpus(tmp, "wordnet --config " + quote(config)).code == 0);
    CHECK(read_bytes(out2) == text);
  }

  TEST_CASE("corpus glue writes the training sentences and names each file read") {
    TempDir tmp;
    write_bytes(tmp.path / "glue" / "RTE" / "train.tsv",
                "index\tsentence1\tsentence2\tlabel\n0\tA dog barked.\tAn animal made a sound.\tentailment\n");
    write_bytes(tmp.path / "glue" / "RTE" / "dev.tsv", "index\tsentence1\tsentence2\tlabel\n0\tDev one.\tDev two.\tentailment\n");
    const std::string out = tmp.file("sentences.txt");
    const Run r = corpus(tmp, "glue --glue-dir " + quote(tmp.file("glue")) + " --out " + quote(out));
    REQUIRE_MESSAGE(r.code == 0, r.err);
    CHECK(read_bytes(out) == "A dog barked.\nAn animal made a sound.\n");
    CHECK(contains(r.out, "RTE: " + (tmp.path / "glue" / "RTE" / "train.tsv").string() + ", 1 rows, 2 new sentences"));
    CHECK(contains(r.out, "no train.tsv for: CoLA, SST-2, MRPC, QQP, STS-B, MNLI, QNLI, WNLI"));
  }

  TEST_CASE("corpus: a wrong command line is one line and status 2") {
    TempDir tmp;
    const std::string out = tmp.file("x.txt");
    check_error(corpus(tmp, "--out " + quote(out)), 2, "source is required");
    check_error(corpus(tmp, "books --out " + quote(out)), 2, "books");
    check_error(corpus(tmp, "wordnet"), 2, "--out is required");
    check_error(corpus(tmp, "wordnet --glue-dir g --out " + quote(out)), 2, "corpus wordnet takes --dir, not --glue-dir");
    check_error(corpus(tmp, "wordnet --skip-malformed --out " + quote(out)), 2, "corpus wordnet takes --dir");
    check_error(corpus(tmp, "glue --out " + quote(out)), 2, "corpus glue needs --glue-dir");
    check_error(corpus(tmp, "glue --dir d --glue-dir g --out " + quote(out)), 2, "corpus glue takes --glue-dir, not --dir");
    CHECK_FALSE(fs::exists(out));
    const Run help = corpus(tmp, "--help");
    CHECK(help.code == 0);
    CHECK(contains(help.out, "wordnet"));
    CHECK(contains(help.out, "--glue-dir"));
  }

  TEST_CASE("corpus: a missing or malformed input is one line and status 1, and nothing is written") {
    TempDir tmp;
    const std::string out = tmp.file("x.txt");
    check_error(corpus(tmp, "wordnet --dir " + quote(tmp.file("nowhere")) + " --out " + quote(out)), 1,
                tmp.file("nowhere") + "/data.noun: no such file");
    const std::string dir = write_wordnet(tmp);
    write_bytes(fs::path(dir) / "data.adj", "00236839 00 a 01 bibbed 0 001 ! 00236922 a 0101 having a bib\n");
    check_error(corpus(tmp, "wordnet --dir " + quote(dir) + " --out " + quote(out)), 1,
                dir + "/data.adj:1: no ' | ' before a gloss");
    check_error(corpus(tmp, "glue --glue-dir " + quote(tmp.file("noglue")) + " --out " + quote(out)), 1,
                tmp.file("noglue") + ": no such directory");
    write_bytes(tmp.path / "glue" / "CoLA" / "train.tsv", "gj04\t1\t\tFine.\ngj04\t5\t\tLabel five.\n");
    check_error(corpus(tmp, "glue --glue-dir " + quote(tmp.file("glue")) + " --out " + quote(out)), 1,
                "CoLA/train.tsv:2: column 2: unknown label '5'");
    CHECK_FALSE(fs::exists(out));
    CHECK(corpus(tmp, "glue --skip-malformed --glue-dir " + quote(tmp.file("glue")) + " --out " + quote(out)).code == 0);
    CHECK(read_bytes(out) == "Fine.\n");
  }
}
