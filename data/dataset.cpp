#include "data/dataset.h"

#include <omp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>

#include "data/chunk_reader.h"
#include "data/ordered_pipeline.h"
#include "data/progress_meter.h"
#include "data/split_writer.h"
#include "data/tokenizer.h"
#include "data/utf8.h"

namespace nf {

namespace {
// Ids as the bytes of little-endian uint16 (the caller has checked that they fit).
template <class Id>
std::string little_endian_uint16(const std::vector<Id>& ids) {
  std::string bytes(ids.size() * 2, '\0');
  for (size_t i = 0; i < ids.size(); ++i) {
    bytes[2 * i] = static_cast<char>(ids[i] & 0xFF);
    bytes[2 * i + 1] = static_cast<char>((ids[i] >> 8) & 0xFF);
  }
  return bytes;
}
}  // namespace

// ---- files -----------------------------------------------------------------------------------
void write_tokens(const std::string& path, const std::vector<uint16_t>& tokens) {
  write_file_atomic(path, little_endian_uint16(tokens));
}

// ---- prepare ---------------------------------------------------------------------------------
namespace {

using Clock = std::chrono::steady_clock;

// Code points as CharTokenizer counts them: every byte that is not a UTF-8 continuation byte.
size_t count_code_points(std::string_view text) {
  size_t n = 0;
  for (char c : text)
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
  return n;
}

// The distinct code points of one chunk, or where its first malformed UTF-8 is.
struct CharsSeen {
  std::array<bool, 128> ascii{};
  std::set<char32_t> others;
  int64_t invalid_at = -1;  // byte offset in the whole text
};

CharsSeen chars_of(const TextChunk& chunk) {
  CharsSeen seen;
  const std::string& t = chunk.text;
  for (size_t pos = 0; pos < t.size();) {
    const auto b = static_cast<unsigned char>(t[pos]);
    if (b < 0x80) {
      seen.ascii[b] = true;
      ++pos;
      continue;
    }
    const size_t at = pos;
    char32_t cp;
    if (!next_code_point(t, pos, cp)) {
      seen.invalid_at = static_cast<int64_t>(chunk.offset + at);
      break;
    }
    seen.others.insert(cp);
  }
  return seen;
}

// char: a pass over the text collecting its distinct code points; then the vocabulary is built
// from them written out once each, which gives the one the whole text would give (sorted,
// distinct) and build_tokenizer's own checks.
std::unique_ptr<Tokenizer> char_tokenizer_of(const TextSource& source, const PrepareOptions& opt, int threads) {
  ChunkReader reader(source, CutRule::CodePoint, opt.chunk_bytes);
  ProgressMeter meter("characters", source.total_bytes(), opt.progress);
  std::array<bool, 128> ascii{};
  std::set<char32_t> others;
  for_each_chunk_in_order<CharsSeen>(reader, threads, chars_of, [&](TextChunk&& chunk, CharsSeen&& seen) {
    if (seen.invalid_at >= 0)  // the message CharTokenizer::from_text gives for the whole text
      throw std::runtime_error("the corpus is not valid UTF-8 (byte offset " + std::to_string(seen.invalid_at) +
                               "); use --tokenizer byte or bpe");
    for (size_t c = 0; c < 128; ++c) ascii[c] = ascii[c] || seen.ascii[c];
    others.insert(seen.others.begin(), seen.others.end());
    meter.update(chunk.offset + chunk.text.size());
  });
  meter.finish();
  std::string alphabet;
  for (char32_t c = 0; c < 128; ++c)
    if (ascii[c]) alphabet += static_cast<char>(c);
  for (char32_t c : others) alphabet += to_utf8(c);
  return build_tokenizer("char", alphabet, opt.vocab_size);
}

// bpe: trained on the longest prefix of at most bpe_train_bytes that ends at a cut: the first
// chunk of a reader whose chunks are that long.
std::unique_ptr<Tokenizer> bpe_tokenizer_of(const TextSource& source, const PrepareOptions& opt,
                                            PrepareSummary& sum) {
  TextChunk sample;
  ChunkReader reader(source, CutRule::Words, static_cast<size_t>(opt.bpe_train_bytes));
  reader.next(sample);
  sum.bpe_train_bytes = sample.text.size();
  if (opt.progress)
    std::fprintf(stderr, "training bpe (vocab %d) on %s%zu bytes...\n", opt.vocab_size ? opt.vocab_size : 1024,
                 sample.text.size() < source.total_bytes() ? "the first " : "", sample.text.size());
  return build_tokenizer("bpe", sample.text, opt.vocab_size);
}

}  // namespace

PrepareSummary prepare_dataset(const TextSource& source, const std::string& out_dir,
                               const PrepareOptions& opt) {
  if (!(opt.val_fraction >= 0.0 && opt.val_fraction < 1.0))
    throw std::runtime_error("--val-fraction must be in [0, 1), got " + std::to_string(opt.val_fraction));
  if (opt.vocab_size > 65536)
    throw std::runtime_error("--vocab-size " + std::to_string(opt.vocab_size) +
                             " is over 65536, the most uint16 token files can hold");
  if (opt.bpe_train_bytes == 0) throw std::runtime_error("--bpe-train-bytes must be positive");
  const CutRule rule = cut_rule_for(opt.tokenizer);
  // Flags the tokenizer refuses are refused before any pass over the text.
  if (opt.tokenizer != "gpt2" && !opt.vocab_dir.empty()) build_tokenizer(opt.tokenizer, "", 0, opt.vocab_dir);
  if (source.total_bytes() == 0) throw std::runtime_error("the input text is empty");

  PrepareSummary sum;
  sum.files = source.file_count();
  sum.text_bytes = source.total_bytes();
  sum.threads = opt.threads > 0 ? opt.threads : omp_get_max_threads();

  const Clock::time_point t0 = Clock::now();
  std::unique_ptr<Tokenizer> tok;
  if (opt.tokenizer == "char") tok = char_tokenizer_of(source, opt, sum.threads);
  else if (opt.tokenizer == "bpe") tok = bpe_tokenizer_of(source, opt, sum);
  else tok = build_tokenizer(opt.tokenizer, "", opt.vocab_size, opt.vocab_dir);
  sum.tokenizer_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  sum.tokenizer = tok->name();
  sum.vocab_size = tok->vocab_size();
  if (sum.vocab_size > 65536)
    throw std::runtime_error("the " + sum.tokenizer + " vocabulary has " + std::to_string(sum.vocab_size) +
                             " ids, over the 65536 uint16 token files can hold");

  // reader -> encode (in parallel) -> writer (in order)
  struct Encoded {
    std::string token_bytes;
    size_t chars = 0;
  };
  SplitTokenWriter writer(out_dir);
  ChunkReader reader(source, rule, opt.chunk_bytes);
  ProgressMeter meter("encoding", source.total_bytes(), opt.progress);
  const Tokenizer& encoder = *tok;
  for_each_chunk_in_order<Encoded>(
      reader, sum.threads,
      [&](const TextChunk& chunk) {
        return Encoded{little_endian_uint16(encoder.encode(chunk.text)), count_code_points(chunk.text)};
      },
      [&](TextChunk&& chunk, Encoded&& e) {
        writer.append(e.token_bytes);
        sum.text_chars += e.chars;
        meter.update(chunk.offset + chunk.text.size());
      });
  meter.finish();

  // meta.json last: its presence marks a complete directory.
  const SplitCounts counts = writer.commit(opt.val_fraction, tok->to_meta_json().dump() + "\n");
  sum.tokens = counts.tokens;
  sum.train_tokens = counts.train_tokens;
  sum.val_tokens = counts.val_tokens;
  return sum;
}

PrepareSummary prepare_dataset(const std::string& input_text, const std::string& out_dir,
                               const std::string& tokenizer_kind, int vocab_size,
                               double val_fraction, const std::string& vocab_dir) {
  PrepareOptions opt;
  opt.tokenizer = tokenizer_kind;
  opt.vocab_size = vocab_size;
  opt.val_fraction = val_fraction;
  opt.vocab_dir = vocab_dir;
  return prepare_dataset(TextSource::from_string(input_text, "<memory>"), out_dir, opt);
}

std::string default_corpus_text() {
  const char* cmd = "bible -l100000 gen1:1-rev22:21 2>/dev/null";
  FILE* pipe = ::popen(cmd, "r");
  if (!pipe) throw std::runtime_error("cannot run `bible` for the default corpus");
  std::string raw;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0) raw.append(buf, n);
  const int status = ::pclose(pipe);
  const int code = (status != -1 && WIFEXITED(status)) ? WEXITSTATUS(status) : -1;
  if (code == 127)  // the shell's "command not found"
    throw std::runtime_error(
        "the default corpus needs the program `bible`: install bible-kjv: scripts/install-deps.sh "
        "(or pass --input FILE.txt)");
  if (code != 0 || raw.empty())
    throw std::runtime_error("`" + std::string(cmd) + "` failed (exit status " +
                             std::to_string(code) + "); is bible-kjv installed correctly?");

