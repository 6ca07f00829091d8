#pragma once
// An English text corpus made from WordNet 3.0's database (Debian package wordnet-base, files
// /usr/share/wordnet/data.{noun,verb,adj,adv}; their format is man 5 wndb): every synset's words,
// definition and example sentences, written as plain text for pre-training.
//
// The text, one sentence per line (data/README.md, "An English corpus"):
//   dog, domestic dog, Canis familiaris: a member of the genus Canis (...) ...; occurs in many breeds.
//   "the dog barked all night"
// A synset's first line is its words (underscores read as spaces, data.adj's syntactic markers
// "(a)", "(p)", "(ip)" dropped), a colon and its definition parts joined by "; ", ended with a
// full stop unless it already ends in . ! or ?; then each of its example sentences on a line of
// its own, in the double quotes WordNet writes them in. Synsets are in dictionary order (their
// first word, ignoring case; ties in file order noun, verb, adj, adv, then by offset), so the
// end of the text that `prepare` holds out for validation is a slice of every part of speech,
// not the adverbs alone.
#include <cstddef>
#include <string>
#include <vector>

namespace nf {

// What a gloss (the text after " | ") holds. WordNet separates its parts with ";": definition
// parts are plain text, examples start with a double quote. A ";" inside an example's quotes
// belongs to the example. Examples come back with their quotes, made balanced where WordNet's
// text lacks one (a few dozen of its 117,659 glosses do).
struct WordNetGloss {
  std::vector<std::string> definitions;
  std::vector<std::string> examples;
};
WordNetGloss split_wordnet_gloss(const std::string& gloss);

struct WordNetSynset {
  std::string offset;                // synset_offset, 8 digits
  char ss_type = 'n';                // n, v, a, s (adjective satellite) or r
  std::vector<std::string> words;    // as written, with spaces for underscores, markers dropped
  WordNetGloss gloss;
};

// The data files, in the order their synsets break ties: "noun", "verb", "adj", "adv".
const std::vector<std::string>& wordnet_parts_of_speech();

// Parses one data.<pos> file's contents (`name` is used in errors only). The licence header (the
// first lines, each starting with two spaces) is skipped; every other line must be a synset line
// of this file's part of speech, checked field by field. The first malformed line throws
// std::runtime_error "<name>:<line>: <what is wrong>".
std::vector<WordNetSynset> parse_wordnet_data(const std::string& text, const std::string& pos,
                                              const std::string& name);

// Sorts `synsets` into dictionary order (stable: pass them in file order) and writes the text.
std::string wordnet_text(std::vector<WordNetSynset> synsets);

struct WordNetCorpus {
  std::string text;
  size_t synsets = 0;
  size_t examples = 0;
  size_t lines = 0;  // sentences: one per synset (words and definition) plus one per example
};

// Reads <dir>/data.noun, data.verb, data.adj and data.adv (all four must be there) and makes the
// corpus. A missing file throws one line naming it and the package that installs it.
WordNetCorpus wordnet_corpus(const std::string& dir);

}  // namespace nf
