#pragma once
// Helpers shared by the test suites: a scratch directory per test, whole files read and written,
// reading an exception's message, small tensors from literals, one closeness measure for tensors,
// the seven attention names, a pseudo-English corpus, GPT-2 vocabularies (small ones written on
// the spot, GPT-2's own when fetched), a tiny GPT configuration and GPT-level helpers, and a
// scoped OpenMP thread count.
// Tests write every fixture they need under a TempDir (never into a folder outside the test).
#include <doctest/doctest.h>
#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "data/dataset.h"
#include "data/gpt2_tokenizer.h"
#include "data/utf8.h"
#include "models/gpt.h"
#include "models/gpt_config.h"
#include "tensor/device_hooks.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

#ifdef NOISEFORMER_CUDA
#include "tensor/kernels/cuda/cuda_backend.h"
#endif

namespace nf::test {

// A fresh, empty directory under the system temp dir, removed with its contents at scope exit.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    static int n = 0;
    path = std::filesystem::temp_directory_path() /
           ("nf_test_" + std::to_string(::getpid()) + "_" + std::to_string(n++));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  std::string file(const std::string& name) const { return (path / name).string(); }
  std::string str() const { return path.string(); }
};

// A whole file's bytes ("" if it cannot be read).
inline std::string read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}
// Writes exactly `bytes` to `path` (replacing it), creating its directory if need be.
inline void write_bytes(const std::filesystem::path& path, const std::string& bytes) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The noiseformer CLI binary, built into the same directory as the test executable.
inline std::string cli_binary() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  REQUIRE(n > 0);
  buf[n] = '\0';
  const std::filesystem::path bin = std::filesystem::path(buf).parent_path() / "noiseformer";
  REQUIRE_MESSAGE(std::filesystem::exists(bin), "noiseformer binary not found at " << bin.string());
  return bin.string();
}

// The message of the std::exception `f` throws ("" if it does not throw).
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}
inline bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// ---- tensors -----------------------------------------------------------------------------------
inline Tensor f32(const std::vector<float>& v, Shape shape) { return from_vector<float>(v, std::move(shape)); }
inline Tensor f64(const std::vector<double>& v, Shape shape) { return from_vector<double>(v, std::move(shape)); }
inline Tensor i64(const std::vector<int64_t>& v, Shape shape) { return from_vector<int64_t>(v, std::move(shape)); }
// 0, 1, 2, ... as float32 in the given shape.
inline Tensor iota(Shape shape) { return arange(shape_numel(shape), DType::F32).reshape(shape); }

// A leaf that requires grad: N(0, scale²) values drawn in float64 from Generator(seed), then
// converted to dt (so a float32 and a float64 leaf of one seed hold the same numbers, rounded).
inline Tensor leaf(Shape shape, uint64_t seed, DType dt, double scale = 1.0) {
  Generator g(seed);
  Tensor t = mul(randn(std::move(shape), g, DType::F64), scale).to(dt);
  t.requires_grad_(true);
  return t;
}
// The same values as t in a new leaf (no history, its own gradient).
inline Tensor fresh(const Tensor& t) {
  Tensor c = t.detach().clone();
  c.requires_grad_(true);
  return c;
}

// A tensor's values as doubles, in row-major order (copied to the host first if need be).
inline std::vector<double> values(const Tensor& t) {
  return (t.device() == Device::CPU ? t : t.detach().to(Device::CPU)).to_vector<double>();
}

// How far `got` is from `want`: the worst |got − want| / (1 + |want|) over all elements, an error
// relative to the size of the value that stays meaningful near 0. A NaN must meet a NaN and an
// infinity the same infinity; anything else there is an infinite error.
inline double worst_error(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double g = got[i], w = want[i];
    if (std::isnan(g) || std::isnan(w) || std::isinf(g) || std::isinf(w)) {
      const bool same = (std::isnan(g) && std::isnan(w)) || g == w;
      if (!same) return std::numeric_limits<double>::infinity();
      continue;
    }
    worst = std::max(worst, std::fabs(g - w) / (1 + std::fabs(w)));
  }
  return worst;
}
inline double worst_error(const Tensor& got, const Tensor& want) {
  REQUIRE(got.shape() == want.shape());
  return worst_error(values(got), values(want));
}
// `got` has want's shape and is within `tolerance` of it by worst_error (0: equal to the bit,
// up to the sign of zero).
inline void assert_close(const Tensor& got, const Tensor& want, double tolerance) {
  CHECK(worst_error(got, want) <= tolerance);
}

