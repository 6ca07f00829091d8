#pragma once
// Progress of one pass over the input, on stderr: bytes done of the total, the rate, and the
// time left at that rate (MB = 10^6 bytes).
//
//   On a terminal: one line, redrawn in place at most 5 times a second, left standing when the
//   pass ends:
//     encoding    [#########...........]  47%   502.1/1066.4 MB   38.6 MB/s  ETA 0:14
//   Otherwise (a log file, a pipe): the same facts as a plain line every 10 seconds, and none
//   for a pass that ends sooner, so a log gains a line now and then, never a flood.
#include <chrono>
#include <cstdint>
#include <string>

namespace nf {

class ProgressMeter {
 public:
  // enabled = false: reports nothing.
  ProgressMeter(std::string label, uint64_t total_bytes, bool enabled);
  ~ProgressMeter();  // finish()
  ProgressMeter(const ProgressMeter&) = delete;
  ProgressMeter& operator=(const ProgressMeter&) = delete;

  void update(uint64_t done_bytes);
  // The final state (on a terminal) and the end of the line; later calls do nothing.
  void finish();

 private:
  void draw(bool final);

  std::string label_;
  uint64_t total_, done_ = 0;
  bool enabled_, terminal_, finished_ = false, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace nf
