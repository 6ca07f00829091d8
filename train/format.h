#pragma once
// Numbers as text for progress lines, tables and files (GLUE, compare, attention maps): one
// printf conversion, so every place writes a value the same way.
#include <charconv>
#include <cstdio>
#include <string>

namespace nf {

// `v` formatted by a printf format with one double conversion, e.g. format_double("%.4f", v).
inline std::string format_double(const char* printf_format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

// `v` in the fewest digits that read back (strtod, std::stod) as exactly `v` — "3.8", not
// "3.7999999999999998" — for files whose numbers are inputs to a later computation (GLUE's
// predictions, from which the reported metric must be recomputable to the last bit).
inline std::string format_exact(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  return std::string(buf, r.ptr);
}

}  // namespace nf
