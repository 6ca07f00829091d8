#pragma once
// The study tools' JSON result files: read with a one-line error naming the file, written whole
// or not at all (io/file.h), so an interrupted study never leaves half a results file.
#include <string>

#include <nlohmann/json.hpp>

#include "io/file.h"

namespace nf {

inline nlohmann::json read_json_file(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(path + ": not valid JSON (" + e.what() + ")");
  }
}

inline void write_json_file(const std::string& path, const nlohmann::json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace nf
