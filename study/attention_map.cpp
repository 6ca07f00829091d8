#include "study/attention_map.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "autograd/node.h"
#include "nn/attention.h"
#include "nn/dropout.h"
#include "io/checkpoint.h"
#include "train/format.h"
#include "data/tokenizer.h"

namespace nf {
namespace {

// (1, n, T, T) or (1, T, T) -> n panels of T·T floats.
std::vector<std::vector<float>> panels_of(const Tensor& t, int64_t T) {
  std::vector<double> v = t.to_vector<double>();
  const size_t per = static_cast<size_t>(T * T), n = v.size() / per;
  std::vector<std::vector<float>> out(n);
  for (size_t h = 0; h < n; ++h) out[h].assign(v.begin() + static_cast<std::ptrdiff_t>(h * per),
                                               v.begin() + static_cast<std::ptrdiff_t>((h + 1) * per));
  return out;
}

AttentionMapRow make_row(std::string title, std::vector<std::vector<float>> panels, bool diverging = false,
                         const std::string& prefix = "head ") {
  AttentionMapRow r;
  r.title = std::move(title);
  r.diverging = diverging;
  r.panels = std::move(panels);
  for (size_t h = 0; h < r.panels.size(); ++h) r.panel_titles.push_back(prefix + std::to_string(h));
  return r;
}

void zero_dropout(Module& m) {
  for (auto& [name, child] : m.named_children()) {
    if (auto* d = dynamic_cast<Dropout*>(child.get())) d->p = 0.0;
    zero_dropout(*child);
  }
}

}  // namespace

AttentionMaps compute_attention_maps(GPT& model, const std::vector<int64_t>& ids, int64_t layer, uint64_t seed) {
  const GPTConfig& cfg = model.config();
  if (layer < 0 || layer >= cfg.n_layer)
    throw std::invalid_argument("--layer " + std::to_string(layer) + " out of range: the model has " +
                                std::to_string(cfg.n_layer) + " layers (0 … " + std::to_string(cfg.n_layer - 1) + ")");
  const int64_t T = static_cast<int64_t>(ids.size());
  if (T == 0) throw std::invalid_argument("the prompt is empty");
  if (T > cfg.block_size)
    throw std::invalid_argument("prompt of " + std::to_string(T) + " tokens exceeds block_size " + std::to_string(cfg.block_size));
  for (int64_t id : ids)
    if (id < 0 || id >= cfg.vocab_size)
      throw std::invalid_argument("token id " + std::to_string(id) + " outside the vocabulary (" +
                                  std::to_string(cfg.vocab_size) + ")");
  NoGradGuard ng;
  AttentionMaps maps;
  maps.attention = cfg.attention;
  maps.layer = layer;
  maps.T = T;
  const Tensor idx = from_vector(ids, {1, T});
  AttentionProbe& probe = model.blocks[static_cast<size_t>(layer)]->attn->probe();
  // One forward, and a row per map the layer records. `pass` names the rows when the layer
  // records a single map (a noise pass), and prefixes them otherwise.
  auto record_rows = [&](const std::string& pass) {
    probe.record_maps(true);
    model.forward(idx);
    for (const AttentionMap& m : probe.maps()) {
      const std::string title = pass.empty() ? m.title : probe.maps().size() == 1 ? pass : pass + ": " + m.title;
      maps.rows.push_back(make_row(title, panels_of(m.value, T), m.diverging));
      if (!m.panel.empty()) maps.rows.back().panel_titles = {m.panel};
    }
    probe.record_maps(false);
  };
  model.eval();
  if (probe.noise_heads() > 0) {
    // Training-mode forwards with dropout off: ε = 0 in every layer gives N = μ (what eval uses
    // with noise_at_eval=mean); fresh ε from the seeded generator gives a sample, as in training.
    zero_dropout(model);
    model.train();
    for (auto& b : model.blocks)
      if (const int64_t Hn = b->attn->probe().noise_heads()) b->attn->probe().set_fixed_noise(zeros({1, Hn, T, T}));
    record_rows("noise-free: N = mu (the eval mean)");
    for (auto& b : model.blocks)
      if (b->attn->probe().noise_heads()) b->attn->probe().set_fixed_noise(Tensor());
    model.rng.set_state(seed, 0);
    record_rows("sampled: N = mu + sigma eps (seed " + std::to_string(seed) + ")");
    model.eval();
  } else {
    record_rows("");
  }
  if (maps.rows.empty()) throw std::runtime_error("attention-map: no map hooks for attention '" + cfg.attention + "'");
  return maps;
}

plot::Canvas render_attention_maps(const AttentionMaps& maps, int cell, const std::string& title) {
  using plot::Canvas;
  const int T = static_cast<int>(maps.T);
  if (T <= 0 || maps.rows.empty()) throw std::invalid_argument("no attention maps to draw");
  if (cell <= 0) cell = std::clamp(320 / T, 3, 24);
  while (T * cell < 60) ++cell;  // room for the panel titles
  const int P = T * cell;
  const bool labels = cell >= 8 && static_cast<int>(maps.tokens.size()) == T;
  const int margin = 12, gap = 16, label_w = labels ? 10 : 0, bar_w = 12, bar_area = 80;
  size_t ncols = 1;
  for (const auto& r : maps.rows) ncols = std::max(ncols, r.panels.size());
  const int row_h = 14 + 12 + P + (labels ? 10 : 0) + 14;
  const int top = 34;
  int width = margin + label_w + static_cast<int>(ncols) * (P + gap) + bar_area + margin;
  width = std::max(width, Canvas::text_width(title) + 2 * margin);
  for (const auto& r : maps.rows) width = std::max(width, Canvas::text_width(r.title) + 2 * margin);
  const int height = top + static_cast<int>(maps.rows.size()) * row_h + margin;
  Canvas cv(width, height);
  cv.text(margin, 12, title, plot::kBlack);

  const plot::Rgb future{200, 200, 200};
  auto label_of = [&](int i) {
    const std::string& s = maps.tokens[static_cast<size_t>(i)];
    if (s == "\n") return std::string("_");
    if (s == " ") return std::string("_");
    return s.size() == 1 ? s : std::string("?");
  };
  int y = top;
  for (const auto& row : maps.rows) {
    // The row's colour scale: [0, max] or, diverging, [−max|v|, max|v|], over causal cells.
    double vmax = 0;
    for (const auto& p : row.panels)
      for (int i = 0; i < T; ++i)
        for (int j = 0; j <= i; ++j) vmax = std::max(vmax, std::abs(static_cast<double>(p[static_cast<size_t>(i * T + j)])));
    if (vmax <= 0) vmax = 1;
    // Square-root colour scale, so that attention spread thinly over many keys stays visible
    // next to the few near-1 entries (the first query can only attend to itself).
    auto colour = [&](double v) {
      const double t = std::sqrt(std::min(std::abs(v), 1.0));
      return row.diverging ? plot::diverging_color(v < 0 ? -t : t) : plot::sequential_color(t);
    };
    cv.text(margin, y, row.title, plot::kBlack);
    const int py = y + 14 + 12;
    for (size_t h = 0; h < row.panels.size(); ++h) {
      const int px = margin + label_w + static_cast<int>(h) * (P + gap);
      if (h < row.panel_titles.size()) cv.text(px, y + 14, row.panel_titles[h], plot::kGrey);
      const auto& p = row.panels[h];
      for (int i = 0; i < T; ++i)
        for (int j = 0; j < T; ++j) {
          plot::Rgb c = future;
          if (j <= i) {
            c = colour(p[static_cast<size_t>(i * T + j)] / vmax);
          }
          cv.fill_rect(px + j * cell, py + i * cell, cell, cell, c);
        }
      cv.rect(px - 1, py - 1, P + 2, P + 2, plot::kGrey);
      if (labels) {
        for (int j = 0; j < T; ++j) cv.text(px + j * cell + (cell - 5) / 2, py + P + 2, label_of(j), plot::kGrey);
        if (h == 0)
          for (int i = 0; i < T; ++i) cv.text(px - label_w, py + i * cell + (cell - 7) / 2, label_of(i), plot::kGrey);
      }
    }
    // Colour bar with its end values.
    const int bx = margin + label_w + static_cast<int>(ncols) * (P + gap);
    for (int k = 0; k < P; ++k) {
      const double t = 1.0 - static_cast<double>(k) / std::max(P - 1, 1);  // position on the bar
      const double v = row.diverging ? (2 * t - 1) * std::abs(2 * t - 1) : t * t;  // its value / vmax
      cv.fill_rect(bx, py + k, bar_w, 1, colour(v));
    }
    cv.rect(bx - 1, py - 1, bar_w + 2, P + 2, plot::kGrey);
    cv.text(bx + bar_w + 4, py, format_double("%.3g", vmax), plot::kBlack);
    cv.text(bx + bar_w + 4, py + P - 7, row.diverging ? format_double("%.3g", -vmax) : std::string("0"), plot::kBlack);
    if (row.diverging) cv.text(bx + bar_w + 4, py + P / 2 - 3, "0", plot::kBlack);
    else cv.text(bx + bar_w + 4, py + P / 2 - 3, format_double("%.2g", vmax / 4), plot::kBlack);  // sqrt scale: midpoint = max/4
    y += row_h;
  }
  return cv;
}

AttentionMaps write_attention_map(const AttentionMapOptions& opt) {
  LoadedModel lm = load_model(opt.checkpoint);
  if (lm.tokenizer_meta.empty()) throw std::runtime_error(opt.checkpoint + ": no tokenizer stored with this checkpoint");
  std::unique_ptr<Tokenizer> tok;
  try {
    tok = load_tokenizer_from_json(nlohmann::json::parse(lm.tokenizer_meta));
  } catch (const nlohmann::json::exception&) {
    throw std::runtime_error(opt.checkpoint + ": stored tokenizer is not valid JSON");
  }
  GPT& model = *lm.model;
  std::vector<int> enc = tok->encode(opt.prompt);
  if (enc.empty()) throw std::invalid_argument("--prompt is empty");
  const size_t bs = static_cast<size_t>(model.config().block_size);
  const int64_t prompt_tokens = static_cast<int64_t>(enc.size());
  if (enc.size() > bs) enc.erase(enc.begin(), enc.end() - static_cast<std::ptrdiff_t>(bs));
  std::vector<int64_t> ids(enc.begin(), enc.end());
  AttentionMaps maps = compute_attention_maps(model, ids, opt.layer, opt.seed);
  maps.prompt_tokens = prompt_tokens;
  for (int id : enc) maps.tokens.push_back(tok->decode({id}));
  const std::filesystem::path cp(opt.checkpoint);
  const std::string where = (cp.parent_path().filename() / cp.filename()).string();
  const std::string title = maps.attention + ", layer " + std::to_string(opt.layer) + ", " + std::to_string(maps.T) +
                            " tokens - " + where + " (colour: square-root scale)";
  render_attention_maps(maps, opt.cell, title).write_png(opt.out);
  return maps;
}

}  // namespace nf