  // Strip each verse line's "  <n> " reference; everything else passes through unchanged.
  std::string text;
  text.reserve(raw.size());
  size_t pos = 0;
  while (pos < raw.size()) {
    size_t eol = raw.find('\n', pos);
    if (eol == std::string::npos) eol = raw.size();
    size_t i = pos;
    while (i < eol && raw[i] == ' ') ++i;
    const size_t digits = i;
    while (i < eol && raw[i] >= '0' && raw[i] <= '9') ++i;
    const bool verse = i > digits && digits > pos && i < eol && raw[i] == ' ';
    const size_t start = verse ? i + 1 : pos;
    text.append(raw, start, eol - start);
    if (eol < raw.size()) text += '\n';
    pos = eol + 1;
  }
  return text;
}

// ---- loading ---------------------------------------------------------------------------------
TokenData::TokenData(std::vector<uint16_t> tokens, std::string name)
    : tokens_(std::move(tokens)), name_(std::move(name)) {}

TokenData TokenData::load(const std::string& path, int vocab_size) {
  const std::string bytes = read_file(path);
  if (bytes.size() % 2 != 0)
    throw std::runtime_error(path + ": odd length " + std::to_string(bytes.size()) +
                             " bytes; not a uint16 token file");
  std::vector<uint16_t> tokens(bytes.size() / 2);
  for (size_t i = 0; i < tokens.size(); ++i)
    tokens[i] = static_cast<uint16_t>(static_cast<unsigned char>(bytes[2 * i]) |
                                      (static_cast<unsigned char>(bytes[2 * i + 1]) << 8));
  if (vocab_size > 0) {
    for (size_t i = 0; i < tokens.size(); ++i)
      if (tokens[i] >= vocab_size)
        throw std::runtime_error(path + ": token id " + std::to_string(tokens[i]) +
                                 " at position " + std::to_string(i) + " is >= vocab_size " +
                                 std::to_string(vocab_size));
  }
  return TokenData(std::move(tokens), path);
}

