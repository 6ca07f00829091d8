#pragma once
// Whole-file reads (and their lines) and crash-safe writes, used by every writer in the project
// (token files, meta.json, safetensors checkpoints, logs' companions, plots, study results).
#include <string>
#include <string_view>
#include <vector>

namespace nf {

// Writes the concatenation of `pieces` to `path` so that a reader, or a run restarted after a
// crash, sees either the old file or the whole new one, never a part: the bytes go to
// `path.tmp.<pid>` (the pid keeps two processes writing one target apart), are flushed to the
// disk (fsync), then renamed over `path`, and the directory is synced so the rename itself
// survives a power cut. Throws std::runtime_error "<path>: <what failed>: <reason>" and leaves
// no temporary file behind.
void write_file_atomic(const std::string& path, const std::vector<std::string_view>& pieces);
void write_file_atomic(const std::string& path, std::string_view bytes);

// Reads a whole file; throws "<path>: cannot open (missing?)".
std::string read_file(const std::string& path);

// Calls fn(line, line_no) for each line of a file's `text`, numbered from 1, without its "\n"
// and without a "\r" before it (a copy saved with CRLF line ends reads the same). A last line
// without "\n" counts; a text that ends in "\n" has no empty line after it. `line` is a view
// into `text`, valid while `text` is.
template <class Fn>
void for_each_line(std::string_view text, Fn&& fn) {
  size_t line_no = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    fn(line, ++line_no);
  }
}

}  // namespace nf