// ---- devices -----------------------------------------------------------------------------------
// A device-generic test is written once and run once per device: on the CPU always, on CUDA where
// this build has it and a GPU is present. An instance whose device is absent is counted as
// skipped, never as passed: tests/main.cpp prints the counts at the end of every run.
struct DeviceInstances {
  int cpu = 0, cuda = 0, cuda_skipped = 0;
};
inline DeviceInstances& device_instances() {
  static DeviceInstances counts;
  return counts;
}
// Why CUDA instances cannot run here.
inline std::string why_no_cuda() {
#ifdef NOISEFORMER_CUDA
  return cuda::device_description();
#else
  return "this build has no CUDA backend";
#endif
}
// f(Device::CUDA) where a GPU is present, else one skipped instance.
inline void on_cuda(const std::function<void(Device)>& f) {
  if (!device_hooks().available()) {
    ++device_instances().cuda_skipped;
    return;
  }
  ++device_instances().cuda;
  f(Device::CUDA);
}
// f(Device::CPU), then f(Device::CUDA) where a GPU is present.
inline void for_each_device(const std::function<void(Device)>& f) {
  ++device_instances().cpu;
  f(Device::CPU);
  on_cuda(f);
}

// ---- models ------------------------------------------------------------------------------------
// Every attention variant, in the order the docs list them.
inline const std::vector<std::string> kAttentions = {"base", "symmetric",   "noise-v1", "noise-v2",
                                                     "diff", "shared-diff", "selective"};

// ---- text fixtures -----------------------------------------------------------------------------
// A few lines of a play: punctuation, digits, a blank line, runs of spaces and tabs.
inline const std::string kSample =
    "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n"
    "First Citizen:\nYou are all resolved rather to die than to famish?\n\nAll:\nResolved. "
    "resolved.\n\nFirst Citizen:\nFirst, you know Caius Marcius is chief enemy to the people.\n"
    "We'll have corn at our own price. Is't a verdict? 1234 5678 -- ok!!  double  spaces\t\ttabs\n";
// Non-ASCII text: UTF-8 characters of 2, 3 and 4 bytes.
inline const std::string kUtf8 = "naïve café — 東京 😀 Ünïcödé";

// About `size` bytes of deterministic pseudo-English: 20 words, a full stop and newline now and then.
inline std::string fixture_text(uint64_t seed, size_t size) {
  const char* words[] = {"the", "king", "said", "unto", "them", "and", "it", "was", "so", "light",
                         "of",  "day",  "in",   "land", "he",   "went", "forth", "good", "evening", "morning"};
  Generator g(seed);
  std::string s;
  while (s.size() < size) {
    s += words[g.next_u64() % 20];
    s += (g.next_u64() % 9 == 0) ? ".\n" : " ";
  }
  return s;
}

// That text prepared as a char-level data directory `tmp`/data (train.bin, val.bin, meta.json).
inline std::string fixture_data(const TempDir& tmp, uint64_t seed, size_t size) {
  const std::string dir = tmp.file("data");
  prepare_dataset(fixture_text(seed, size), dir, "char", 0, 0.1);
  return dir;
}

// ---- GPT-2 vocabularies -----------------------------------------------------------------------
// A byte string spelled in GPT-2's byte alphabet, as encoder.json and vocab.bpe spell tokens.
inline std::string gpt2_spelling(const std::string& bytes) {
  std::string s;
  for (char c : bytes) s += to_utf8(gpt2_byte_char(static_cast<unsigned char>(c)));
  return s;
}

// A small vocabulary in GPT-2's file format, written to `dir`: encoder.json holds the 256
// one-byte tokens (ids in byte order), then each merge's result in merge order (ids 256, 257, …;
// a result already listed keeps its id); vocab.bpe holds "#version: 0.2" and the merges.
// Merges are given as raw bytes.
inline void write_gpt2_vocab(const std::filesystem::path& dir,
                             const std::vector<std::pair<std::string, std::string>>& merges) {
  nlohmann::ordered_json enc;
  for (int b = 0; b < 256; ++b) enc[gpt2_spelling(std::string(1, static_cast<char>(b)))] = b;
  std::string bpe = "#version: 0.2\n";
  for (const auto& [a, b] : merges) {
    const std::string joined = gpt2_spelling(a + b);
    if (!enc.contains(joined)) {
      const size_t id = enc.size();
      enc[joined] = id;
    }
    bpe += gpt2_spelling(a) + " " + gpt2_spelling(b) + "\n";
  }
  write_bytes(dir / "encoder.json", enc.dump());
  write_bytes(dir / "vocab.bpe", bpe);
}

