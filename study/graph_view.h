#pragma once
// `noiseformer graph` and `noiseformer trace`: the autograd graph of a tiny GPT, for students.
// One forward pass on a few tokens (block_size of them, batch 1, in training mode so that
// NoiseFormer's noise is drawn), then
//   graph_view_dot    the graph as DOT (autograd/dot.h): the whole model with one box per
//                     module, or one module (e.g. "h.0.attn") expanded op by op; optionally
//                     with the gradient norms of one backward pass;
//   graph_view_trace  the backward pass step by step in the engine's order (autograd/trace.h).
// Module and parameter names drop the model's "transformer." prefix: "h.0.attn", "wte.weight".
#include <cstdint>
#include <string>
#include <vector>

namespace nf {

struct GraphViewOptions {
  std::string attention = "base";
  int64_t n_layer = 1, n_head = 2, n_embd = 8, block_size = 4;
  std::string module;  // "": the whole model, one box per module; else this module op by op
  bool grads = false;  // pictures: run backward and show gradient norms
  uint64_t seed = 1337;
};

// The modules of the tiny model that record ops in its forward (what `module` may name).
std::vector<std::string> graph_view_modules(const GraphViewOptions& o);
// The picture as DOT text. Throws std::invalid_argument for a bad configuration or an unknown
// module ("unknown module 'x' (modules: …)").
std::string graph_view_dot(const GraphViewOptions& o);
// The backward pass as a table (format_trace), after a heading, followed by every parameter's
// gradient norm.
std::string graph_view_trace(const GraphViewOptions& o);

// "svg", "png" or "dot" from the file name's extension; std::invalid_argument otherwise.
std::string graph_format(const std::string& path);
// Writes DOT text to `path`: as it is for .dot, else rendered by Graphviz's `dot` (found on
// PATH; std::runtime_error if it is missing or fails).
void write_graph(const std::string& dot_text, const std::string& path);
// Graphviz's `dot` on PATH, or "" if there is none.
std::string find_graphviz_dot();

}  // namespace nf
