// Modules in pictures of the graph (nn/module.h: ModuleScope, Module::graph_labels; drawn by
// autograd/dot.h): every op a forward records carries its module, so a picture can draw one box
// per module, open chosen modules op by op, or show one module alone — and naming the ops
// changes no number the model computes.
#include <doctest/doctest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "autograd/dot.h"
#include "autograd/node.h"
#include "autograd/trace.h"
#include "models/gpt.h"
#include "nn/linear.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

// y = fc2(relu(fc1(x))): two Linear boxes around one op of the network's own.
struct Net : Module {
  std::shared_ptr<Linear> fc1, fc2;
  explicit Net(Generator& gen) {
    fc1 = register_module("fc1", std::make_shared<Linear>(2, 3, true, gen));
    fc2 = register_module("fc2", std::make_shared<Linear>(3, 1, true, gen));
  }
  Tensor forward(const Tensor& x) const {
    ModuleScope scope(this);
    return fc2->forward(relu(fc1->forward(x)));
  }
};

struct NetRun {
  Generator gen{7};
  Net net{gen};
  Tensor x = f32({1, -1}, {1, 2}).requires_grad_();
  Tensor y = net.forward(x);
  DotOptions options() const {
    DotOptions o;
    o.labels = net.graph_labels();
    o.labels.inputs[x.impl()] = "x";
    o.by_module = true;
    return o;
  }
};

const std::string kHead =
    "digraph autograd {\n"
    "  rankdir=TB;\n"
    "  node [fontname=\"Helvetica\", fontsize=11];\n"
    "  edge [color=\"#4b5563\", arrowsize=0.7];\n";
const std::string kOp = "shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\"";
const std::string kBox = "shape=box, style=\"filled,bold\", fillcolor=\"#fef3c7\"";
const std::string kParam = "shape=ellipse, style=filled, fillcolor=\"#dbeafe\"";
const std::string kInput = "shape=ellipse, style=filled, fillcolor=\"#dcfce7\"";

}  // namespace

