// The WordNet corpus (data/corpus_wordnet.h): synset lines of WordNet 3.0's data files, in their
// real format, become one line of words and definition plus one line per example sentence, in
// dictionary order; a malformed line is refused with one message naming the file and the line.
// The fixture lines are copied from WordNet 3.0 (Debian package wordnet-base), whose licence
// allows copies that keep its notice: "WordNet 3.0 Copyright 2006 by Princeton University. All
// rights reserved." The suite "wordnet" reads the installed database itself, and is skipped,
// saying so, where it is absent.
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "data/corpus_wordnet.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using namespace nf::test;

namespace {

// The first lines of every data file: its licence, each line starting with two spaces.
const std::string kHeader =
    "  1 This software and database is being provided to you, the LICENSEE, by  \n"
    "  2 Princeton University under the following license.  By obtaining, using  \n"
    "  3 and/or copying this software and database, you agree that you have  \n";

// Real synset lines (each ends in two spaces, as in the files), some out of dictionary order.
const std::string kNoun =
    kHeader +
    "07227301 10 n 03 parole 0 word 1 word_of_honor 0 001 @ 07226545 n 0000 | a promise; \"he gave his word\"  \n"
    "15135434 28 n 02 time_being 0 nonce 0 001 @ 15119536 n 0000 | the present occasion; \"for the nonce\"  \n"
    "07177111 10 n 01 cahoot 0 001 @ 07176962 n 0000 | collusion; \"in cahoots with\"  \n";
const std::string kVerb =
    kHeader +
    "02236041 40 v 01 cast d 001 @ 02235860 v 0000 01 + 08 00 | deposit; \"cast a vote\"; \"cast a ballot\"  \n"
    "01492962 35 v 02 jam 3 crush 1 001 @ 01492743 v 0000 01 + 08 00 | crush or bruise; \"jam a toe\"  \n";
const std::string kAdj =
    kHeader +
    "01004245 00 s 01 up(p) 0 001 & 01003050 a 0000 | used up; \"time is up\"  \n"
    "00236839 00 a 01 bibbed 0 001 ! 00236922 a 0101 | having a bib; \"a bibbed apron\"  \n"
    "01482020 00 s 01 ringed 0 001 & 01481612 a 0000 | wearing a wedding ring; lawfully married; \"a ringed wife\"- Tennyson  \n"
    "02258973 00 s 01 antisocial 0 001 & 02258601 a 0000 | shunning contact with others; \"standoffish and antisocial\"; "
    "\"he's not antisocial; just shy\"  \n";
const std::string kAdv = kHeader + "00032803 02 r 01 much 3 000 | very; \"he was much annoyed\"  \n";

// Those four files, written as <dir>/data.<pos>.
void write_database(const TempDir& tmp) {
  write_bytes(tmp.file("data.noun"), kNoun);
  write_bytes(tmp.file("data.verb"), kVerb);
  write_bytes(tmp.file("data.adj"), kAdj);
  write_bytes(tmp.file("data.adv"), kAdv);
}

// The message parse_wordnet_data throws for a data.noun that holds the header and `line`.
std::string noun_error(const std::string& line) {
  return error_of([&] { nf::parse_wordnet_data(kHeader + line + "\n", "noun", "data.noun"); });
}

}  // namespace

