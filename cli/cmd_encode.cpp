// `noiseformer encode`: a file's exact bytes -> its token ids, one JSON array on stdout, with the
// tokenizer of a prepared data directory's meta.json (docs/cli.md, "encode and decode").
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include "train/config_file.h"
#include "cli/commands.h"
#include "data/tokenizer.h"
#include "io/file.h"

namespace nf::cli {

int cmd_encode(int argc, char** argv) {
  std::string meta, input;
  CLI::App app = make_app("encode", "Print the token ids of a file's bytes as one JSON array");
  app.add_option("--meta", meta, "a tokenizer's meta.json (DIR/meta.json of a prepared data directory)")
      ->required();
  app.add_option("--input", input, "the file to encode, byte for byte")->required();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  const std::unique_ptr<Tokenizer> tok = load_tokenizer(meta);
  const std::string text = read_file(input);
  std::vector<int> ids;
  try {
    ids = tok->encode(text);  // strict: a char vocabulary refuses characters it lacks
  } catch (const std::exception& e) {
    throw std::runtime_error(input + ": " + e.what());
  }
  // Written by hand: a 100 MB corpus has tens of millions of ids.
  std::string out;
  out.reserve(ids.size() * 6 + 3);
  out += '[';
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    out += std::to_string(ids[i]);
  }
  out += "]\n";
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0)
    throw std::runtime_error("cannot write the ids to stdout");
  return 0;
}

}  // namespace nf::cli
