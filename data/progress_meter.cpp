#include "data/progress_meter.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <utility>

namespace nf {

namespace {
using Clock = std::chrono::steady_clock;
constexpr double kTerminalInterval = 0.2;  // seconds between redraws
constexpr double kLogInterval = 10.0;      // seconds between plain lines

double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// "0:07", "12:34", "1:02:03".
std::string clock_time(double s) {
  const long t = static_cast<long>(s + 0.5);
  char buf[32];
  if (t >= 3600) std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
  else std::snprintf(buf, sizeof buf, "%ld:%02ld", t / 60, t % 60);
  return buf;
}
}  // namespace

ProgressMeter::ProgressMeter(std::string label, uint64_t total_bytes, bool enabled)
    : label_(std::move(label)),
      total_(total_bytes),
      enabled_(enabled),
      terminal_(enabled && ::isatty(STDERR_FILENO)),
      start_(Clock::now()),
      last_draw_(start_) {}

ProgressMeter::~ProgressMeter() { finish(); }

void ProgressMeter::update(uint64_t done_bytes) {
  done_ = done_bytes;
  if (!enabled_ || finished_) return;
  const Clock::time_point now = Clock::now();
  if (seconds(now - last_draw_) < (terminal_ ? kTerminalInterval : kLogInterval)) return;
  last_draw_ = now;
  draw(false);
}

void ProgressMeter::finish() {
  if (!enabled_ || finished_) return;
  finished_ = true;
  if (terminal_ && drawn_) draw(true);
}

void ProgressMeter::draw(bool final) {
  const double elapsed = seconds(Clock::now() - start_);
  const double mb = static_cast<double>(done_) / 1e6, total_mb = static_cast<double>(total_) / 1e6;
  const double rate = elapsed > 0 ? mb / elapsed : 0;
  const double fraction = total_ ? std::min(1.0, static_cast<double>(done_) / static_cast<double>(total_)) : 1.0;
  const std::string eta = final ? "in " + clock_time(elapsed)
                                : rate > 0 ? "ETA " + clock_time((total_mb - mb) / rate) : "ETA ?";
  char facts[160];
  std::snprintf(facts, sizeof facts, "%3.0f%%  %8.1f/%.1f MB  %6.1f MB/s  %s", 100 * fraction, mb, total_mb, rate,
                eta.c_str());
  if (terminal_) {
    constexpr int kWidth = 20;
    const int filled = static_cast<int>(fraction * kWidth);
    const std::string bar = std::string(filled, '#') + std::string(kWidth - filled, '.');
    // \r and clear-to-end-of-line: the line is redrawn in place.
    std::fprintf(stderr, "\r%-11s [%s] %s\x1b[K%s", label_.c_str(), bar.c_str(), facts, final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s: %s\n", label_.c_str(), facts);
  }
  std::fflush(stderr);
  drawn_ = true;
}

}  // namespace nf
