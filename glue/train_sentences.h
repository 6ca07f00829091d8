#pragma once
// The unlabelled sentences of GLUE's training sets, as a text corpus for pre-training: every
// sentence of every <glue_dir>/<TASK>/train.tsv that exists, one per line (docs/cli.md,
// "corpus"). The files are read by glue/data.h's reader, so the text is exactly what
// `noiseformer glue` fine-tunes on.
//
// Only train.tsv is read, never a dev or test file: `noiseformer glue` scores a model on the dev
// sets, and a model pre-trained on those very sentences would be scored on text it has already
// seen (the test sets are GLUE's held-out leaderboard data, left alone for the same reason).
#include <cstddef>
#include <string>
#include <vector>

namespace nf {

struct GlueTrainTask {
  std::string name;          // GLUE's name, e.g. "SST-2"
  std::string path;          // the train.tsv read
  size_t rows = 0;           // examples read (malformed rows skipped with skip_malformed not counted)
  size_t sentences = 0;      // lines this task added (sentences not already written)
  int malformed_rows = 0;    // rows left out with skip_malformed
};

struct GlueTrainSentences {
  std::string text;                  // one sentence per line, each ending in '\n'
  std::vector<GlueTrainTask> tasks;  // the tasks whose train.tsv exists, in GLUE's order
  std::vector<std::string> absent;   // the tasks without one
  size_t sentences = 0;              // lines of text
  size_t duplicates = 0;             // sentences left out because an earlier line holds them
};

// Reads <glue_dir>/<TASK>/train.tsv for each of GLUE's nine tasks that has one, in glue_tasks()
// order; each row gives its first sentence, then (pair tasks) its second, trimmed. Empty
// sentences and exact repeats of an earlier line (MNLI writes each premise with three
// hypotheses) are left out. A row the reader cannot read stops it with glue's one-line message
// (file, line, column) unless skip_malformed, which leaves such rows out and counts them.
// Throws when glue_dir is not a directory or holds no train.tsv at all.
GlueTrainSentences glue_train_sentences(const std::string& glue_dir, bool skip_malformed);

}  // namespace nf