// ---- batches ---------------------------------------------------------------------------------
Sampling parse_sampling(const std::string& s) {
  if (s == "random") return Sampling::Random;
  if (s == "sequential") return Sampling::Sequential;
  throw std::runtime_error("unknown sampling '" + s + "' (expected random or sequential)");
}

const char* sampling_name(Sampling s) {
  return s == Sampling::Random ? "random" : "sequential";
}

uint64_t uniform_below(Generator& gen, uint64_t n) {
  // Accept only draws below the largest multiple of n that fits in 2^64, so every residue is
  // equally likely; (2^64 − n) mod n == 2^64 mod n is the count of rejected values.
  const uint64_t reject_below = (0 - n) % n;
  for (;;) {
    const uint64_t r = gen.next_u64();
    if (r >= reject_below) return r % n;
  }
}

BatchSampler::BatchSampler(const TokenData& data, int64_t batch_size, int64_t block_size,
                           Sampling mode, uint64_t seed)
    : data_(&data), B_(batch_size), T_(block_size), mode_(mode), gen_(seed) {
  if (B_ <= 0 || T_ <= 0)
    throw std::runtime_error("batch size and block size must be positive (got " +
                             std::to_string(B_) + ", " + std::to_string(T_) + ")");
  if (data.size() < static_cast<size_t>(T_) + 1)
    throw std::runtime_error(data.name() + ": " + std::to_string(data.size()) +
                             " tokens, fewer than block_size+1 = " + std::to_string(T_ + 1));
}

int64_t BatchSampler::sequential_start(uint64_t k, int64_t b) const {
  const uint64_t m = data_->size() - static_cast<uint64_t>(T_) - 1;  // len − T − 1
  if (m == 0) return 0;
  // ((k·B + b)·T) mod m in uint64: exact while k·B·T < 2^64, i.e. for any real run.
  return static_cast<int64_t>(((k * B_ + b) * static_cast<uint64_t>(T_)) % m);
}

void fill_window(const TokenData& data, int64_t o, int64_t T, int64_t* x, int64_t* y) {
  const uint16_t* src = data.data() + o;
  for (int64_t t = 0; t < T; ++t) {
    x[t] = src[t];
    y[t] = src[t + 1];
  }
}

void BatchSampler::next(std::vector<int64_t>& x, std::vector<int64_t>& y) {
  x.resize(static_cast<size_t>(B_ * T_));
  y.resize(static_cast<size_t>(B_ * T_));
  const uint64_t n_starts = data_->size() - static_cast<uint64_t>(T_);  // starts 0 … len−T−1
  for (int64_t b = 0; b < B_; ++b) {
    const int64_t o = mode_ == Sampling::Random
                          ? static_cast<int64_t>(uniform_below(gen_, n_starts))
                          : sequential_start(k_, b);
    fill_window(*data_, o, T_, x.data() + b * T_, y.data() + b * T_);
  }
  ++k_;
}

void BatchSampler::skip() {
  if (mode_ == Sampling::Random) {
    const uint64_t n_starts = data_->size() - static_cast<uint64_t>(T_);
    for (int64_t b = 0; b < B_; ++b) uniform_below(gen_, n_starts);  // the draws next() makes
  }
  ++k_;
}

BatchSampler::State BatchSampler::state() const { return {k_, gen_.seed(), gen_.counter()}; }

void BatchSampler::set_state(const State& s) {
  k_ = s[0];
  gen_.set_state(s[1], s[2]);
}

std::vector<int64_t> eval_windows(size_t len, int64_t T) {
  if (T <= 0) throw std::runtime_error("block size must be positive");
  std::vector<int64_t> starts;
  for (size_t o = 0; o + static_cast<size_t>(T) + 1 <= len; o += static_cast<size_t>(T))
    starts.push_back(static_cast<int64_t>(o));
  return starts;
}

}  // namespace nf
