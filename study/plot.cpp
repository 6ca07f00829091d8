#include "study/plot.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "io/file.h"

// stb_image_write (Debian: libstb-dev). Its implementation lives in this file only, with
// internal linkage, and its own warnings silenced.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wall"
#pragma GCC diagnostic ignored "-Wextra"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wunused-function"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

namespace nf::plot {
namespace {

// The 5×7 font: seven rows per glyph, bit 4 of each row is its leftmost pixel.
struct Glyph {
  char c;
  uint8_t rows[7];
};
constexpr Glyph kFont[] = {
    {'0', {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e}},
    {'1', {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'2', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f}},
    {'3', {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e}},
    {'4', {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02}},
    {'5', {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e}},
    {'6', {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e}},
    {'7', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08}},
    {'8', {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e}},
    {'9', {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c}},
    {'A', {0x0e, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
    {'B', {0x1e, 0x11, 0x11, 0x1e, 0x11, 0x11, 0x1e}},
    {'C', {0x0e, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0e}},
    {'D', {0x1c, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1c}},
    {'E', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x1f}},
    {'F', {0x1f, 0x10, 0x10, 0x1e, 0x10, 0x10, 0x10}},
    {'G', {0x0e, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0f}},
    {'H', {0x11, 0x11, 0x11, 0x1f, 0x11, 0x11, 0x11}},
    {'I', {0x0e, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e}},
    {'J', {0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0c}},
    {'K', {0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11}},
    {'L', {0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1f}},
    {'M', {0x11, 0x1b, 0x15, 0x15, 0x11, 0x11, 0x11}},
    {'N', {0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11}},
    {'O', {0x0e, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
    {'P', {0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10, 0x10}},
    {'Q', {0x0e, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0d}},
    {'R', {0x1e, 0x11, 0x11, 0x1e, 0x14, 0x12, 0x11}},
    {'S', {0x0f, 0x10, 0x10, 0x0e, 0x01, 0x01, 0x1e}},
    {'T', {0x1f, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'U', {0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0e}},
    {'V', {0x11, 0x11, 0x11, 0x11, 0x11, 0x0a, 0x04}},
    {'W', {0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0a}},
    {'X', {0x11, 0x11, 0x0a, 0x04, 0x0a, 0x11, 0x11}},
    {'Y', {0x11, 0x11, 0x0a, 0x04, 0x04, 0x04, 0x04}},
    {'Z', {0x1f, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1f}},
    {'.', {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c}},
    {',', {0x00, 0x00, 0x00, 0x00, 0x0c, 0x04, 0x08}},
    {'-', {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00}},
    {'+', {0x00, 0x04, 0x04, 0x1f, 0x04, 0x04, 0x00}},
    {'=', {0x00, 0x00, 0x1f, 0x00, 0x1f, 0x00, 0x00}},
    {':', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x0c, 0x00}},
    {';', {0x00, 0x0c, 0x0c, 0x00, 0x0c, 0x04, 0x08}},
    {'(', {0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02}},
    {')', {0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08}},
    {'/', {0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00}},
    {'%', {0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03}},
    {'_', {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f}},
    {'*', {0x00, 0x04, 0x15, 0x0e, 0x15, 0x04, 0x00}},
    {'|', {0x04, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04}},
    {'\'', {0x04, 0x04, 0x08, 0x00, 0x00, 0x00, 0x00}},
    {'?', {0x0e, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04}},
    {'!', {0x04, 0x04, 0x04, 0x04, 0x04, 0x00, 0x04}},
    {'<', {0x02, 0x04, 0x08, 0x10, 0x08, 0x04, 0x02}},
    {'>', {0x08, 0x04, 0x02, 0x01, 0x02, 0x04, 0x08}},
    {'[', {0x0e, 0x08, 0x08, 0x08, 0x08, 0x08, 0x0e}},
    {']', {0x0e, 0x02, 0x02, 0x02, 0x02, 0x02, 0x0e}},
    {'#', {0x0a, 0x0a, 0x1f, 0x0a, 0x1f, 0x0a, 0x0a}},
    {'"', {0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00}},
};

const Glyph* find_glyph(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (const Glyph& g : kFont)
    if (g.c == c) return &g;
  return nullptr;
}

Rgb lerp(Rgb a, Rgb b, double t) {
  auto ch = [t](uint8_t x, uint8_t y) {
    return static_cast<uint8_t>(std::lround(static_cast<double>(x) + (static_cast<double>(y) - x) * t));
  };
  return {ch(a.r, b.r), ch(a.g, b.g), ch(a.b, b.b)};
}

// Piecewise-linear colour map through evenly spaced stops, t in [0, 1].
template <size_t N>
Rgb ramp(const Rgb (&stops)[N], double t) {
  if (!(t > 0)) return stops[0];  // also NaN
  if (t >= 1) return stops[N - 1];
  const double s = t * static_cast<double>(N - 1);
  const size_t i = static_cast<size_t>(s);
  return lerp(stops[i], stops[i + 1], s - static_cast<double>(i));
}

}  // namespace

Rgb category_color(size_t i) {
  static const Rgb kTab10[] = {{31, 119, 180}, {255, 127, 14}, {44, 160, 44},  {214, 39, 40},   {148, 103, 189},
                               {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};
  return kTab10[i % 10];
}

Rgb sequential_color(double t) {
  static const Rgb kBlues[] = {{255, 255, 255}, {198, 219, 239}, {107, 174, 214}, {33, 113, 181}, {8, 48, 107}};
  return ramp(kBlues, t);
}

Rgb diverging_color(double t) {
  static const Rgb kRdBu[] = {{5, 48, 97}, {67, 147, 195}, {247, 247, 247}, {214, 96, 77}, {103, 0, 31}};
  return ramp(kRdBu, (t + 1.0) / 2.0);
}

Canvas::Canvas(int width, int height, Rgb background) : w_(width), h_(height) {
  if (width <= 0 || height <= 0 || width > 20000 || height > 20000)
    throw std::invalid_argument("canvas size " + std::to_string(width) + "x" + std::to_string(height) + " out of range");
  px_.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < px_.size(); i += 3) {
    px_[i] = background.r;
    px_[i + 1] = background.g;
    px_[i + 2] = background.b;
  }
}

void Canvas::set(int x, int y, Rgb c) {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return;
  uint8_t* p = &px_[(static_cast<size_t>(y) * w_ + x) * 3];
  p[0] = c.r;
  p[1] = c.g;
  p[2] = c.b;
}

Rgb Canvas::get(int x, int y) const {
  if (x < 0 || y < 0 || x >= w_ || y >= h_) return {};
  const uint8_t* p = &px_[(static_cast<size_t>(y) * w_ + x) * 3];
  return {p[0], p[1], p[2]};
}

void Canvas::fill_rect(int x, int y, int w, int h, Rgb c) {
  const int x0 = std::max(x, 0), y0 = std::max(y, 0), x1 = std::min(x + w, w_), y1 = std::min(y + h, h_);
  for (int yy = y0; yy < y1; ++yy)
    for (int xx = x0; xx < x1; ++xx) set(xx, yy, c);
}

void Canvas::rect(int x, int y, int w, int h, Rgb c) {
  if (w <= 0 || h <= 0) return;
  fill_rect(x, y, w, 1, c);
  fill_rect(x, y + h - 1, w, 1, c);
  fill_rect(x, y, 1, h, c);
  fill_rect(x + w - 1, y, 1, h, c);
}

void Canvas::line(int x0, int y0, int x1, int y1, Rgb c, int thickness) {
  const int dx = std::abs(x1 - x0), dy = -std::abs(y1 - y0);
  const int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
  const int lo = -(thickness - 1) / 2, hi = thickness / 2;
  int err = dx + dy;
  for (int guard = 0; guard < 100000; ++guard) {
    for (int a = lo; a <= hi; ++a)
      for (int b = lo; b <= hi; ++b) set(x0 + a, y0 + b, c);
    if (x0 == x1 && y0 == y1) break;
    const int e2 = 2 * err;
    if (e2 >= dy) {
      err += dy;
      x0 += sx;
    }
    if (e2 <= dx) {
      err += dx;
      y0 += sy;
    }
  }
}

int Canvas::text_width(const std::string& s, int scale) { return static_cast<int>(s.size()) * 6 * scale; }

int Canvas::text(int x, int y, const std::string& s, Rgb c, int scale) {
  int cx = x;
  for (char ch : s) {
    if (const Glyph* g = find_glyph(ch)) {
      for (int r = 0; r < 7; ++r)
        for (int col = 0; col < 5; ++col)
          if (g->rows[r] & (0x10 >> col)) fill_rect(cx + col * scale, y + r * scale, scale, scale, c);
    }
    cx += 6 * scale;
  }
  return cx - x;
}

void Canvas::text_vertical(int x, int y, const std::string& s, Rgb c, int scale) {
  // Glyph column `col` of character k lands on row y + (len·6 − 1 − (6k + col))·scale.
  const int len = static_cast<int>(s.size());
  for (int k = 0; k < len; ++k) {
    const Glyph* g = find_glyph(s[k]);
    if (!g) continue;
    for (int r = 0; r < 7; ++r)
      for (int col = 0; col < 5; ++col)
        if (g->rows[r] & (0x10 >> col))
          fill_rect(x + r * scale, y + (len * 6 - 1 - (6 * k + col)) * scale, scale, scale, c);
  }
}

std::string Canvas::png() const {
  std::string out;
  auto sink = [](void* ctx, void* data, int size) {
    static_cast<std::string*>(ctx)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  if (!stbi_write_png_to_func(sink, &out, w_, h_, 3, px_.data(), w_ * 3))
    throw std::runtime_error("PNG encoding failed");
  return out;
}

void Canvas::write_png(const std::string& path) const { write_file_atomic(path, png()); }

std::vector<double> nice_ticks(double lo, double hi, int target) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step)
    t.push_back(std::abs(v) < step * 1e-9 ? 0.0 : v);
  return t;
}

std::string tick_label(double v, double step) {
  int dec = 0;
  if (step > 0)
    while (dec < 8 && std::abs(step * std::pow(10.0, dec) - std::round(step * std::pow(10.0, dec))) > 1e-6) ++dec;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", dec, v);
  return buf;
}

Canvas line_chart(const std::vector<Series>& input, const std::string& title, const std::string& x_label,
                  const std::string& y_label, int width, int height, bool log2_x) {
  // On a log2 axis each x is drawn at log2(x) (x <= 0 is not drawn); from here on the chart works
  // on drawn positions only, and only the tick labels turn them back into values.
  std::vector<Series> series = input;
  if (log2_x)
    for (Series& s : series)
      for (double& x : s.x) x = x > 0 ? std::log2(x) : NAN;
  Canvas cv(width, height);
  int legend_w = 0;
  for (const Series& s : series) legend_w = std::max(legend_w, Canvas::text_width(s.label) + 34);
  const int left = 76, right = legend_w + 30, top = 44, bottom = 52;
  const int pw = width - left - right, ph = height - top - bottom;
  if (pw < 50 || ph < 50) throw std::invalid_argument("chart too small for its legend");

  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  for (const Series& s : series) {
    if (!s.lo.empty() && (s.lo.size() != s.x.size() || s.hi.size() != s.x.size()))
      throw std::invalid_argument("line_chart: series '" + s.label + "' has a band of another length than x");
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
      if (!s.lo.empty() && std::isfinite(s.lo[i]) && std::isfinite(s.hi[i])) {
        y0 = std::min(y0, s.lo[i]);
        y1 = std::max(y1, s.hi[i]);
      }
    }
  }
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // no data: empty axes
  if (x1 - x0 < 1e-12) x0 -= 0.5, x1 += 0.5;
  if (y1 - y0 < 1e-12) y0 -= 0.5, y1 += 0.5;
  const double pad = 0.06 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  std::vector<double> xt = nice_ticks(x0, x1, 8), yt = nice_ticks(y0, y1, 7);
  if (log2_x) {  // a tick at every power of two in range, labelled with its value
    xt.clear();
    for (double k = std::ceil(x0); k <= x1 + 1e-9; k += 1) xt.push_back(k);
  }
  auto px = [&](double x) { return left + static_cast<int>(std::lround((x - x0) / (x1 - x0) * (pw - 1))); };
  auto py = [&](double y) { return top + ph - 1 - static_cast<int>(std::lround((y - y0) / (y1 - y0) * (ph - 1))); };

