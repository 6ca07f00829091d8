// Pictures and traces of the recorded graph (autograd/dot.h, autograd/trace.h, autograd/scope.h),
// specified on docs/autograd.md's worked example  m = a·b,  s = m + a,  L = sum(s):
// the DOT text node for node and edge for edge, the gradient norms a traced backward pass
// shows, the trace in the engine's own order, and the scope every node is stamped with.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <vector>

#include "autograd/dot.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/scope.h"
#include "autograd/trace.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {
// docs/autograd.md §3: a = [2, −1], b = [3, 4], L = sum(a·b + a) = 3.
struct Example {
  Tensor a = f64({2, -1}, {2}).requires_grad_();
  Tensor b = f64({3, 4}, {2}).requires_grad_();
  Tensor L;
  GraphLabels labels;
  Example() {
    L = sum(add(mul(a, b), a));
    labels.inputs[a.impl()] = "a";
    labels.inputs[b.impl()] = "b";
  }
};
}  // namespace

TEST_SUITE("autograd") {
  TEST_CASE("to_dot: the worked example, node for node and edge for edge, in data-flow order") {
    Example ex;
    DotOptions o;
    o.labels = ex.labels;
    const std::string expected =
        "digraph autograd {\n"
        "  rankdir=TB;\n"
        "  node [fontname=\"Helvetica\", fontsize=11];\n"
        "  edge [color=\"#4b5563\", arrowsize=0.7];\n"
        "  p0 [label=\"a\\n[2]\", shape=ellipse, style=filled, fillcolor=\"#dcfce7\"];\n"
        "  p1 [label=\"b\\n[2]\", shape=ellipse, style=filled, fillcolor=\"#dcfce7\"];\n"
        "  n0 [label=\"mul\\n[2]\", shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\"];\n"
        "  n1 [label=\"add\\n[2]\", shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\"];\n"
        "  n2 [label=\"sum\\n[]\", shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\", penwidth=2];\n"
        "  p0 -> n0;\n"
        "  p1 -> n0;\n"
        "  n0 -> n1;\n"
        "  p0 -> n1;\n"
        "  n1 -> n2;\n"
        "}\n";
    CHECK(to_dot(ex.L, o) == expected);
    // Unnamed leaves are "input"; a parameter name makes a (blue) parameter; a caption goes on top.
    o.labels.inputs.clear();
    o.labels.parameters[ex.b.impl()] = "w";
    o.title = "L = sum(a b + a)";
    const std::string named = to_dot(ex.L, o);
    CHECK(contains(named, "  label=\"L = sum(a b + a)\";\n"));
    CHECK(contains(named, "  p0 [label=\"input\\n[2]\", shape=ellipse, style=filled, fillcolor=\"#dcfce7\"];\n"));
    CHECK(contains(named, "  p1 [label=\"w\\n[2]\", shape=ellipse, style=filled, fillcolor=\"#dbeafe\"];\n"));
  }

  TEST_CASE("to_dot with a traced backward pass: the gradient norm that reached each op and leaf") {
    Example ex;
    const std::vector<BackwardStep> steps = trace_backward(ex.L, Tensor(), /*retain_graph=*/true);
    DotOptions o;
    o.labels = ex.labels;
    o.grads = &steps;
    const std::string dot = to_dot(ex.L, o);
    CHECK(contains(dot, "n2 [label=\"sum\\n[]\\n|g| 1.00e+00\""));    // dL/dL = 1
    CHECK(contains(dot, "n1 [label=\"add\\n[2]\\n|g| 1.41e+00\""));   // ds = [1, 1]
    CHECK(contains(dot, "n0 [label=\"mul\\n[2]\\n|g| 1.41e+00\""));   // dm = [1, 1]
    CHECK(contains(dot, "p0 [label=\"a\\n[2]\\n|g| 6.40e+00\""));     // a.grad = b + 1 = [4, 5]
    CHECK(contains(dot, "p1 [label=\"b\\n[2]\\n|g| 2.24e+00\""));     // b.grad = a = [2, −1]
  }

  TEST_CASE("to_dot refuses a graph that backward() has freed, and draws a lone leaf") {
    Example ex;
    ex.L.backward();
    CHECK(contains(error_of([&] { to_dot(ex.L); }), "freed by backward()"));
    const std::string leaf = to_dot(ex.a);
    CHECK(contains(leaf, "p0 [label=\"input\\n[2]\""));
    CHECK_FALSE(contains(leaf, "->"));
  }

  TEST_CASE("trace_backward lists the nodes in the engine's order, with the gradients they got and sent") {
    Example ex;
    std::vector<std::string> topo;
    for (const auto& n : topological_order(ex.L.grad_fn())) topo.push_back(n->name);
    CHECK(topo == std::vector<std::string>{"mul", "add", "sum"});  // docs/autograd.md §3
    const std::vector<BackwardStep> steps = trace_backward(ex.L);
    REQUIRE(steps.size() == 3);
    // The engine walks the topological order backwards, from the loss to the leaves.
    CHECK(steps[0].op == "sum");
    CHECK(steps[1].op == "add");
    CHECK(steps[2].op == "mul");
    CHECK(steps[0].shape.empty());
    CHECK(steps[0].grad_norm == doctest::Approx(1.0));
    CHECK(steps[1].grad_norm == doctest::Approx(std::sqrt(2.0)));
    // mul sends g·b = [3, 4] to a and g·a = [2, −1] to b, both leaves.
    REQUIRE(steps[2].inputs.size() == 2);
    CHECK(steps[2].inputs[0].leaf == ex.a.impl());
    CHECK(steps[2].inputs[0].grad_norm == doctest::Approx(5.0));
    CHECK(steps[2].inputs[1].grad_norm == doctest::Approx(std::sqrt(5.0)));
    // add's first input came from mul; its second is the leaf a.
    CHECK(steps[1].inputs[0].op == "mul");
    CHECK(steps[1].inputs[0].node == steps[2].node);
    CHECK(steps[1].inputs[1].leaf == ex.a.impl());
    // Tracing changes no gradient.
    CHECK(values(ex.a.grad()) == std::vector<double>{4, 5});
    CHECK(values(ex.b.grad()) == std::vector<double>{2, -1});
  }

  TEST_CASE("trace_backward: an input that needs no gradient is marked, and is sent none") {
    Tensor x = f64({1, 2}, {2}).requires_grad_();
    Tensor c = f64({5, 5}, {2});  // needs no grad
    Tensor L = sum(add(mul(x, c), exp(x)));
    const std::vector<BackwardStep> steps = trace_backward(L);
    std::vector<std::string> ops;
    for (const BackwardStep& s : steps) ops.push_back(s.op);
    CHECK(ops == std::vector<std::string>{"sum", "add", "exp", "mul"});
    const BackwardStep& m = steps.back();
    REQUIRE(m.inputs.size() == 2);
    CHECK(m.inputs[0].needs_grad);
    CHECK_FALSE(m.inputs[1].needs_grad);
    CHECK(std::isnan(m.inputs[1].grad_norm));
  }

  TEST_CASE("format_trace: one line per step, leaves by name") {
    Example ex;
    const std::string t = format_trace(trace_backward(ex.L), ex.labels);
    const std::vector<std::string> l = [&] {
      std::vector<std::string> out;
      size_t start = 0;
      for (size_t nl; (nl = t.find('\n', start)) != std::string::npos; start = nl + 1) out.push_back(t.substr(start, nl - start));
      return out;
    }();
    REQUIRE(l.size() == 4);  // the header and three steps
    CHECK(contains(l[0], "step"));
    CHECK(contains(l[1], "   1  sum"));
    CHECK(contains(l[1], "add [2] 1.41e+00"));
    CHECK(contains(l[2], "   2  add"));
    CHECK(contains(l[2], "mul [2] 1.41e+00 | a [2] 1.41e+00"));
    CHECK(contains(l[3], "   3  mul"));
    CHECK(contains(l[3], "a [2] 5.00e+00 | b [2] 2.24e+00"));
  }

  TEST_CASE("ScopeGuard: every recorded node carries the innermost scope open when it was made") {
    int outer = 0, inner = 0;  // any addresses serve as keys
    Tensor x = f64({1, 2}, {2}).requires_grad_();
    Tensor none = exp(x);
    Tensor a, b, c;
    {
      ScopeGuard s1(&outer);
      a = exp(x);
      {
        ScopeGuard s2(&inner);
        b = exp(x);
      }
      c = exp(x);
    }
    CHECK(current_scope() == nullptr);
    CHECK(none.grad_fn()->scope == nullptr);
    CHECK(a.grad_fn()->scope == &outer);
    CHECK(b.grad_fn()->scope == &inner);
    CHECK(c.grad_fn()->scope == &outer);
  }
}
