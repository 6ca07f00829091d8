// `noiseformer graph` and `noiseformer trace`: the autograd graph of a tiny GPT as a picture,
// and its backward pass step by step (study/graph_view.h). Both build the model from the same
// flags, so a trace reads beside its picture.
#include <cstdio>
#include <string>

#include "nn/attention_config.h"
#include "study/graph_view.h"
#include "train/config_file.h"
#include "cli/commands.h"

namespace nf::cli {

namespace {
// The tiny model's flags. The ranges keep the picture readable (and the run instant); the
// model's own rules (n_head divides n_embd, even for diff) are checked when it is built.
void add_model_flags(CLI::App& app, GraphViewOptions& o) {
  app.add_option("--attention", o.attention, "base|symmetric|noise-v1|noise-v2|diff|shared-diff|selective")
      ->check(CLI::IsMember(attention_names()))
      ->capture_default_str();
  app.add_option("--n-layer", o.n_layer, "transformer blocks, 1 to 4")->check(CLI::Range(1, 4))->capture_default_str();
  app.add_option("--n-head", o.n_head, "attention heads, 1 to 8; must divide --n-embd (even for diff, shared-diff)")
      ->check(CLI::Range(1, 8))->capture_default_str();
  app.add_option("--n-embd", o.n_embd, "embedding width C, 1 to 64")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--block-size", o.block_size, "context length T, 1 to 16: the forward pass reads T tokens")
      ->check(CLI::Range(1, 16))->capture_default_str();
  app.add_option("--seed", o.seed, "initial weights and noise draws")->capture_default_str();
}
}  // namespace

int cmd_graph(int argc, char** argv) {
  GraphViewOptions o;
  std::string out;
  CLI::App app = make_app("graph", "Draw the autograd graph of a tiny GPT: the whole model by module, or one module op by op");
  add_model_flags(app, o);
  app.add_option("--module", o.module, "draw this module op by op, e.g. h.0.attn (default: the whole model, one box per module)");
  app.add_flag("--grads", o.grads, "run backward and show the norm of the gradient that reached each op and leaf");
  app.add_option("--out", out, "FILE.svg or FILE.png (drawn by Graphviz's dot), or FILE.dot (the DOT text)")
      ->required()
      ->check(CLI::Validator(
          [](std::string& path) {
            try {
              graph_format(path);
              return std::string();
            } catch (const std::exception& e) {
              return std::string(e.what());
            }
          },
          "FILE.svg|FILE.png|FILE.dot", "graph file"));
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  write_graph(graph_view_dot(o), out);
  std::fprintf(stderr, "graph: %s, %s -> %s\n", o.attention.c_str(),
               o.module.empty() ? "the whole model by module" : ("module " + o.module).c_str(), out.c_str());
  return 0;
}

int cmd_trace(int argc, char** argv) {
  GraphViewOptions o;
  CLI::App app = make_app("trace", "Print the backward pass of a tiny GPT node by node, in the engine's order");
  add_model_flags(app, o);
  add_config_option(app);
  if (auto rc = parse_or_exit(app, argc, argv)) return *rc;
  std::fputs(graph_view_trace(o).c_str(), stdout);
  return 0;
}

}  // namespace nf::cli
