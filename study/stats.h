#pragma once
// The summary statistics the study tables quote over seeds.
#include <cmath>
#include <vector>

namespace nf {

// The arithmetic mean; 0 for no values.
inline double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

// The sample standard deviation (n − 1 in the denominator: the seeds are a sample of the seeds one
// could have drawn); 0 for fewer than two values.
inline double sample_std(const std::vector<double>& v) {
  if (v.size() < 2) return 0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

}  // namespace nf