  // grid, axes, ticks, labels
  const double xs = xt.size() > 1 ? xt[1] - xt[0] : 1, ys = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double v : xt) {
    const int X = px(v);
    cv.fill_rect(X, top, 1, ph, kLightGrey);
    cv.fill_rect(X, top + ph, 1, 5, kBlack);
    const std::string l = log2_x ? tick_label(std::exp2(v), 1) : tick_label(v, xs);
    cv.text(X - Canvas::text_width(l) / 2, top + ph + 9, l, kBlack);
  }
  for (double v : yt) {
    const int Y = py(v);
    cv.fill_rect(left, Y, pw, 1, kLightGrey);
    cv.fill_rect(left - 5, Y, 5, 1, kBlack);
    const std::string l = tick_label(v, ys);
    cv.text(left - 9 - Canvas::text_width(l), Y - 3, l, kBlack);
  }
  cv.fill_rect(left, top, 1, ph, kBlack);
  cv.fill_rect(left, top + ph - 1, pw, 1, kBlack);
  cv.text((width - Canvas::text_width(title, 2)) / 2, 12, title, kBlack, 2);
  cv.text(left + (pw - Canvas::text_width(x_label)) / 2, height - 20, x_label, kBlack);
  cv.text_vertical(12, top + (ph - Canvas::text_width(y_label)) / 2, y_label, kBlack);

