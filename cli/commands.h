#pragma once
// The `noiseformer` sub-commands. Each takes the arguments after its name (argv[0] is the
// command name) and returns the process exit status. Errors are thrown as std::exception and
// turned into one line on stderr by main.cpp.
namespace nf::cli {
int cmd_prepare(int argc, char** argv);
int cmd_corpus(int argc, char** argv);
int cmd_encode(int argc, char** argv);
int cmd_decode(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_sample(int argc, char** argv);
int cmd_gradcheck(int argc, char** argv);
int cmd_glue(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_attention_map(int argc, char** argv);
int cmd_graph(int argc, char** argv);
int cmd_trace(int argc, char** argv);
int cmd_noise_plot(int argc, char** argv);
int cmd_kv_sweep(int argc, char** argv);
int cmd_import_gpt2(int argc, char** argv);
int cmd_export_gpt2(int argc, char** argv);

struct Command {
  const char* name;
  int (*run)(int, char**);
  const char* help;
};

// Every sub-command, in `noiseformer --help` order. main.cpp dispatches through this table and
// the tests walk it, so a new command is listed, reachable and checked in one place.
inline constexpr Command kCommands[] = {
    {"corpus", cmd_corpus, "write an English text corpus (WordNet, or GLUE's training sentences) for prepare"},
    {"prepare", cmd_prepare, "tokenize a text corpus into train.bin / val.bin / meta.json"},
    {"encode", cmd_encode, "print a file's token ids as a JSON array (the tokenizer of a meta.json)"},
    {"decode", cmd_decode, "write the text of a JSON array of token ids to stdout, byte for byte"},
    {"train", cmd_train, "train a GPT (any attention variant)"},
    {"eval", cmd_eval, "mean loss of a checkpoint over a split"},
    {"sample", cmd_sample, "generate text from a checkpoint"},
    {"gradcheck", cmd_gradcheck, "check every backward pass numerically (float64)"},
    {"glue", cmd_glue, "fine-tune a checkpoint on GLUE tasks and score the dev sets"},
    {"compare", cmd_compare, "train attention variants side by side: table, curves (results dir)"},
    {"attention-map", cmd_attention_map, "PNG of every head's attention map of one layer for a prompt"},
    {"graph", cmd_graph, "draw the autograd graph of a tiny GPT (SVG, PNG or DOT)"},
    {"trace", cmd_trace, "print the backward pass of a tiny GPT node by node"},
    {"noise-plot", cmd_noise_plot, "PNG of a noise model's sigma (or mu) per layer and head over training"},
    {"kv-sweep", cmd_kv_sweep, "loss against KV-cache budget over a compare folder; the budget at equal loss"},
    {"import-gpt2", cmd_import_gpt2, "convert Hugging Face GPT-2 weights into a checkpoint (base or a variant)"},
    {"export-gpt2", cmd_export_gpt2, "write a base checkpoint as Hugging Face GPT-2 (config.json + model.safetensors)"},
};
}  // namespace nf::cli
