#pragma once
// Token datasets in nanoGPT's layout (docs/formats.md, "Token files"): DIR/train.bin and
// DIR/val.bin hold raw little-endian uint16 token ids with no header, DIR/meta.json the
// tokenizer. This file prepares such a directory from a text of any size, loads a split, and
// cuts it into batches.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "data/text_source.h"
#include "io/file.h"
#include "tensor/random.h"

namespace nf {

// ---- files -----------------------------------------------------------------------------------

// Token ids as little-endian uint16, regardless of the host's byte order.
void write_tokens(const std::string& path, const std::vector<uint16_t>& tokens);

// ---- prepare ---------------------------------------------------------------------------------
// The chunk `prepare` reads and tokenizes at a time (data/chunk_reader.h), and the most text bpe
// trains on: the longest prefix of the input of at most that many bytes that ends at a cut (the
// whole input when it is shorter).
constexpr size_t kDefaultPrepareChunkBytes = size_t(1) << 20;
constexpr uint64_t kDefaultBpeTrainBytes = 16'000'000;

struct PrepareOptions {
  std::string tokenizer = "char";  // "char", "byte", "bpe" or "gpt2"
  int vocab_size = 0;              // 0 = the kind's default (tokenizer.h: build_tokenizer)
  double val_fraction = 0.1;
  std::string vocab_dir;           // gpt2's encoder.json and vocab.bpe
  uint64_t bpe_train_bytes = kDefaultBpeTrainBytes;
  int threads = 0;                 // tokenizing threads; 0 = OpenMP's count (OMP_NUM_THREADS, or one per core)
  size_t chunk_bytes = kDefaultPrepareChunkBytes;
  bool progress = false;           // a progress meter on stderr (data/progress_meter.h)
};

struct PrepareSummary {
  std::string tokenizer;     // "char", "byte", "bpe" or "gpt2"
  int vocab_size = 0;
  size_t files = 0;          // input files read (0 for text in memory)
  size_t text_bytes = 0;
  size_t text_chars = 0;     // UTF-8 code points (invalid bytes count one each)
  size_t bpe_train_bytes = 0;  // bpe: the bytes it trained on
  size_t tokens = 0;
  size_t train_tokens = 0;
  size_t val_tokens = 0;
  int threads = 0;
  double tokenizer_seconds = 0;  // building the tokenizer (char: its pass over the text; bpe:
                                 // reading the sample and training; gpt2: reading its files)
};

// Tokenizes `source` into out_dir/{train.bin,val.bin,meta.json} (creating out_dir), streaming:
// the text is read in chunks cut where the tokenizer's result cannot change
// (data/chunk_reader.h), encoded on `threads` threads, and the tokens written in order as they
// come (data/split_writer.h), so memory does not grow with the input. The tokenizer is built
// first: char from a first pass collecting the text's distinct code points, bpe by training on
// the first bpe_train_bytes, byte and gpt2 with no pass. The ids are exactly those of
// build_tokenizer(kind, whole text)->encode(whole text) (bpe: when the input is at most
// bpe_train_bytes), and the split is nanoGPT's: the first int(n·(1−val_fraction)) tokens are
// train, the rest val. Throws a one-line error on val_fraction outside [0, 1), a vocabulary
// over 65536, an empty text, unencodable text (char: invalid UTF-8), or an empty split (train,
// or val when val_fraction > 0); DIR's files are then left as they were.
PrepareSummary prepare_dataset(const TextSource& source, const std::string& out_dir,
                               const PrepareOptions& options);
// The same for text in memory.
PrepareSummary prepare_dataset(const std::string& input_text, const std::string& out_dir,
                               const std::string& tokenizer_kind, int vocab_size,
                               double val_fraction, const std::string& vocab_dir = "");

// The default corpus: the King James Bible from `bible -l100000 gen1:1-rev22:21` (Debian
// package bible-kjv). Its output is, per chapter, a blank line, a heading "Genesis 1", a
// blank line, then one line per verse "  <n> <text>" (-l100000 keeps verses unwrapped). Each
// verse's "  <n> " prefix is removed; headings and blank lines are kept, giving ~4.15 MB of
// ASCII with 73 distinct characters. Throws if the program is missing or fails.
std::string default_corpus_text();

// ---- loading ---------------------------------------------------------------------------------
// One split's token stream. Errors are one line naming the file.
class TokenData {
 public:
  TokenData() = default;
  // In-memory tokens (tests, fine-tuning); `name` stands in for the file name in errors.
  explicit TokenData(std::vector<uint16_t> tokens, std::string name = "<memory>");
  // Reads a .bin. vocab_size > 0: every id must be below it (checked once, here).
  static TokenData load(const std::string& path, int vocab_size);

  size_t size() const { return tokens_.size(); }
  const uint16_t* data() const { return tokens_.data(); }
  uint16_t operator[](size_t i) const { return tokens_[i]; }
  const std::vector<uint16_t>& tokens() const { return tokens_; }
  const std::string& name() const { return name_; }

 private:
  std::vector<uint16_t> tokens_;
  std::string name_;
};

// ---- batches ---------------------------------------------------------------------------------
enum class Sampling { Random, Sequential };
Sampling parse_sampling(const std::string& s);  // "random" | "sequential"
const char* sampling_name(Sampling s);

// Cuts (x, y) batches of B rows × T tokens from a TokenData, filling row-major int64 buffers of
// size B*T: row b is x = data[o : o+T], y = data[o+1 : o+T+1] for its window start o.
//   random:     o uniform in [0, len−T−1] (nanoGPT's torch.randint(len − T)), rows drawn in
//               order from a tensor/random.h Generator seeded with `seed`;
//   sequential: row b of batch k starts at ((k·B + b)·T) mod (len − T − 1)
//               (when len == T+1 that modulus is 0 and every window starts at 0, the only one).
// k counts calls to next(), from 0. The whole state is three uint64 (state()), so a resumed run
// draws exactly the batches the original would have. The TokenData must outlive the sampler.
class BatchSampler {
 public:
  // Throws "<file>: N tokens, fewer than block_size+1 = T+1" when no window fits.
  BatchSampler(const TokenData& data, int64_t batch_size, int64_t block_size, Sampling mode,
               uint64_t seed);

  // Fills x and y (resized to B*T) with the next batch.
  void next(std::vector<int64_t>& x, std::vector<int64_t>& y);
  // Passes over the next batch without reading it: the state moves exactly as next() moves it
  // (data parallelism: every rank walks the whole sequence of batches, each keeping its own).
  void skip();
  // The window start of row b in batch k (sequential mode's formula; no state change).
  int64_t sequential_start(uint64_t k, int64_t b) const;

  using State = std::array<uint64_t, 3>;  // {batches drawn, generator seed, generator counter}
  State state() const;
  void set_state(const State& s);

  int64_t batch_size() const { return B_; }
  int64_t block_size() const { return T_; }
  Sampling mode() const { return mode_; }

 private:
  const TokenData* data_;
  int64_t B_, T_;
  Sampling mode_;
  Generator gen_;
  uint64_t k_ = 0;
};

// Fills one row of x/y (each T long) from the window starting at o.
void fill_window(const TokenData& data, int64_t o, int64_t T, int64_t* x, int64_t* y);

// Evaluation's windows: the non-overlapping starts o = 0, T, 2T, … while o + T + 1 ≤ len.
std::vector<int64_t> eval_windows(size_t len, int64_t T);

// A uniform integer in [0, n) from the generator, without modulo bias (rejection sampling).
uint64_t uniform_below(Generator& gen, uint64_t n);

}  // namespace nf
