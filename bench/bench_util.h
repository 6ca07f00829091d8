#pragma once
// Small helpers shared by the benchmark programs (bench_train.cpp on the CPU, bench_cuda.cpp on
// the GPU): the median of a set of timings and comma-separated option lists.
#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace nf::bench {

// Median of v (0 for none); the mean of the middle two when the count is even.
inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// "a,b,,c" -> {"a", "b", "c"}
inline std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) if (!item.empty()) out.push_back(item);
  return out;
}

}  // namespace nf::bench
