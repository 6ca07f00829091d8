#pragma once
// Numbers as text for progress lines, tables and files (GLUE, compare, attention maps): one
// printf conversion, so every place writes a value the same way.
#include <cstdio>
#include <string>

namespace nf {

// `v` formatted by a printf format with one double conversion, e.g. format_double("%.4f", v).
inline std::string format_double(const char* printf_format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, printf_format, v);
  return buf;
}

}  // namespace nf
