// The `noiseformer` command line: dispatches to one sub-command (cli/commands.h) and turns any
// error into one line on stderr with a non-zero exit status.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <unistd.h>

#include "tensor/blas_setup.h"
#include "cli/commands.h"

namespace {

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

const Command kCommands[] = {
    {"prepare", nf::cli::cmd_prepare, "tokenize a text corpus into train.bin / val.bin / meta.json"},
    {"train", nf::cli::cmd_train, "train a GPT (any attention variant)"},
    {"eval", nf::cli::cmd_eval, "mean loss of a checkpoint over a split"},
    {"sample", nf::cli::cmd_sample, "generate text from a checkpoint"},
    {"gradcheck", nf::cli::cmd_gradcheck, "check every backward pass numerically (float64)"},
    {"glue", nf::cli::cmd_glue, "fine-tune a checkpoint on GLUE tasks and score the dev sets"},
    {"compare", nf::cli::cmd_compare, "train attention variants side by side: table, curves (results dir)"},
    {"attention-map", nf::cli::cmd_attention_map, "PNG of every head's attention map of one layer for a prompt"},
};

void usage(FILE* out) {
  std::fprintf(out, "usage: noiseformer <command> [--help] [options]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-14s %s\n", c.name, c.help);
}

}  // namespace

int main(int argc, char** argv) {
  nf::use_fastest_blas_kernels(argv);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (cmd != c.name) continue;
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const std::bad_alloc&) {
      std::fprintf(stderr, "noiseformer %s: error: out of memory (the model, batch or data is too large for this machine)\n", c.name);
      return 1;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "noiseformer %s: error: %s\n", c.name, e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "noiseformer: unknown command '%s' (see noiseformer --help)\n", cmd.c_str());
  return 2;
}