TEST_SUITE("nn") {
  TEST_CASE("graph_labels: every module by its path, every parameter by its name") {
    Generator gen(7);
    Net net(gen);
    const GraphLabels l = net.graph_labels();
    CHECK(l.modules.size() == 3);
    CHECK(l.module_of(static_cast<const Module*>(&net)) == "");
    CHECK(l.module_of(static_cast<const Module*>(net.fc1.get())) == "fc1");
    CHECK(l.module_of(static_cast<const Module*>(net.fc2.get())) == "fc2");
    CHECK(l.parameters.size() == 4);
    CHECK(l.parameters.at(net.fc1->weight.impl()) == "fc1.weight");
    CHECK(l.parameters.at(net.fc2->bias.impl()) == "fc2.bias");
  }

  TEST_CASE("by module: one box per module holding its parameters; the root's own ops drawn one by one") {
    NetRun r;
    CHECK(to_dot(r.y, r.options()) ==
          kHead +
          "  p0 [label=\"x\\n[1, 2]\", " + kInput + "];\n"
          "  m0 [label=\"fc1\\n[1, 3]\", " + kBox + "];\n"
          "  n1 [label=\"relu\\n[1, 3]\", " + kOp + "];\n"
          "  m1 [label=\"fc2\\n[1, 1]\", " + kBox + ", penwidth=2];\n"
          "  p0 -> m0;\n"
          "  m0 -> n1;\n"
          "  n1 -> m1;\n"
          "}\n");
  }

  TEST_CASE("by module, with one module expanded: its ops and parameters appear, the others stay boxes") {
    NetRun r;
    DotOptions o = r.options();
    o.expand = {"fc1"};
    CHECK(to_dot(r.y, o) ==
          kHead +
          "  p0 [label=\"x\\n[1, 2]\", " + kInput + "];\n"
          "  p1 [label=\"fc1.weight\\n[3, 2]\", " + kParam + "];\n"
          "  p2 [label=\"fc1.bias\\n[3]\", " + kParam + "];\n"
          "  n0 [label=\"linear\\n[1, 3]\", " + kOp + "];\n"
          "  n1 [label=\"relu\\n[1, 3]\", " + kOp + "];\n"
          "  m0 [label=\"fc2\\n[1, 1]\", " + kBox + ", penwidth=2];\n"
          "  p0 -> n0;\n"
          "  p1 -> n0;\n"
          "  p2 -> n0;\n"
          "  n0 -> n1;\n"
          "  n1 -> m0;\n"
          "}\n");
  }

  TEST_CASE("focus on one module: only its ops, with what enters from outside as a \"from …\" label") {
    NetRun r;
    DotOptions o = r.options();
    o.focus = "fc2";
    CHECK(to_dot(r.y, o) ==
          kHead +
          "  s0 [label=\"from relu\\n[1, 3]\", shape=plaintext, fontcolor=\"#6b7280\"];\n"
          "  p0 [label=\"weight\\n[1, 3]\", " + kParam + "];\n"
          "  p1 [label=\"bias\\n[1]\", " + kParam + "];\n"
          "  n2 [label=\"linear\\n[1, 1]\", " + kOp + ", penwidth=2];\n"
          "  s0 -> n2;\n"
          "  p0 -> n2;\n"
          "  p1 -> n2;\n"
          "}\n");
    // What leaves the focus goes to a "to …" label.
    o.focus = "fc1";
    const std::string fc1 = to_dot(r.y, o);
    CHECK(contains(fc1, "[label=\"to relu\", shape=plaintext"));
    CHECK_FALSE(contains(fc1, "fc2"));
    o.focus = "fc3";
    CHECK(contains(error_of([&] { to_dot(r.y, o); }), "no op was recorded inside module 'fc3'"));
  }

  TEST_CASE("a GPT's forward stamps every op with its module; attention's softmax is the attention's") {
    for (const std::string& attention : kAttentions) {
      CAPTURE(attention);
      GPT m(tiny_gpt(attention, 8, 4, 2, 11, 1));
      Tensor loss = m.forward(ids({1, 2, 3, 4}, 1, 4), ids({2, 3, 4, 5}, 1, 4)).loss;
      const GraphLabels l = m.graph_labels();
      std::set<std::string> softmax_modules, all;
      for (const auto& n : topological_order(loss.grad_fn())) {
        REQUIRE(l.modules.count(n->scope) == 1);  // no op outside a module's forward
        all.insert(l.module_of(n->scope));
        if (n->name == "causal_softmax") softmax_modules.insert(l.module_of(n->scope));
      }
      CHECK(softmax_modules == std::set<std::string>{"transformer.h.0.attn"});
      for (const char* path : {"", "transformer.wte", "transformer.wpe", "transformer.h.0", "transformer.h.0.ln_1",
                               "transformer.h.0.attn.c_attn", "transformer.h.0.attn.c_proj", "transformer.h.0.mlp",
                               "transformer.h.0.mlp.c_fc", "transformer.ln_f"})
        CHECK_MESSAGE(all.count(path) == 1, path);
    }
  }

  TEST_CASE("naming and tracing change nothing: loss and gradients equal bit for bit") {
    for (const std::string& attention : kAttentions) {
      CAPTURE(attention);
      GPT a(tiny_gpt(attention, 8, 4)), b(tiny_gpt(attention, 8, 4));
      const Tensor idx = ids({1, 2, 3, 4}, 1, 4), tgt = ids({2, 3, 4, 5}, 1, 4);
      Tensor la = a.forward(idx, tgt).loss, lb = b.forward(idx, tgt).loss;
      CHECK(values(la) == values(lb));
      la.backward();
      trace_backward(lb);
      auto pa = a.named_parameters(), pb = b.named_parameters();
      for (size_t i = 0; i < pa.size(); ++i) {
        CAPTURE(pa[i].first);
        CHECK(values(pa[i].second.grad()) == values(pb[i].second.grad()));
      }
    }
  }
}
