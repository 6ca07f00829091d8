#pragma once
// Small raster plots for the study tools (compare's loss curves, attention-map): an RGB canvas we
// draw on ourselves (lines, rectangles, a built-in 5×7 bitmap font) and PNG output through
// stb_image_write (Debian package libstb-dev). No image encoding of our own.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace nf::plot {

struct Rgb {
  uint8_t r = 0, g = 0, b = 0;
  bool operator==(const Rgb& o) const { return r == o.r && g == o.g && b == o.b; }
};

constexpr Rgb kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrey{128, 128, 128}, kLightGrey{225, 225, 225};

// Categorical colours (Tableau 10) for curves; index wraps around.
Rgb category_color(size_t i);
// t in [0, 1] -> white … dark blue-purple (sequential map for probabilities and masks).
Rgb sequential_color(double t);
// t in [-1, 1] -> blue (−) … white (0) … red (+) (diverging map for signed maps such as A1 − λA2).
Rgb diverging_color(double t);

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = kWhite);
  int width() const { return w_; }
  int height() const { return h_; }
  const std::vector<uint8_t>& pixels() const { return px_; }  // row-major RGB, 3 bytes a pixel

  void set(int x, int y, Rgb c);  // ignores pixels outside the canvas
  Rgb get(int x, int y) const;
  void fill_rect(int x, int y, int w, int h, Rgb c);
  void rect(int x, int y, int w, int h, Rgb c);  // 1-pixel outline
  // A straight line (Bresenham) `thickness` pixels wide.
  void line(int x0, int y0, int x1, int y1, Rgb c, int thickness = 1);
  // Text in the built-in 5×7 font (digits, letters — lower case drawn as upper case — and
  // . , - + = : ; ( ) / % _ * | ' ? !), each glyph 6·scale pixels wide including spacing.
  // (x, y) is the top-left corner. Returns the width drawn.
  int text(int x, int y, const std::string& s, Rgb c, int scale = 1);
  static int text_width(const std::string& s, int scale = 1);
  static int text_height(int scale = 1) { return 7 * scale; }
  // Text rotated 90° counter-clockwise (reads bottom to top), (x, y) its top-left corner.
  void text_vertical(int x, int y, const std::string& s, Rgb c, int scale = 1);

  // The PNG bytes (stb_image_write), and a PNG file written to a temporary name then renamed.
  std::string png() const;
  void write_png(const std::string& path) const;

 private:
  int w_, h_;
  std::vector<uint8_t> px_;
};

// A line chart: one curve per series (x ascending), with axes, ticks and numeric labels, a
// title, axis labels and a legend box. Bands are blended, so where two overlap both show.
struct Series {
  Series() = default;
  Series(std::string label, std::vector<double> x, std::vector<double> y, Rgb color, bool markers = true)
      : label(std::move(label)), x(std::move(x)), y(std::move(y)), color(color), markers(markers) {}
  std::string label;
  std::vector<double> x, y;
  Rgb color;
  bool markers = true;  // a small square at every point
  // Optional spread at each x (e.g. the lowest and highest of several seeds), drawn under the
  // curve as a translucent band of its colour; empty: no band. Same length as x when given.
  std::vector<double> lo, hi;
};
// log2_x: the x axis in powers of two (x > 0; ticks at 1, 2, 4, …, labelled with the values), for
// quantities such as cache sizes whose interesting range spans several octaves.
Canvas line_chart(const std::vector<Series>& series, const std::string& title, const std::string& x_label,
                  const std::string& y_label, int width = 900, int height = 560, bool log2_x = false);

// "Nice" tick positions covering [lo, hi] (about `target` of them, steps of 1, 2 or 5 × 10^k).
std::vector<double> nice_ticks(double lo, double hi, int target = 6);
// A tick label: the shortest of %g-like forms that distinguishes ticks `step` apart.
std::string tick_label(double v, double step);

}  // namespace nf::plot
