// libFuzzer target: one GLUE TSV file (glue/data.h read_glue_file) for one of the nine tasks,
// then glue_references and glue_metrics on what was read. Input: the first byte picks the task
// (byte % 9, in GLUE's order: CoLA SST-2 MRPC QQP STS-B MNLI QNLI RTE WNLI), the rest is the file.
//
// Invariants: malformed rows are counted, never fatal; every example read has a label in
// [0, num_classes) (classification) or a finite score (STS-B); scoring the references against
// themselves gives finite metrics or a clean error.
#include <cmath>
#include <exception>

#include "fuzz/fuzz_util.h"
#include "glue/data.h"
#include "glue/metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static nf::fuzz::ScratchFile file;
  const nf::GlueTaskInfo& info = nf::glue_tasks()[data[0] % nf::glue_tasks().size()];
  const std::string& path = file.write(data + 1, size - 1);
  nf::GlueSplit split;
  try {
    split = nf::read_glue_file(info.task, path);
  } catch (const std::exception& e) {
    nf::fuzz::check_one_line("glue_tsv", e);
    return 0;
  }
  if (split.malformed_rows < 0 || split.problems.size() > static_cast<size_t>(split.malformed_rows))
    nf::fuzz::invariant_failed("glue_tsv", "malformed row count is inconsistent");
  bool all_labelled = !split.examples.empty();
  for (const nf::GlueExample& ex : split.examples) {
    if (!ex.has_label) { all_labelled = false; continue; }
    if (info.num_classes == 1 ? !std::isfinite(ex.score)
                              : (ex.label < 0 || ex.label >= info.num_classes))
      nf::fuzz::invariant_failed("glue_tsv", "an example was read with an invalid label");
  }
  if (!all_labelled) return 0;
  try {
    const std::vector<double> refs = nf::glue_references(info.task, split.examples);
    const std::vector<double> preds(refs.rbegin(), refs.rend());
    for (const auto& set : info.dev_sets) {
      for (const auto* p : {&refs, &preds}) {
        const nf::GlueScores s = nf::glue_metrics(info.task, *p, refs, set.name);
        for (const auto& [name, v] : s.metrics)
          if (std::isinf(v)) nf::fuzz::invariant_failed("glue_tsv", "metric " + name + " is infinite");
      }
    }
  } catch (const std::exception&) {
  }
  return 0;
}
