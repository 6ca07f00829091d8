#pragma once
// GLUE fine-tuning and evaluation of a pre-trained GPT (the NoiseFormer paper's protocol;
// docs/glue.md): tokenise with the checkpoint's own tokenizer, fine-tune the GPT with a
// SequenceClassifier head on <task>/train.tsv, score every dev set after each epoch with the
// metrics GLUE reports, write the final epoch's predictions. Several tasks, checkpoints and seeds
// with a table of the results: glue/sweep.h.
//
// Input encoding (GlueEncoder):
//   single sentence   tokens(sentence)
//   sentence pair     tokens(sentence1) + [SEP] + tokens(sentence2)
//   [SEP] is the tokenizer's encoding of "\n" when that is one token (always for byte and bpe;
//   for char when the corpus had newlines), else id 0. An input that comes out empty is [SEP].
//   Text the tokenizer never saw uses Tokenizer::encode_lossy (char: unseen characters become
//   the fallback id, ' ' if the vocabulary has it, else 0).
// Truncation, when an input is longer than block_size:
//   single: keep the first block_size tokens;
//   pair:   remove tokens from the END of the currently longer sentence, one at a time (sentence2
//           on a tie), until tokens(s1) + tokens(s2) fit in block_size − 1; [SEP] always stays.
//           (Hugging Face's "longest_first".)
// Batches are right-padded to their longest row with [SEP]; the head reads each row's last real
// token, which causal attention keeps independent of the padding.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "glue/data.h"
#include "glue/metrics.h"
#include "data/tokenizer.h"

namespace nf {

class GlueEncoder {
 public:
  GlueEncoder(const Tokenizer& tok, int64_t block_size);
  // The input ids of one example (never empty, at most block_size). `truncated` (optional) is
  // set when tokens were dropped.
  std::vector<int64_t> encode(const GlueExample& ex, bool pair, bool* truncated = nullptr) const;
  int64_t sep_id() const { return sep_; }
  int64_t block_size() const { return block_; }

 private:
  const Tokenizer& tok_;
  int64_t block_, sep_;
};

// The pair truncation rule above, on its own: shortens a and b until a.size() + b.size() <= budget.
void truncate_longest_first(std::vector<int>& a, std::vector<int>& b, size_t budget);

struct GlueOptions {
  std::string task;        // any name glue_task_info() accepts
  std::string glue_dir;    // <glue_dir>/<TASK>/{train,dev}.tsv
  std::string checkpoint;  // pre-trained model (.safetensors with its tokenizer in the metadata)
  std::string out_dir;     // predictions_<set>.tsv and metrics.json go here ("" = write nothing)
  std::string device = "cpu";
  int64_t epochs = 3;
  int64_t batch_size = 16;
  double lr = 1e-4;
  double warmup = 0.1;        // fraction of all optimizer steps spent warming up, in [0, 1)
  double weight_decay = 0.01;
  double grad_clip = 1.0;     // global-norm clip (0: off)
  uint64_t seed = 1337;
  int64_t max_train = 0;      // use at most this many training examples, a seeded random subset (0: all)
  bool quiet = false;         // no progress lines on stderr
  bool skip_malformed = false;  // leave out rows that cannot be read (counted in metrics.json) instead of stopping
};

struct GlueDevResult {
  GlueScores scores;                 // GLUE's metrics for this dev set (final epoch)
  GlueScores majority;               // the same metrics for "always the majority training class"
  std::string predictions_file;      // "" when out_dir is empty
  std::vector<double> predictions;   // class ids, or STS-B scores
};

struct GlueRunResult {
  std::string task;                  // GLUE's name, e.g. "SST-2"
  std::vector<GlueDevResult> dev;    // one per dev set (MNLI: matched, mismatched)
  double score = 0;                  // glue_task_score over the dev sets
  nlohmann::ordered_json summary;    // the JSON line `noiseformer glue` prints, and metrics.json
};

// Runs the whole protocol. Errors (missing files, a checkpoint without tokenizer, bad options)
// throw one-line std::runtime_error / std::invalid_argument.
GlueRunResult run_glue(const GlueOptions& opt);

// What run_glue would read, checked without training; both throw run_glue's one-line errors.
// `glue --all` calls them for every task and checkpoint before its first run.
// The options and the task's train and dev files (opt.checkpoint is not looked at):
void check_glue_task_files(const GlueOptions& opt);
// The checkpoint loads (config, weights) and carries a tokenizer matching its vocabulary:
void check_glue_checkpoint(const std::string& path);

}  // namespace nf
