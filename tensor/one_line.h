#pragma once
// Error messages are one line (the command line prints "noiseformer <cmd>: error: <what>"), but
// many of them quote something read from a file or a flag — a tensor name, a JSON key, a parser
// message — that may hold line breaks or other control bytes. one_line() makes such a quote safe
// to embed: control characters become spaces, and a long quote is cut. It lives in the lowest
// layer so that every layer's errors can use it.
#include <cstddef>
#include <string>

namespace nf {

inline std::string one_line(std::string s, size_t max_chars = 300) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  if (s.size() > max_chars) s = s.substr(0, max_chars) + "...";
  return s;
}

}  // namespace nf
