// `noiseformer graph` / `trace` behind the command (study/graph_view.h): the tiny model's whole
// picture has one box per module, one module opened shows where each variant differs (the noise,
// DIFF's two softmaxes, selective's mask), unknown modules and file types are refused, and
// pictures are drawn by Graphviz when it is there.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "study/graph_view.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {
GraphViewOptions view(const std::string& attention, const std::string& module = "") {
  GraphViewOptions o;
  o.attention = attention;
  o.module = module;
  return o;
}
int count(const std::string& s, const std::string& part) {
  int n = 0;
  for (size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_SUITE("study") {
  TEST_CASE("graph: the whole model, one box per module, blocks opened") {
    const std::string dot = graph_view_dot(view("base"));
    for (const char* box : {"wte\\n", "wpe\\n", "h.0.ln_1\\n", "h.0.attn\\n", "h.0.ln_2\\n", "h.0.mlp\\n", "ln_f\\n"})
      CHECK_MESSAGE(contains(dot, std::string("[label=\"") + box), box);
    CHECK(contains(dot, "cross_entropy"));
    CHECK_FALSE(contains(dot, "causal_softmax"));  // inside the attention box
    CHECK(contains(dot, "wte.weight"));            // tied to the output layer: read outside its box
    CHECK_FALSE(contains(dot, "|g|"));
  }

  TEST_CASE("graph --module h.0.attn: where each variant differs") {
    const std::string base = graph_view_dot(view("base", "h.0.attn"));
    CHECK(count(base, "causal_softmax") == 1);
    CHECK(contains(base, "from h.0.ln_1"));
    CHECK(contains(base, "to h.0"));
    const std::string noise = graph_view_dot(view("noise-v2", "h.0.attn"));
    CHECK(contains(noise, "noise_mu\\n[2]"));  // v2: one per head
    CHECK(contains(noise, "noise_logvar\\n[2]"));
    CHECK(contains(noise, "no grad"));  // ε, drawn fresh each forward
    CHECK(contains(graph_view_dot(view("noise-v1", "h.0.attn")), "noise_mu\\n[1]"));
    const std::string diff = graph_view_dot(view("diff", "h.0.attn"));
    CHECK(count(diff, "causal_softmax") == 2);
    CHECK(contains(diff, "lambda_q1"));
    CHECK(contains(diff, "subln\\n"));
    const std::string selective = graph_view_dot(view("selective", "h.0.attn"));
    CHECK(contains(selective, "cumsum"));
    CHECK(contains(selective, "relu"));
  }

  TEST_CASE("graph --grads: gradient norms on ops and parameters") {
    GraphViewOptions o = view("symmetric", "h.0.attn");
    o.grads = true;
    const std::string dot = graph_view_dot(o);
    CHECK(contains(dot, "causal_softmax\\n[1, 2, 4, 4]\\n|g| "));
    CHECK(contains(dot, "|g| = norm of the gradient"));
  }

  TEST_CASE("graph: unknown modules and bad configurations are refused") {
    const std::string e = error_of([] { graph_view_dot(view("base", "h.1.attn")); });
    CHECK(contains(e, "unknown module 'h.1.attn'"));
    CHECK(contains(e, "h.0.attn.c_attn"));  // lists the ones there are
    CHECK(contains(error_of([] { graph_view_dot(view("base", "h.0.attn.attn_drop")); }), "unknown module"));  // records nothing
    GraphViewOptions odd = view("diff");
    odd.n_head = 1;
    CHECK(contains(error_of([&] { graph_view_dot(odd); }), "even n_head"));
  }

  TEST_CASE("trace: the backward pass in the engine's order, then the parameters' gradients") {
    const std::string t = graph_view_trace(view("noise-v1"));
    CHECK(contains(t, "backward pass of a noise-v1 GPT, 1 layer, 2 heads, n_embd 8, 4 tokens:"));
    CHECK(contains(t, "\n   1  add "));  // loss = cross-entropy + β·KL: the root adds the two
    CHECK(contains(t, "causal_softmax"));
    CHECK(contains(t, "h.0.attn"));
    CHECK(contains(t, "parameter gradients"));
    CHECK(contains(t, "h.0.attn.noise_logvar"));
    CHECK(contains(graph_view_trace(view("base")), "\n   1  cross_entropy "));
  }

  TEST_CASE("graph files: .dot as text, .svg and .png through Graphviz, anything else refused") {
    TempDir tmp;
    CHECK(graph_format("a.svg") == "svg");
    CHECK(graph_format("a.png") == "png");
    CHECK(graph_format("dir/a.dot") == "dot");
    CHECK(contains(error_of([] { graph_format("a.jpg"); }), "must end in .svg, .png or .dot"));
    CHECK(contains(error_of([] { graph_format("svg"); }), "must end in"));
    const std::string dot = graph_view_dot(view("base"));
    write_graph(dot, tmp.file("g.dot"));
    CHECK(read_bytes(tmp.file("g.dot")) == dot);
    if (!find_graphviz_dot().empty()) {
      write_graph(dot, tmp.file("g.svg"));
      CHECK(contains(read_bytes(tmp.file("g.svg")), "<svg"));
      write_graph(dot, tmp.file("g.png"));
      CHECK(read_bytes(tmp.file("g.png")).substr(1, 3) == "PNG");
    } else {
      CHECK(contains(error_of([&] { write_graph(dot, tmp.file("g.svg")); }), "graphviz"));
    }
    // No temporary file is left beside the picture.
    for (const auto& e : std::filesystem::directory_iterator(tmp.path))
      CHECK_MESSAGE(e.path().filename().string().find(".tmp") == std::string::npos, e.path().string());
  }
}
