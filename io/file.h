#pragma once
// Whole-file reads and crash-safe writes, used by every writer in the project (token files,
// meta.json, safetensors checkpoints, logs' companions, plots, study results).
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

}  // namespace nf
