// libFuzzer target: a token file (data/dataset.h TokenData::load), then batches cut from it as
// training and evaluation do. Input: bytes 0-1 = vocab_size (little-endian; 0 = unchecked),
// byte 2 = batch size (1..4), byte 3 = block size (1..64), byte 4 = sampling mode, rest = the file.
//
// Invariants: an accepted file has every id below vocab_size; every batch reads inside the data
// (ASan checks the reads) and holds only ids from the file.
#include <exception>

#include "data/dataset.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  static nf::fuzz::ScratchFile file;
  const int vocab = data[0] | (data[1] << 8);
  const int64_t B = 1 + data[2] % 4, T = 1 + data[3] % 64;
  const nf::Sampling mode = (data[4] & 1) ? nf::Sampling::Sequential : nf::Sampling::Random;
  const std::string& path = file.write(data + 5, size - 5);
  nf::TokenData tokens;
  try {
    tokens = nf::TokenData::load(path, vocab);
  } catch (const std::exception& e) {
    nf::fuzz::check_one_line("token_bin", e);
    return 0;
  }
  if (tokens.size() != (size - 5) / 2) nf::fuzz::invariant_failed("token_bin", "token count is not bytes/2");
  if (vocab > 0)
    for (uint16_t t : tokens.tokens())
      if (t >= vocab) nf::fuzz::invariant_failed("token_bin", "accepted an id >= vocab_size");

  for (int64_t o : nf::eval_windows(tokens.size(), T)) {
    std::vector<int64_t> x(T), y(T);
    nf::fill_window(tokens, o, T, x.data(), y.data());
  }
  try {
    nf::BatchSampler sampler(tokens, B, T, mode, /*seed=*/data[4]);
    std::vector<int64_t> x, y;
    for (int k = 0; k < 3; ++k) {
      sampler.next(x, y);
      for (int64_t v : x)
        if (vocab > 0 && v >= vocab) nf::fuzz::invariant_failed("token_bin", "a batch holds an id >= vocab_size");
    }
    // A resumed sampler draws the same batches.
    nf::BatchSampler resumed(tokens, B, T, mode, 0);
    resumed.set_state(sampler.state());
    std::vector<int64_t> x1, y1, x2, y2;
    sampler.next(x1, y1);
    resumed.next(x2, y2);
    if (x1 != x2 || y1 != y2) nf::fuzz::invariant_failed("token_bin", "set_state(state()) changed the next batch");
  } catch (const std::exception& e) {
    nf::fuzz::check_one_line("token_bin", e);
  }
  return 0;
}
