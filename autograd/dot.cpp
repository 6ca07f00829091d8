// to_dot: walks the recorded graph in the engine's topological order (so ops appear in the
// order the forward pass made them), maps each op to what is drawn for it — itself, its module's
// box, or nothing outside the focus — and writes every drawn unit, then every edge between units.
#include "autograd/dot.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>
#include <stdexcept>
#include <unordered_map>

namespace nf {

namespace {

// `path` is `module` or inside it ("" holds everything).
bool within(const std::string& path, const std::string& module) {
  return module.empty() || path == module ||
         (path.size() > module.size() && path.compare(0, module.size(), module) == 0 && path[module.size()] == '.');
}
// The module that owns a parameter: "h.0.attn.c_attn.weight" -> "h.0.attn.c_attn".
std::string owner_of(const std::string& name) {
  const size_t dot = name.rfind('.');
  return dot == std::string::npos ? std::string() : name.substr(0, dot);
}
// A name as seen from inside `focus`: "h.0.attn.c_attn" -> "c_attn".
std::string relative(const std::string& path, const std::string& focus) {
  if (focus.empty() || path.size() <= focus.size() || !within(path, focus)) return path;
  return path.substr(focus.size() + 1);
}
std::string quoted(const std::string& s) {
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    if (c == '\n') {
      q += "\\n";
      continue;
    }
    q += c;
  }
  return q + "\"";
}
std::string norm_str(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", v);
  return buf;
}

const char* kOpStyle = "shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\"";
const char* kModuleStyle = "shape=box, style=\"filled,bold\", fillcolor=\"#fef3c7\"";
const char* kParameterStyle = "shape=ellipse, style=filled, fillcolor=\"#dbeafe\"";
const char* kInputStyle = "shape=ellipse, style=filled, fillcolor=\"#dcfce7\"";
const char* kBoundaryStyle = "shape=plaintext, fontcolor=\"#6b7280\"";

struct Unit {
  std::string id, label, style;
  std::vector<const Node*> exits;  // module boxes: the ops whose outputs leave the box
};

}  // namespace

