// GLUE's training sentences as a corpus; see glue/train_sentences.h.
#include "glue/train_sentences.h"

#include <cctype>
#include <filesystem>
#include <stdexcept>
#include <unordered_set>

#include "glue/data.h"

namespace nf {
namespace {

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

}  // namespace

GlueTrainSentences glue_train_sentences(const std::string& glue_dir, bool skip_malformed) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(glue_dir, ec)) throw std::runtime_error(glue_dir + ": no such directory");

  GlueTrainSentences out;
  std::unordered_set<std::string> seen;
  std::string looked_for;
  for (const GlueTaskInfo& info : glue_tasks()) {
    const fs::path path = fs::path(glue_dir) / info.dir / info.train_file;
    looked_for += (looked_for.empty() ? "" : ", ") + (fs::path(info.dir) / info.train_file).string();
    if (!fs::is_regular_file(path, ec)) {
      out.absent.push_back(info.name);
      continue;
    }
    const GlueSplit split = read_glue_file(info.task, path.string());
    if (split.malformed_rows > 0 && !skip_malformed) {
      const int more = split.malformed_rows - 1;
      throw std::runtime_error(split.problems.front() +
                               (more > 0 ? " (and " + std::to_string(more) + " more bad row" + (more == 1 ? "" : "s") + ")" : "") +
                               "; fix the file, or pass --skip-malformed to leave such rows out");
    }
    GlueTrainTask task;
    task.name = info.name;
    task.path = path.string();
    task.rows = split.examples.size();
    task.malformed_rows = split.malformed_rows;
    auto add = [&](const std::string& raw) {
      std::string s = trim(raw);
      if (s.empty()) return;
      if (!seen.insert(s).second) {
        ++out.duplicates;
        return;
      }
      out.text += s;
      out.text += '\n';
      ++task.sentences;
    };
    for (const GlueExample& ex : split.examples) {
      add(ex.text_a);
      if (info.is_pair) add(ex.text_b);
    }
    out.sentences += task.sentences;
    out.tasks.push_back(std::move(task));
  }
  if (out.tasks.empty())
    throw std::runtime_error(glue_dir + ": no GLUE training file (looked for " + looked_for + ")");
  return out;
}

}  // namespace nf
