#pragma once
// Helpers shared by the test suites: a scratch directory per test, reading an exception's
// message, a pseudo-English corpus, a tiny GPT configuration, and a scoped OpenMP thread count.
// Tests write every fixture they need under a TempDir (never into ../shared).
#include <omp.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/gpt_config.h"
#include "tensor/random.h"
#include "tensor/tensor.h"
#include "data/dataset.h"

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

// A tensor's values as doubles, in row-major order.
inline std::vector<double> values(const Tensor& t) { return t.to_vector<double>(); }

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

// A 2-layer GPT small enough for gradient checks and quick training runs (shared-diff rank 2).
inline GPTConfig tiny_gpt(const std::string& attention, int64_t n_embd, int64_t block_size, int64_t n_head = 2,
                          int64_t vocab_size = 11) {
  GPTConfig c;
  c.n_layer = 2;
  c.n_head = n_head;
  c.n_embd = n_embd;
  c.block_size = block_size;
  c.vocab_size = vocab_size;
  c.attention = attention;
  c.lowrank = 2;
  return c;
}

// Sets the OpenMP thread count for a scope.
struct Threads {
  int prev;
  explicit Threads(int n) : prev(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(prev); }
};

}  // namespace nf::test
