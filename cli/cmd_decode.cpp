// `noiseformer decode`: a JSON array of token ids -> the bytes they stand for, on stdout exactly
// (no newline added), with the tokenizer of a meta.json (docs/cli.md, "encode and decode").
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "train/config_file.h"
#include "cli/commands.h"
#include "data/tokenizer.h"
#include "io/file.h"
#include "tensor/one_line.h"

namespace nf::cli {

int cmd_decode(int argc, char** argv) {
  std::string meta, input;
  CLI::App app = make_app("decode", "Write the text of a JSON array of token ids to stdout, byte for byte");
  app.add_option("--meta", meta, "a tokenizer's meta.json (DIR/meta.json of a prepared data directory)")
      ->required();
  app.add_option("--input", input, "a file holding one JSON array of token ids, as encode prints it")
      ->required();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  const std::unique_ptr<Tokenizer> tok = load_tokenizer(meta);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(read_file(input));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(input + ": not valid JSON: " + one_line(e.what()));
  }
  if (!j.is_array()) throw std::runtime_error(input + ": not a JSON array of token ids");
  std::vector<int> ids;
  ids.reserve(j.size());
  const int vocab = tok->vocab_size();
  for (size_t i = 0; i < j.size(); ++i) {
    const nlohmann::json& v = j[i];
    // Read as 64-bit and range-checked: 2^32 + 5 must not wrap to the valid id 5.
    const bool in_range = v.is_number_integer() &&
                          (v.is_number_unsigned() ? v.get<uint64_t>() < static_cast<uint64_t>(vocab)
                                                  : v.get<int64_t>() >= 0 && v.get<int64_t>() < vocab);
    if (!in_range)
      throw std::runtime_error(input + ": element " + std::to_string(i) + " (" + one_line(v.dump(), 40) +
                               ") is not a token id in [0, " + std::to_string(vocab) + ") of " + meta);
    ids.push_back(v.get<int>());
  }
  const std::string text = tok->decode(ids);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0)
    throw std::runtime_error("cannot write the text to stdout");
  return 0;
}

}  // namespace nf::cli