// GPT-2's own vocabulary files: the directory named by the environment variable
// NF_GPT2_VOCAB_DIR, else the one `scripts/install-deps.sh --gpt2-vocab` fills (.cache/gpt2 in
// the source tree). "" when encoder.json or vocab.bpe is not there.
inline std::string gpt2_vocab_dir() {
  const char* env = std::getenv("NF_GPT2_VOCAB_DIR");
  const std::filesystem::path dir = env && *env ? env : NF_GPT2_VOCAB_DIR;
  if (!std::filesystem::exists(dir / "encoder.json") || !std::filesystem::exists(dir / "vocab.bpe")) return "";
  return dir.string();
}
// What a test that needs those files says when they are missing (CTest reports the gpt2 suite
// as skipped when its output holds this line).
inline std::string gpt2_skip_message() {
  const char* env = std::getenv("NF_GPT2_VOCAB_DIR");
  return std::string("skipped: GPT-2's vocabulary files (encoder.json, vocab.bpe) are not in ") +
         (env && *env ? env : NF_GPT2_VOCAB_DIR) +
         "; run scripts/install-deps.sh --gpt2-vocab or set NF_GPT2_VOCAB_DIR";
}
// Opens a test that needs GPT-2's own vocabulary: binds its directory to `dir`, or ends the test
// with the skip message when the files are missing.
#define NF_GPT2_VOCAB_OR_SKIP(dir)        \
  const std::string dir = gpt2_vocab_dir(); \
  if (dir.empty()) {                      \
    MESSAGE(gpt2_skip_message());         \
    return;                               \
  }

// The texts with GPT-2's reference ids in tests/data/gpt2 (see make-reference.sh there):
// NAME.txt, and NAME.ids.json with the ids GPT-2's encoder gives for it.
inline const char* const gpt2_fixture_names[] = {"english", "unicode", "code"};
inline std::filesystem::path gpt2_fixture_path(const std::string& file) {
  const std::filesystem::path path = std::filesystem::path(NF_SOURCE_DIR) / "tests/data/gpt2" / file;
  REQUIRE_MESSAGE(std::filesystem::exists(path), path.string());
  return path;
}
inline std::string gpt2_fixture_text(const std::string& name) { return read_bytes(gpt2_fixture_path(name + ".txt")); }
inline std::vector<int> gpt2_fixture_ids(const std::string& name) {
  return nlohmann::json::parse(read_bytes(gpt2_fixture_path(name + ".ids.json"))).get<std::vector<int>>();
}

// A GPT (2 layers unless told) small enough for gradient checks and quick training runs
// (shared-diff rank 2).
inline GPTConfig tiny_gpt(const std::string& attention, int64_t n_embd, int64_t block_size, int64_t n_head = 2,
                          int64_t vocab_size = 11, int64_t n_layer = 2) {
  GPTConfig c;
  c.n_layer = n_layer;
  c.n_head = n_head;
  c.n_embd = n_embd;
  c.block_size = block_size;
  c.vocab_size = vocab_size;
  c.attention = attention;
  c.lowrank = 2;
  return c;
}

// Token ids (B·T of them, row-major) as a (B, T) input.
inline Tensor ids(const std::vector<int64_t>& v, int64_t B, int64_t T) { return i64(v, {B, T}); }

// Deterministic pseudo-random token ids in [0, V).
inline std::vector<int64_t> random_ids(int64_t n, int64_t V, uint64_t seed) {
  Generator g(seed);
  std::vector<int64_t> out(n);
  for (auto& x : out) x = static_cast<int64_t>(g.next_u64() % static_cast<uint64_t>(V));
  return out;
}

// Adds N(0, std²) to every parameter, so attention is far from uniform and every term matters.
inline void perturb(GPT& m, double std, uint64_t seed) {
  NoGradGuard ng;
  Generator g(seed);
  for (auto& [n, t] : m.named_parameters()) t.add_(randn(t.shape(), g, t.dtype()), std);
}

// Every parameter equal, bit for bit, under the same name.
inline bool same_weights(const GPT& a, const GPT& b) {
  auto pa = a.named_parameters(), pb = b.named_parameters();
  if (pa.size() != pb.size()) return false;
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i].first != pb[i].first || values(pa[i].second) != values(pb[i].second)) return false;
  return true;
}

// The largest |a − b| over all elements (same shapes): how far two outputs are apart.
inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  REQUIRE(a.shape() == b.shape());
  std::vector<double> x = values(a), y = values(b);
  double m = 0;
  for (size_t i = 0; i < x.size(); ++i) m = std::max(m, std::fabs(x[i] - y[i]));
  return m;
}

// The model's parameter of that dotted name (fails the test when there is none).
inline Tensor param(const GPT& m, const std::string& name) {
  for (auto& [n, t] : m.named_parameters())
    if (n == name) return t;
  FAIL("no parameter " << name);
  return Tensor();
}

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// Decodes `seq` (B rows of T ids) token by token through the KV cache; logits stacked to (B, T, V).
inline Tensor decode_all(GPT& m, const std::vector<int64_t>& seq, int64_t B, int64_t T, GPTCache& cache) {
  NoGradGuard ng;
  std::vector<Tensor> steps;
  for (int64_t t = 0; t < T; ++t) {
    std::vector<int64_t> col(B);
    for (int64_t b = 0; b < B; ++b) col[b] = seq[b * T + t];
    steps.push_back(m.forward_step(ids(col, B, 1), cache));
  }
  return stack(steps, 1);
}

// Sets the OpenMP thread count for a scope.
struct Threads {
  int prev;
  explicit Threads(int n) : prev(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(prev); }
};

}  // namespace nf::test