TEST_SUITE("data") {
  TEST_CASE("wordnet corpus: a synset is its words and definition on one line, then one line per example") {
    const std::vector<nf::WordNetSynset> nouns = nf::parse_wordnet_data(kNoun, "noun", "data.noun");
    REQUIRE(nouns.size() == 3);  // the licence header is not a synset
    CHECK(nouns[0].offset == "07227301");
    CHECK(nouns[0].ss_type == 'n');
    CHECK(nouns[0].words == std::vector<std::string>{"parole", "word", "word of honor"});
    CHECK(nouns[0].gloss.definitions == std::vector<std::string>{"a promise"});
    CHECK(nouns[0].gloss.examples == std::vector<std::string>{"\"he gave his word\""});

    // Dictionary order by first word, ignoring case: cahoot, parole, time being.
    CHECK(nf::wordnet_text(nouns) ==
          "cahoot: collusion.\n"
          "\"in cahoots with\"\n"
          "parole, word, word of honor: a promise.\n"
          "\"he gave his word\"\n"
          "time being, nonce: the present occasion.\n"
          "\"for the nonce\"\n");
  }

  TEST_CASE("wordnet corpus: verb frames, adjective markers, satellites and adverbs") {
    const auto verbs = nf::parse_wordnet_data(kVerb, "verb", "data.verb");
    REQUIRE(verbs.size() == 2);
    CHECK(verbs[0].words == std::vector<std::string>{"cast"});  // lex_id "d" is hex
    CHECK(verbs[0].gloss.examples == std::vector<std::string>{"\"cast a vote\"", "\"cast a ballot\""});
    const auto adjectives = nf::parse_wordnet_data(kAdj, "adj", "data.adj");
    REQUIRE(adjectives.size() == 4);
    CHECK(adjectives[0].ss_type == 's');
    CHECK(adjectives[0].words == std::vector<std::string>{"up"});  // "(p)": predicative only
    CHECK(adjectives[1].ss_type == 'a');
    const auto adverbs = nf::parse_wordnet_data(kAdv, "adv", "data.adv");
    REQUIRE(adverbs.size() == 1);
    CHECK(adverbs[0].ss_type == 'r');
    CHECK(nf::wordnet_text(adverbs) == "much: very.\n\"he was much annoyed\"\n");
  }

  TEST_CASE("wordnet corpus: a gloss's parts are definitions, examples in quotes; ';' inside quotes stays") {
    auto split = [](const std::string& gloss) { return nf::split_wordnet_gloss(gloss); };
    nf::WordNetGloss g = split("shunning contact with others; \"standoffish and antisocial\"; \"he's not antisocial; just shy\"");
    CHECK(g.definitions == std::vector<std::string>{"shunning contact with others"});
    CHECK(g.examples == std::vector<std::string>{"\"standoffish and antisocial\"", "\"he's not antisocial; just shy\""});
    // Several definition parts; an attribution stays with its example.
    g = split("wearing a wedding ring; lawfully married; \"a ringed wife\"- Tennyson");
    CHECK(g.definitions == std::vector<std::string>{"wearing a wedding ring", "lawfully married"});
    CHECK(g.examples == std::vector<std::string>{"\"a ringed wife\"- Tennyson"});
    // A quotation inside a definition part is part of the definition.
    g = split("killed; `slain' is formal or literary as in \"slain warriors\"; \"a picture of St. George and the slain dragon\"");
    CHECK(g.definitions == std::vector<std::string>{"killed", "`slain' is formal or literary as in \"slain warriors\""});
    CHECK(g.examples.size() == 1);
    CHECK(split("a gloss without examples").examples.empty());
  }

  TEST_CASE("wordnet corpus: WordNet's few unbalanced quotes are repaired, so every example is quoted") {
    auto examples = [](const std::string& gloss) { return nf::split_wordnet_gloss(gloss).examples; };
    // A closing quote left out, at the end and before the next example.
    CHECK(examples("fueled by wood; \"a wood-burning stove") == std::vector<std::string>{"\"a wood-burning stove\""});
    CHECK(examples("often used in combination; \"long-toed; \"five-toed\"") ==
          std::vector<std::string>{"\"long-toed\"", "\"five-toed\""});
    // An opening quote left out.
    CHECK(examples("utter with seeming casualness; \"drop a hint\"; drop names\"") ==
          std::vector<std::string>{"\"drop a hint\"", "\"drop names\""});
    // The quote put after the semicolon: the stray one is dropped.
    CHECK(examples("become stretched or tense or taut; \"the neck muscles tensed;\" \"the rope strained\"") ==
          std::vector<std::string>{"\"the neck muscles tensed\"", "\"the rope strained\""});
  }

  TEST_CASE("wordnet corpus: synsets of all four files in one dictionary order, ties in file order") {
    TempDir tmp;
    write_database(tmp);
    const nf::WordNetCorpus c = nf::wordnet_corpus(tmp.str());
    CHECK(c.synsets == 10);
    CHECK(c.examples == 12);
    CHECK(c.lines == 22);
    CHECK(std::count(c.text.begin(), c.text.end(), '\n') == 22);
    CHECK(c.text ==
          "antisocial: shunning contact with others.\n"
          "\"standoffish and antisocial\"\n"
          "\"he's not antisocial; just shy\"\n"
          "bibbed: having a bib.\n"
          "\"a bibbed apron\"\n"
          "cahoot: collusion.\n"
          "\"in cahoots with\"\n"
          "cast: deposit.\n"
          "\"cast a vote\"\n"
          "\"cast a ballot\"\n"
          "jam, crush: crush or bruise.\n"
          "\"jam a toe\"\n"
          "much: very.\n"
          "\"he was much annoyed\"\n"
          "parole, word, word of honor: a promise.\n"
          "\"he gave his word\"\n"
          "ringed: wearing a wedding ring; lawfully married.\n"
          "\"a ringed wife\"- Tennyson\n"
          "time being, nonce: the present occasion.\n"
          "\"for the nonce\"\n"
          "up: used up.\n"
          "\"time is up\"\n");
    CHECK(nf::wordnet_corpus(tmp.str()).text == c.text);  // deterministic
  }

  TEST_CASE("wordnet corpus: a malformed line is one message naming the file and the line") {
    const std::string good = "07177111 10 n 01 cahoot 0 001 @ 07176962 n 0000 | collusion; \"in cahoots with\"";
    REQUIRE(noun_error(good).empty());
    struct Bad {
      std::string line, message;
    };
    const std::vector<Bad> bad = {
        {"07177111 10 n 01 cahoot 0 001 @ 07176962 n 0000 collusion", "no ' | ' before a gloss"},
        {"7177111 10 n 01 cahoot 0 001 @ 07176962 n 0000 | collusion", "synset_offset '7177111' is not 8 digits"},
        {"07177111 1x n 01 cahoot 0 001 @ 07176962 n 0000 | collusion", "lex_filenum '1x' is not 2 digits"},
        {"07177111 10 v 01 cahoot 0 001 @ 07176962 n 0000 | collusion", "ss_type 'v' does not belong in data.noun (expected n)"},
        {"07177111 10 n 0g cahoot 0 001 @ 07176962 n 0000 | collusion", "w_cnt '0g' is not 2 hex digits"},
        {"07177111 10 n 00 001 @ 07176962 n 0000 | collusion", "w_cnt is 00"},
        {"07177111 10 n 01 cahoot x 001 @ 07176962 n 0000 | collusion", "word 1 of 1: lex_id 'x' is not 1 hex digit"},
        {"07177111 10 n 01 cahoot 0 01 @ 07176962 n 0000 | collusion", "p_cnt '01' is not 3 digits"},
        {"07177111 10 n 01 cahoot 0 001 ? 07176962 n 0000 | collusion", "pointer 1 of 1: '?' is not a pointer symbol"},
        {"07177111 10 n 01 cahoot 0 001 @ 0717696 n 0000 | collusion", "pointer 1 of 1: synset_offset '0717696' is not 8 digits"},
        {"07177111 10 n 01 cahoot 0 001 @ 07176962 x 0000 | collusion", "pointer 1 of 1: pos 'x' is not n, v, a, s or r"},
        {"07177111 10 n 01 cahoot 0 001 @ 07176962 n 00 | collusion", "pointer 1 of 1: source/target '00' is not 4 hex digits"},
        {"07177111 10 n 01 cahoot 0 002 @ 07176962 n 0000 | collusion", "' | ' comes after 11 fields, where pointer 2 of 2 (symbol) should be"},
        {"07177111 10 n 01 cahoot 0 001 @ 07176962 n 0000 01 + 08 00 | collusion", "'01' where ' | ' and the gloss should follow"},
        {"07177111 10 n 01 cahoot 0 001 @ 07176962 n 0000 |   ", "empty gloss"},
        {"", "empty line"},
    };
    for (const Bad& b : bad) {
      const std::string line = b.line, message = b.message;
      CAPTURE(line);
      const std::string err = noun_error(line);
      CHECK(err.rfind("data.noun:4: ", 0) == 0);  // three header lines, then this one
      CHECK(contains(err, message));
      CHECK(err.find('\n') == std::string::npos);
    }
    // data.verb's frames are checked too, and only data.verb has them.
    const std::string verb = "01492962 35 v 02 jam 3 crush 1 001 @ 01492743 v 0000 01 + 08 00 | crush or bruise";
    CHECK(error_of([&] { nf::parse_wordnet_data(verb + "\n", "verb", "data.verb"); }).empty());
    CHECK(error_of([&] { nf::parse_wordnet_data("01492962 35 v 02 jam 3 crush 1 001 @ 01492743 v 0000 01 - 08 00 | x\n",
                                                "verb", "data.verb"); }) == "data.verb:1: frame 1 of 1: expected '+', found '-'");
    CHECK(contains(error_of([&] { nf::parse_wordnet_data("01492962 35 v 02 jam 3 crush 1 001 @ 01492743 v 0000 | x\n",
                                                         "verb", "data.verb"); }),
                   "where f_cnt should be"));
  }

  TEST_CASE("wordnet corpus: header lines only at the top, no empty file, all four files needed") {
    CHECK(error_of([] { nf::parse_wordnet_data(kNoun + kHeader, "noun", "data.noun"); }) ==
          "data.noun:7: a licence header line (two leading spaces) after the first synset");
    CHECK(contains(error_of([] { nf::parse_wordnet_data(kHeader, "noun", "data.noun"); }), "data.noun: no synset lines"));
    CHECK(contains(error_of([] { nf::parse_wordnet_data(kAdv, "adj", "data.adj"); }),
                   "data.adj:4: ss_type 'r' does not belong in data.adj (expected a or s)"));
    TempDir tmp;
    write_database(tmp);
    fs::remove(tmp.file("data.adv"));
    const std::string err = error_of([&] { nf::wordnet_corpus(tmp.str()); });
    CHECK(contains(err, tmp.file("data.adv") + ": no such file"));
    CHECK(contains(err, "wordnet-base"));
  }
}

