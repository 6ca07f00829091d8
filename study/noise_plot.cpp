#include "study/noise_plot.h"

#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "nn/noise_attention.h"

namespace nf {

NoiseHistory read_noise_history(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open (missing?)");
  using Grid = std::vector<std::vector<double>>;
  std::map<int64_t, std::pair<Grid, Grid>> at;  // iter -> (sigma, mu)
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("iter") || !j.contains("noise_sigma") || !j.contains("noise_mu")) continue;
    try {
      at[j["iter"].get<int64_t>()] = {j["noise_sigma"].get<Grid>(), j["noise_mu"].get<Grid>()};
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(path + ": iteration " + j["iter"].dump() + ": noise_sigma/noise_mu are not arrays of arrays of numbers");
    }
  }
  if (at.empty())
    throw std::runtime_error(path + ": no evaluation line with noise_sigma (not a noise-v1/noise-v2 run, or no evaluation yet)");
  NoiseHistory h;
  const Grid first = at.begin()->second.first;  // a copy: the loop moves the grids out
  for (auto& [it, sm] : at) {
    bool same = sm.first.size() == first.size() && sm.second.size() == first.size();
    for (size_t l = 0; same && l < first.size(); ++l)
      same = sm.first[l].size() == first[l].size() && sm.second[l].size() == first[l].size();
    if (!same) throw std::runtime_error(path + ": iteration " + std::to_string(it) + ": the layers or maps differ from the first evaluation's");
    h.x.push_back(it);
    h.sigma.push_back(std::move(sm.first));
    h.mu.push_back(std::move(sm.second));
  }
  return h;
}

NoiseHistory noise_by_distance(const GPT& model) {
  const GPTConfig& c = model.config();
  if (c.noise_mean != "relpos")
    throw std::invalid_argument("noise by distance needs a noise-v1/noise-v2 model with noise_mean relpos (this one: attention " +
                                c.attention + ", noise_mean " + c.noise_mean + ")");
  NoiseHistory h;
  for (int64_t d = 0; d < c.block_size; ++d) h.x.push_back(d);
  h.sigma.assign(static_cast<size_t>(c.block_size), {});
  h.mu.assign(static_cast<size_t>(c.block_size), {});
  for (const auto& blk : model.blocks) {
    const auto noise = std::dynamic_pointer_cast<const NoiseAttention>(blk->attn);
    if (!noise) throw std::invalid_argument("noise by distance: a layer without NoiseFormer attention");
    // The tables are (maps, block_size) — noise-v1: one map — indexed by distance.
    const std::vector<double> mu = noise->noise_mu.to_vector<double>(), lv = noise->noise_logvar.to_vector<double>();
    const size_t maps = mu.size() / static_cast<size_t>(c.block_size);
    for (size_t d = 0; d < static_cast<size_t>(c.block_size); ++d) {
      std::vector<double> s(maps), m(maps);
      for (size_t k = 0; k < maps; ++k) {
        m[k] = mu[k * static_cast<size_t>(c.block_size) + d];
        s[k] = std::exp(0.5 * lv[k * static_cast<size_t>(c.block_size) + d]);
      }
      h.sigma[d].push_back(s);
      h.mu[d].push_back(m);
    }
  }
  return h;
}

nlohmann::json noise_history_json(const NoiseHistory& h) { return {{"x", h.x}, {"sigma", h.sigma}, {"mu", h.mu}}; }

plot::Canvas noise_chart(const NoiseHistory& h, const std::string& param, const std::string& title,
                         const std::string& x_label) {
  if (param != "sigma" && param != "mu") throw std::invalid_argument("noise_chart: param must be sigma or mu, got '" + param + "'");
  const auto& values = param == "sigma" ? h.sigma : h.mu;
  if (values.empty()) throw std::invalid_argument("noise_chart: no evaluations to draw");
  const size_t layers = values[0].size(), maps = layers > 0 ? values[0][0].size() : 0;
  const int panel_w = 640, panel_h = 380, cols = layers > 1 ? 2 : 1, title_h = 40;
  const int rows = static_cast<int>((layers + cols - 1) / cols);
  plot::Canvas out(cols * panel_w, title_h + rows * panel_h);
  out.text((out.width() - plot::Canvas::text_width(title, 2)) / 2, 12, title, plot::kBlack, 2);
  std::vector<double> x;
  for (int64_t v : h.x) x.push_back(static_cast<double>(v));
  for (size_t l = 0; l < layers; ++l) {
    std::vector<plot::Series> series;
    for (size_t m = 0; m < maps; ++m) {
      std::vector<double> y;
      for (const auto& at : values) y.push_back(at[l][m]);
      series.push_back({maps == 1 ? "all heads" : "head " + std::to_string(m), x, y, plot::category_color(m), true});
    }
    const plot::Canvas panel = plot::line_chart(series, "layer " + std::to_string(l) + ": " + param + (maps == 1 ? "" : " per head"),
                                                x_label, param, panel_w, panel_h);
    const int ox = static_cast<int>(l % cols) * panel_w, oy = title_h + static_cast<int>(l / cols) * panel_h;
    for (int py = 0; py < panel.height(); ++py)
      for (int px = 0; px < panel.width(); ++px) out.set(ox + px, oy + py, panel.get(px, py));
  }
  return out;
}

}  // namespace nf