  // bands, under every curve: each pixel column between two points, linearly interpolated
  const auto blend = [&](int X, int Y, Rgb c) {
    const Rgb o = cv.get(X, Y);
    const auto mix = [](uint8_t a, uint8_t b) { return static_cast<uint8_t>(std::lround(0.78 * a + 0.22 * b)); };
    cv.set(X, Y, {mix(o.r, c.r), mix(o.g, c.g), mix(o.b, c.b)});
  };
  for (const Series& s : series) {
    if (s.lo.empty()) continue;
    for (size_t i = 0; i + 1 < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.x[i + 1]) || !std::isfinite(s.lo[i]) ||
          !std::isfinite(s.hi[i]) || !std::isfinite(s.lo[i + 1]) || !std::isfinite(s.hi[i + 1]))
        continue;
      const int Xa = px(s.x[i]), Xb = px(s.x[i + 1]);
      // The last column of a segment is the first of the next: draw it once.
      const int end = i + 2 < s.x.size() ? Xb - 1 : Xb;
      for (int X = Xa; X <= end; ++X) {
        const double t = Xb > Xa ? static_cast<double>(X - Xa) / (Xb - Xa) : 0.0;
        const int Ylo = py(s.lo[i] + t * (s.lo[i + 1] - s.lo[i])), Yhi = py(s.hi[i] + t * (s.hi[i + 1] - s.hi[i]));
        for (int Y = Yhi; Y <= Ylo; ++Y) blend(X, Y, s.color);
      }
    }
  }

  // curves
  for (const Series& s : series) {
    int lx = 0, ly = 0;
    bool have = false;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) {
        have = false;
        continue;
      }
      const int X = px(s.x[i]), Y = py(s.y[i]);
      if (have) cv.line(lx, ly, X, Y, s.color, 2);
      if (s.markers) cv.fill_rect(X - 2, Y - 2, 5, 5, s.color);
      lx = X, ly = Y, have = true;
    }
  }

  // legend
  const int lx = left + pw + 16;
  int ly = top + 4;
  cv.rect(lx - 6, ly - 6, legend_w + 8, static_cast<int>(series.size()) * 16 + 8, kGrey);
  for (const Series& s : series) {
    cv.fill_rect(lx, ly + 2, 22, 4, s.color);
    cv.text(lx + 28, ly, s.label, kBlack);
    ly += 16;
  }
  return cv;
}

}  // namespace nf::plot
