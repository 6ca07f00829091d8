// `noiseformer corpus`: writes an English text corpus for `prepare --input` (docs/cli.md,
// "corpus"): `wordnet` from WordNet 3.0's database (data/corpus_wordnet.h), `glue` from the
// sentences of GLUE's training sets (glue/train_sentences.h).
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "data/corpus_wordnet.h"
#include "glue/train_sentences.h"
#include "io/file.h"
#include "train/config_file.h"

namespace nf::cli {

int cmd_corpus(int argc, char** argv) {
  std::string source, wordnet_dir = "/usr/share/wordnet", glue_dir, out;
  bool skip_malformed = false;

  CLI::App app = make_app("corpus", "Write an English text corpus (one sentence per line) for prepare --input");
  app.add_option("source", source, "wordnet: WordNet 3.0's definitions and examples; glue: GLUE's training sentences")
      ->check(CLI::IsMember({"wordnet", "glue"}))
      ->required();
  CLI::Option* dir_opt = app.add_option("--dir", wordnet_dir,
                                        "wordnet: the folder holding data.noun, data.verb, data.adj, data.adv "
                                        "(Debian package wordnet-base)")
                             ->capture_default_str();
  CLI::Option* glue_opt =
      app.add_option("--glue-dir", glue_dir, "glue: the GLUE folder (<TASK>/train.tsv; dev and test files are never read)");
  CLI::Option* skip_opt = app.add_flag("--skip-malformed", skip_malformed,
                                       "glue: leave out train.tsv rows that cannot be read instead of stopping");
  app.add_option("--out", out, "the text file to write")->required();
  add_config_option(app);
  // Each source takes only its own flags: checked while parsing, so a mix-up is a usage error.
  app.callback([&] {
    if (source == "wordnet" && (glue_opt->count() > 0 || skip_opt->count() > 0))
      throw CLI::ValidationError("corpus wordnet takes --dir, not --glue-dir or --skip-malformed");
    if (source == "glue" && dir_opt->count() > 0)
      throw CLI::ValidationError("corpus glue takes --glue-dir, not --dir");
    if (source == "glue" && glue_opt->count() == 0) throw CLI::ValidationError("corpus glue needs --glue-dir");
  });
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  if (source == "wordnet") {
    const WordNetCorpus c = wordnet_corpus(wordnet_dir);
    write_file_atomic(out, c.text);
    std::printf("read WordNet from %s: %zu synsets, %zu examples\n", wordnet_dir.c_str(), c.synsets, c.examples);
    std::printf("wrote %s: %zu bytes, %zu lines (sentences)\n", out.c_str(), c.text.size(), c.lines);
    return 0;
  }
  const GlueTrainSentences g = glue_train_sentences(glue_dir, skip_malformed);
  write_file_atomic(out, g.text);
  for (const GlueTrainTask& t : g.tasks) {
    std::printf("%s: %s, %zu rows, %zu new sentences", t.name.c_str(), t.path.c_str(), t.rows, t.sentences);
    if (t.malformed_rows > 0) std::printf(", %d malformed rows left out", t.malformed_rows);
    std::printf("\n");
  }
  if (!g.absent.empty()) {
    std::string names;
    for (const std::string& n : g.absent) names += (names.empty() ? "" : ", ") + n;
    std::printf("no train.tsv for: %s\n", names.c_str());
  }
  std::printf("wrote %s: %zu bytes, %zu lines (sentences), %zu repeated sentences left out\n", out.c_str(),
              g.text.size(), g.sentences, g.duplicates);
  return 0;
}

}  // namespace nf::cli
