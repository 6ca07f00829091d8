#include "study/graph_view.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <stdexcept>

#include "autograd/dot.h"
#include "autograd/trace.h"
#include "io/file.h"
#include "models/gpt.h"

namespace nf {

namespace {

// "transformer.h.0.attn" -> "h.0.attn": the prefix adds nothing to a picture of one model.
std::string shorten(const std::string& name) {
  const std::string prefix = "transformer.";
  return name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
}

// The tiny model after one forward pass with targets, kept alive with the graph it recorded.
struct TinyRun {
  std::shared_ptr<GPT> model;
  Tensor loss;
  GraphLabels labels;
  std::vector<std::string> modules;  // modules that recorded ops, in forward order, with their parents
};

TinyRun run_forward(const GraphViewOptions& o) {
  GPTConfig cfg;
  cfg.attention = o.attention;
  cfg.n_layer = o.n_layer;
  cfg.n_head = o.n_head;
  cfg.n_embd = o.n_embd;
  cfg.block_size = o.block_size;
  cfg.vocab_size = 16;
  cfg.validate();
  TinyRun r;
  r.model = std::make_shared<GPT>(cfg, o.seed);
  r.model->train();  // noise is drawn in training mode; dropout is 0, so nothing else changes
  const int64_t T = cfg.block_size;
  std::vector<int64_t> ids(T), next(T);
  for (int64_t t = 0; t < T; ++t) {
    ids[t] = (5 * t + 1) % cfg.vocab_size;
    next[t] = (5 * t + 6) % cfg.vocab_size;
  }
  r.loss = r.model->forward(from_vector(ids, {1, T}), from_vector(next, {1, T})).loss;

  r.labels = r.model->graph_labels();
  for (auto& [key, path] : r.labels.modules) path = shorten(path);
  for (auto& [key, name] : r.labels.parameters) name = shorten(name);
  std::set<std::string> seen;
  for (const auto& n : topological_order(r.loss.grad_fn())) {
    const std::string p = r.labels.module_of(n->scope);
    for (size_t dot = p.find('.');; dot = p.find('.', dot + 1)) {
      const std::string prefix = p.substr(0, dot);
      // Only real module paths (not "h", a container's) count.
      bool is_module = false;
      for (const auto& [key, path] : r.labels.modules) is_module = is_module || path == prefix;
      if (!prefix.empty() && is_module && seen.insert(prefix).second) r.modules.push_back(prefix);
      if (dot == std::string::npos) break;
    }
  }
  return r;
}

std::string describe(const GraphViewOptions& o) {
  return o.attention + " GPT, " + std::to_string(o.n_layer) + (o.n_layer == 1 ? " layer, " : " layers, ") +
         std::to_string(o.n_head) + " heads, n_embd " + std::to_string(o.n_embd) + ", " +
         std::to_string(o.block_size) + " tokens";
}

}  // namespace

std::vector<std::string> graph_view_modules(const GraphViewOptions& o) { return run_forward(o).modules; }

std::string graph_view_dot(const GraphViewOptions& o) {
  TinyRun r = run_forward(o);
  DotOptions d;
  d.labels = r.labels;
  d.by_module = true;
  if (o.module.empty()) {
    for (int64_t l = 0; l < o.n_layer; ++l) d.expand.push_back("h." + std::to_string(l));
    d.title = describe(o) + ": one box per module";
  } else {
    bool known = false;
    std::string list;
    for (const std::string& m : r.modules) {
      known = known || m == o.module;
      list += (list.empty() ? "" : ", ") + m;
    }
    if (!known) throw std::invalid_argument("unknown module '" + o.module + "' (modules: " + list + ")");
    d.focus = o.module;
    d.title = describe(o) + ": module " + o.module + ", op by op";
  }
  std::vector<BackwardStep> steps;
  if (o.grads) {
    steps = trace_backward(r.loss, Tensor(), /*retain_graph=*/true);
    d.grads = &steps;
    d.title += "; |g| = norm of the gradient after backward";
  }
  return to_dot(r.loss, d);
}

std::string graph_view_trace(const GraphViewOptions& o) {
  TinyRun r = run_forward(o);
  const std::vector<BackwardStep> steps = trace_backward(r.loss);
  std::string out = "backward pass of a " + describe(o) + ": " + std::to_string(steps.size()) +
                    " nodes, in the order the engine runs them (module -: the model itself)\n\n";
  out += format_trace(steps, r.labels);
  out += "\nparameter gradients (accumulated into .grad)\n";
  char line[256], norm[32];
  for (const auto& [name, t] : r.model->named_parameters()) {
    if (t.grad().defined()) std::snprintf(norm, sizeof norm, "%.2e", l2_norm(t.grad()));
    else std::snprintf(norm, sizeof norm, "none");
    std::snprintf(line, sizeof line, "  %-28s %-10s |grad| %s\n", shorten(name).c_str(), shape_str(t.shape()).c_str(), norm);
    out += line;
  }
  return out;
}

std::string graph_format(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".svg" || ext == ".png" || ext == ".dot") return ext.substr(1);
  throw std::invalid_argument("'" + path + "' must end in .svg, .png or .dot");
}

std::string find_graphviz_dot() {
  const char* env = std::getenv("PATH");
  const std::string path = env ? env : "";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    const std::string dir = path.substr(start, end - start);
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/dot";
    if (::access(candidate.c_str(), X_OK) == 0 && !std::filesystem::is_directory(candidate)) return candidate;
    start = end + 1;
  }
  return "";
}

void write_graph(const std::string& dot_text, const std::string& path) {
  const std::string format = graph_format(path);
  if (format == "dot") {
    write_file_atomic(path, dot_text);
    return;
  }
  const std::string dot = find_graphviz_dot();
  if (dot.empty())
    throw std::runtime_error("Graphviz's `dot` is not on PATH, so " + path +
                             " cannot be drawn (install the Debian package graphviz, or write a .dot file)");
  // The DOT text goes through a file beside the output, so that no shell quoting is involved.
  const std::string input = path + ".tmp" + std::to_string(::getpid()) + ".dot";
  write_file_atomic(input, dot_text);
  const std::string type = "-T" + format;
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::filesystem::remove(input);
    throw std::runtime_error("cannot start " + dot);
  }
  if (pid == 0) {
    const char* argv[] = {dot.c_str(), type.c_str(), "-o", path.c_str(), input.c_str(), nullptr};
    ::execv(dot.c_str(), const_cast<char* const*>(argv));
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  std::error_code ec;
  std::filesystem::remove(input, ec);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error(dot + " failed to draw " + path + " (status " + std::to_string(status) + ")");
}

}  // namespace nf