std::string to_dot(const Tensor& root, const DotOptions& opt) {
  if (!root.defined()) throw std::invalid_argument("to_dot: undefined tensor");
  const GraphLabels& L = opt.labels;
  std::vector<std::shared_ptr<Node>> order;
  if (root.grad_fn()) order = topological_order(root.grad_fn());
  for (const auto& n : order)
    if (!n->backward)
      throw std::invalid_argument("to_dot: the graph of '" + n->name +
                                  "' was freed by backward(); draw it before, or call backward(grad, retain_graph=true)");

  // Output shapes: the root's own, every other op's from the edge that reads it.
  std::unordered_map<const Node*, Shape> shape;
  if (root.grad_fn()) shape[root.grad_fn().get()] = root.shape();
  for (const auto& n : order)
    for (const Tensor& in : n->inputs)
      if (in.defined() && in.grad_fn()) shape.emplace(in.grad_fn().get(), in.shape());

  std::unordered_map<const Node*, std::string> path;
  std::set<std::string> scoped;  // modules that recorded ops of their own
  for (const auto& n : order) {
    std::string p = L.module_of(n->scope);
    if (!p.empty()) scoped.insert(p);
    path[n.get()] = std::move(p);
  }
  if (!opt.focus.empty()) {
    bool any = false;
    for (const auto& [n, p] : path) any = any || within(p, opt.focus);
    if (!any) throw std::invalid_argument("to_dot: no op was recorded inside module '" + opt.focus + "'");
  }
  // Modules drawn op by op: the root, the expanded ones, the focus, and every module above them.
  std::set<std::string> open{""};
  std::vector<std::string> opened = opt.expand;
  if (!opt.focus.empty()) opened.push_back(opt.focus);
  for (const std::string& e : opened)
    for (size_t dot = e.find('.'); ; dot = e.find('.', dot + 1)) {
      open.insert(e.substr(0, dot));
      if (dot == std::string::npos) break;
    }
  // The box a module path falls into: its outermost enclosing module that recorded ops and is
  // not open; "" when it is drawn op by op.
  auto box_of = [&](const std::string& p) -> std::string {
    if (!opt.by_module) return "";
    for (size_t dot = p.find('.'); ; dot = p.find('.', dot + 1)) {
      const std::string prefix = p.substr(0, dot);
      if (scoped.count(prefix) && !open.count(prefix)) return prefix;
      if (dot == std::string::npos) return "";
    }
  };
  auto drawn = [&](const Node* n) { return within(path.at(n), opt.focus); };

  std::unordered_map<const Node*, double> grad_norm;
  if (opt.grads)
    for (const BackwardStep& s : *opt.grads) grad_norm[s.node] = s.grad_norm;
  auto grad_line = [&](const Node* n) -> std::string {
    if (!opt.grads) return "";
    auto it = grad_norm.find(n);
    return "\n|g| " + (it == grad_norm.end() ? std::string("none") : norm_str(it->second));
  };

  // Leaves: who reads each, so that a parameter goes inside a box only when nothing else reads it.
  std::unordered_map<const TensorImpl*, std::vector<const Node*>> readers;
  for (const auto& n : order)
    for (const Tensor& in : n->inputs)
      if (in.defined() && !in.grad_fn()) readers[in.impl()].push_back(n.get());

  std::vector<Unit> units;
  std::map<std::string, size_t> unit_index;  // key -> units[…]
  int counts[4] = {0, 0, 0, 0};  // ids per kind: module box, leaf, boundary label, constant
  auto unit = [&](const std::string& key, const char* prefix, int* counter, auto make) -> size_t {
    auto it = unit_index.find(key);
    if (it != unit_index.end()) return it->second;
    Unit u = make();
    u.id = prefix + std::to_string((*counter)++);
    units.push_back(std::move(u));
    return unit_index[key] = units.size() - 1;
  };
  std::unordered_map<const Node*, int> index;
  for (size_t i = 0; i < order.size(); ++i) index[order[i].get()] = static_cast<int>(i);

  auto node_unit = [&](const Node* n) -> size_t {
    const std::string box = box_of(path.at(n));
    if (!box.empty())
      return unit("m:" + box, "m", &counts[0], [&] { return Unit{"", relative(box, opt.focus), kModuleStyle, {}}; });
    const std::string key = "n:" + std::to_string(index.at(n));
    auto it = unit_index.find(key);
    if (it != unit_index.end()) return it->second;
    units.push_back(Unit{"n" + std::to_string(index.at(n)), n->name + "\n" + shape_str(shape[n]) + grad_line(n),
                         kOpStyle, {}});
    return unit_index[key] = units.size() - 1;
  };
  auto leaf_unit = [&](const Tensor& leaf) -> size_t {
    const TensorImpl* impl = leaf.impl();
    auto param = L.parameters.find(impl);
    if (param != L.parameters.end() && opt.by_module) {
      const std::string box = box_of(owner_of(param->second));
      bool only_box = !box.empty();
      for (const Node* r : readers[impl]) only_box = only_box && box_of(path.at(r)) == box;
      if (only_box) return unit("m:" + box, "m", &counts[0], [&] { return Unit{"", relative(box, opt.focus), kModuleStyle, {}}; });
    }
    std::string name = param != L.parameters.end() ? relative(param->second, opt.focus) : std::string();
    if (name.empty()) {
      auto in = L.inputs.find(impl);
      name = in != L.inputs.end() ? in->second : "input";
    }
    std::string label = name + "\n" + shape_str(leaf.shape());
    if (opt.grads) label += "\n|g| " + (leaf.grad().defined() ? norm_str(l2_norm(leaf.grad())) : std::string("none"));
    const char* style = param != L.parameters.end() ? kParameterStyle : kInputStyle;
    char key[32];
    std::snprintf(key, sizeof key, "p:%p", static_cast<const void*>(impl));
    return unit(key, "p", &counts[1], [&] { return Unit{"", label, style, {}}; });
  };
  auto describe = [&](const Node* n) {
    const std::string& p = path.at(n);
    return p.empty() ? n->name : p;
  };

  std::vector<std::pair<size_t, size_t>> edges;
  std::set<std::pair<size_t, size_t>> have;
  auto edge = [&](size_t from, size_t to, const Node* src) {
    if (from == to) return;
    if (src && units[from].style == kModuleStyle) {
      auto& ex = units[from].exits;
      if (std::find(ex.begin(), ex.end(), src) == ex.end()) ex.push_back(src);
    }
    if (have.insert({from, to}).second) edges.push_back({from, to});
  };

  for (const auto& sp : order) {
    const Node* n = sp.get();
    if (drawn(n)) {
      std::vector<std::pair<size_t, const Node*>> sources;  // made before n's own unit
      for (size_t i = 0; i < n->inputs.size(); ++i) {
        const Tensor& in = n->inputs[i];
        if (!in.defined()) {  // an input that needs no gradient: shown only where ops are drawn
          if (box_of(path.at(n)).empty())
            sources.push_back({unit("c:" + std::to_string(index.at(n)) + ":" + std::to_string(i), "c", &counts[3],
                                    [] { return Unit{"", "no grad", kBoundaryStyle, {}}; }),
                               nullptr});
        } else if (!in.grad_fn()) {
          sources.push_back({leaf_unit(in), nullptr});
        } else if (drawn(in.grad_fn().get())) {
          sources.push_back({node_unit(in.grad_fn().get()), in.grad_fn().get()});
        } else {
          const Node* src = in.grad_fn().get();
          sources.push_back({unit("s:in:" + std::to_string(index.at(src)), "s", &counts[2],
                                  [&] { return Unit{"", "from " + describe(src) + "\n" + shape_str(in.shape()), kBoundaryStyle, {}}; }),
                             nullptr});
        }
      }
      const size_t u = node_unit(n);
      for (auto& [from, src] : sources) edge(from, u, src);
    } else {
      for (const Tensor& in : n->inputs) {
        if (!in.defined() || !in.grad_fn() || !drawn(in.grad_fn().get())) continue;
        const Node* src = in.grad_fn().get();
        const size_t from = node_unit(src);
        const size_t exit_label = unit("s:out:" + units[from].id, "s", &counts[2],
                                 [&] { return Unit{"", "to " + describe(n), kBoundaryStyle, {}}; });
        edge(from, exit_label, src);
      }
    }
  }
  size_t root_unit = units.size();
  if (!root.grad_fn()) {
    root_unit = leaf_unit(root);
  } else if (drawn(root.grad_fn().get())) {
    root_unit = node_unit(root.grad_fn().get());
    auto& ex = units[root_unit].exits;
    if (units[root_unit].style == kModuleStyle && std::find(ex.begin(), ex.end(), root.grad_fn().get()) == ex.end())
      ex.push_back(root.grad_fn().get());
  }
  // A module box shows the shape (and gradient) of each output that leaves it.
  for (Unit& u : units) {
    if (u.style != kModuleStyle) continue;
    std::string shapes, grads;
    for (const Node* x : u.exits) {
      shapes += (shapes.empty() ? "" : " and ") + shape_str(shape[x]);
      if (opt.grads) {
        auto it = grad_norm.find(x);
        grads += (grads.empty() ? "" : " and ") + (it == grad_norm.end() ? std::string("none") : norm_str(it->second));
      }
    }
    if (!shapes.empty()) u.label += "\n" + shapes;
    if (opt.grads && !grads.empty()) u.label += "\n|g| " + grads;
  }

  std::string out = "digraph autograd {\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n"
                    "  edge [color=\"#4b5563\", arrowsize=0.7];\n";
  if (!opt.title.empty()) out += "  labelloc=t;\n  fontname=\"Helvetica\";\n  label=" + quoted(opt.title) + ";\n";
  for (size_t i = 0; i < units.size(); ++i)
    out += "  " + units[i].id + " [label=" + quoted(units[i].label) + ", " + units[i].style +
           (i == root_unit ? ", penwidth=2" : "") + "];\n";
  for (auto& [from, to] : edges) out += "  " + units[from].id + " -> " + units[to].id + ";\n";
  return out + "}\n";
}

}  // namespace nf