// The installed WordNet 3.0 (scripts/install-deps.sh installs wordnet-base); skipped without it.
TEST_SUITE("wordnet") {
  TEST_CASE("wordnet corpus: the whole of WordNet 3.0 parses, and the dog barks") {
    const std::string dir = "/usr/share/wordnet";
    if (!fs::exists(fs::path(dir) / "data.noun")) {
      const std::string why = "skipped: WordNet 3.0 is not in " + dir + "; run scripts/install-deps.sh (Debian package wordnet-base)";
      MESSAGE(why);
      return;
    }
    const nf::WordNetCorpus c = nf::wordnet_corpus(dir);
    CHECK(c.synsets == 117659);  // WordNet 3.0's count: 82,115 nouns, 13,767 verbs, 18,156 adjectives, 3,621 adverbs
    CHECK(c.lines == c.synsets + c.examples);
    CHECK(static_cast<size_t>(std::count(c.text.begin(), c.text.end(), '\n')) == c.lines);
    CHECK(contains(c.text,
                   "\ndog, domestic dog, Canis familiaris: a member of the genus Canis (probably descended from the "
                   "common wolf) that has been domesticated by man since prehistoric times; occurs in many breeds.\n"
                   "\"the dog barked all night\"\n"));
    // Every example line has its quotes in pairs.
    size_t start = 0;
    while (start < c.text.size()) {
      const size_t end = c.text.find('\n', start);
      const std::string line = c.text.substr(start, end - start);
      if (line[0] == '"') {
        CAPTURE(line);
        CHECK(std::count(line.begin(), line.end(), '"') % 2 == 0);
      }
      start = end + 1;
    }
  }
}
