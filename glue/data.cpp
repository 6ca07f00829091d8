// GLUE TSV readers; see glue_data.h for the layout and the rules on malformed rows.
#include "glue/data.h"
#include "tensor/one_line.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <stdexcept>

namespace nf {
namespace {

// The header names each task's columns go by. Test files lack the label column, which is how a
// label-less file is recognised.
struct Columns {
  std::vector<std::string> text_a, text_b, label, id;  // accepted names (any one), lower case
};

Columns columns_of(GlueTask task) {
  const std::vector<std::string> index = {"index", "idx", "id"};
  switch (task) {
    case GlueTask::CoLA: return {{"sentence"}, {}, {"label"}, index};
    case GlueTask::SST2: return {{"sentence"}, {}, {"label"}, index};
    case GlueTask::MRPC: return {{"#1 string"}, {"#2 string"}, {"quality", "label"}, index};
    case GlueTask::QQP: return {{"question1"}, {"question2"}, {"is_duplicate", "label"}, index};
    case GlueTask::STSB: return {{"sentence1"}, {"sentence2"}, {"score", "label"}, index};
    case GlueTask::MNLI: return {{"sentence1"}, {"sentence2"}, {"gold_label", "label"}, index};
    case GlueTask::QNLI: return {{"question"}, {"sentence"}, {"label"}, index};
    case GlueTask::RTE: return {{"sentence1"}, {"sentence2"}, {"label"}, index};
    case GlueTask::WNLI: return {{"sentence1"}, {"sentence2"}, {"label"}, index};
  }
  return {};
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string trim(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// Tabs only: GLUE files are not quoted, so quotes stay part of the text.
std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    size_t tab = line.find('\t', start);
    if (tab == std::string::npos) {
      fields.push_back(line.substr(start));
      return fields;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

std::string join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : sep) + s;
  return out;
}

// Index of the first header field matching one of `names` (header already lower-cased).
std::optional<size_t> find_column(const std::vector<std::string>& header,
                                  const std::vector<std::string>& names) {
  for (const std::string& want : names)
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == want) return i;
  return std::nullopt;
}

// Where a file's fields are: resolved from its header, or CoLA's fixed header-less layout.
struct Layout {
  size_t num_fields = 0;
  size_t text_a = 0;
  std::optional<size_t> text_b, label, id;
};

}  // namespace

const std::vector<GlueTaskInfo>& glue_tasks() {
  // Locals, not namespace-scope constants, so the table is safe to build from any static
  // initialiser in another file.
  const GlueSplitFile kDev{"dev", "dev.tsv"};
  const GlueSplitFile kTest{"test", "test.tsv"};
  static const std::vector<GlueTaskInfo> tasks = {
      {GlueTask::CoLA, "CoLA", "CoLA", 2, false, {"mcc"}, {"0", "1"}, "train.tsv", {kDev}, {kTest}},
      {GlueTask::SST2, "SST-2", "SST-2", 2, false, {"accuracy"}, {"0", "1"}, "train.tsv", {kDev}, {kTest}},
      {GlueTask::MRPC, "MRPC", "MRPC", 2, true, {"f1", "accuracy"}, {"0", "1"}, "train.tsv", {kDev}, {kTest}},
      {GlueTask::QQP, "QQP", "QQP", 2, true, {"f1", "accuracy"}, {"0", "1"}, "train.tsv", {kDev}, {kTest}},
      {GlueTask::STSB, "STS-B", "STS-B", 1, true, {"pearson", "spearman"}, {}, "train.tsv", {kDev}, {kTest}},
      // Class order as the reference (BERT / transformers) processors number them.
      {GlueTask::MNLI, "MNLI", "MNLI", 3, true, {"accuracy"}, {"contradiction", "entailment", "neutral"},
       "train.tsv",
       {{"matched", "dev_matched.tsv"}, {"mismatched", "dev_mismatched.tsv"}},
       {{"matched", "test_matched.tsv"}, {"mismatched", "test_mismatched.tsv"}}},
      {GlueTask::QNLI, "QNLI", "QNLI", 2, true, {"accuracy"}, {"entailment", "not_entailment"}, "train.tsv", {kDev}, {kTest}},
      {GlueTask::RTE, "RTE", "RTE", 2, true, {"accuracy"}, {"entailment", "not_entailment"}, "train.tsv", {kDev}, {kTest}},
      {GlueTask::WNLI, "WNLI", "WNLI", 2, true, {"accuracy"}, {"0", "1"}, "train.tsv", {kDev}, {kTest}},
  };
  return tasks;
}

const GlueTaskInfo& glue_task_info(GlueTask task) {
  for (const GlueTaskInfo& t : glue_tasks())
    if (t.task == task) return t;
  throw std::logic_error("glue_task_info: unknown GlueTask value");
}

const GlueTaskInfo& glue_task_info(const std::string& name) {
  auto key = [](const std::string& s) {
    std::string k;
    for (char c : lower(s))
      if (c != '-' && c != '_') k += c;
    return k;
  };
  std::string want = key(name);
  if (want == "mnlim" || want == "mnlimm") want = "mnli";  // GLUE's names for the two MNLI dev sets
  std::string valid;
  for (const GlueTaskInfo& t : glue_tasks()) {
    if (key(t.name) == want) return t;
    valid += (valid.empty() ? "" : ", ") + t.name;
  }
  throw std::runtime_error("unknown GLUE task '" + one_line(name) + "' (expected one of " + valid + ")");
}

GlueSplit read_glue_file(GlueTask task, const std::string& path) {
  const GlueTaskInfo& info = glue_task_info(task);
  auto fail = [&](const std::string& what) {
    return std::runtime_error("GLUE " + info.name + " file '" + path + "': " + what);
  };
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) throw fail("no such file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw fail("cannot open");

  GlueSplit split;
  split.path = path;
  // A problem names the file, the line and, where one field is at fault, its column (1-based,
  // with the header's name for it), so the row can be found and fixed in an editor.
  std::vector<std::string> header_names;
  auto malformed = [&](size_t line_no, std::optional<size_t> column, const std::string& why) {
    ++split.malformed_rows;
    if (split.problems.size() >= 20) return;
    std::string where = path + ":" + std::to_string(line_no) + ":";
    if (column) {
      where += " column " + std::to_string(*column + 1);
      if (*column < header_names.size() && !header_names[*column].empty()) where += " (" + header_names[*column] + ")";
      where += ":";
    }
    split.problems.push_back(where + " " + why);
  };

  // Lines, without "\r" (in case a copy was converted to CRLF) and without the UTF-8 byte-order
  // mark that MRPC's header starts with.
  size_t line_no = 0;
  auto next_line = [&](std::string& line) {
    if (!std::getline(in, line)) return false;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line_no == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.erase(0, 3);
    return true;
  };

  std::string line;
  if (!next_line(line)) throw fail("file is empty");

  // Find the columns. CoLA's train/dev files come without a header: a CoLA file whose first
  // line already looks like data (4 fields, a 0/1 label second) is read in that fixed layout;
  // anything else must have a header naming its columns (CoLA's test.tsv, re-exports).
  Layout layout;
  bool first_line_is_data = false;
  std::vector<std::string> header = split_tabs(line);
  const bool headerless_cola = task == GlueTask::CoLA && header.size() == 4 &&
                               (trim(header[1]) == "0" || trim(header[1]) == "1");
  for (std::string& h : header) h = lower(trim(h));
  const Columns cols = columns_of(task);
  if (headerless_cola) {
    layout.num_fields = 4;  // source, label, original judgement mark, sentence
    layout.label = 1;
    layout.text_a = 3;
    first_line_is_data = true;
  } else {
    auto need = [&](const std::vector<std::string>& names) {
      auto c = find_column(header, names);
      if (!c) throw fail("line 1: header has no '" + names.front() + "' column (its columns: " + one_line(join(header), 200) + ")");
      return *c;
    };
    layout.num_fields = header.size();
    layout.text_a = need(cols.text_a);
    if (!cols.text_b.empty()) layout.text_b = need(cols.text_b);
    layout.label = find_column(header, cols.label);  // absent in test files
    layout.id = find_column(header, cols.id);
    header_names = header;
  }
  split.has_labels = layout.label.has_value();
  split.label_column = cols.label.front();

  size_t row = 0;  // 0-based data row, the id where the file has no id column
  auto read_row = [&](const std::string& text) {
    if (text.empty()) return;  // a blank line holds nothing; not worth a complaint
    const size_t this_row = row++;
    std::vector<std::string> f = split_tabs(text);
    if (f.size() != layout.num_fields) {
      malformed(line_no, std::nullopt,
                "expected " + std::to_string(layout.num_fields) + " tab-separated fields, found " +
                    std::to_string(f.size()));
      return;
    }
    GlueExample ex;
    ex.id = layout.id ? f[*layout.id] : std::to_string(this_row);
    ex.text_a = f[layout.text_a];
    if (layout.text_b) ex.text_b = f[*layout.text_b];
    if (layout.label) {
      const std::string value = trim(f[*layout.label]);
      if (info.num_classes == 1) {
        // Regression score: the whole field must be a finite number.
        errno = 0;
        char* end = nullptr;
        double s = value.empty() ? NAN : std::strtod(value.c_str(), &end);
        if (value.empty() || errno != 0 || *end != '\0' || !std::isfinite(s)) {
          malformed(line_no, layout.label, "score '" + one_line(value, 60) + "' is not a finite number");
          return;
        }
        ex.score = s;
      } else {
        auto it = std::find(info.label_names.begin(), info.label_names.end(), value);
        if (it == info.label_names.end()) {
          malformed(line_no, layout.label,
                    "unknown label '" + one_line(value, 60) + "' (expected " + join(info.label_names, " or ") + ")");
          return;
        }
        ex.label = static_cast<int>(it - info.label_names.begin());
      }
      ex.has_label = true;
    }
    split.examples.push_back(std::move(ex));
  };

  if (first_line_is_data) read_row(line);
  while (next_line(line)) read_row(line);
  if (in.bad()) throw fail("read error");
  return split;
}

GlueSplit read_glue_split(const std::string& glue_dir, GlueTask task, const std::string& file) {
  const std::filesystem::path p = std::filesystem::path(glue_dir) / glue_task_info(task).dir / file;
  return read_glue_file(task, p.string());
}

std::vector<double> glue_references(GlueTask task, const std::vector<GlueExample>& examples) {
  const bool regression = glue_task_info(task).num_classes == 1;
  std::vector<double> out;
  out.reserve(examples.size());
  for (const GlueExample& ex : examples) {
    if (!ex.has_label) throw std::runtime_error("glue_references: example '" + ex.id + "' has no label");
    out.push_back(regression ? static_cast<double>(ex.score) : static_cast<double>(ex.label));
  }
  return out;
}

}  // namespace nf
