#pragma once
// The `noiseformer` sub-commands. Each takes the arguments after its name (argv[0] is the
// command name) and returns the process exit status. Errors are thrown as std::exception and
// turned into one line on stderr by main.cpp.
namespace nf::cli {
int cmd_prepare(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_sample(int argc, char** argv);
int cmd_gradcheck(int argc, char** argv);
int cmd_glue(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_attention_map(int argc, char** argv);
}  // namespace nf::cli
