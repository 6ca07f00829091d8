// libFuzzer target: a whole safetensors file -> load_safetensors (io/safetensors.h), then each
// F32/F64 tensor -> nf::Tensor through from_raw (io/checkpoint.h), as load_model does.
// Seeds: tiny real checkpoints and training-state files (fuzz/make-seeds.sh).
//
// Invariants on an accepted file: every tensor's bytes match its dtype and shape, and the tensors
// cover the data section exactly, from 0 to its end (so a header length shifted by a few bytes,
// which would read every tensor shifted, is refused); from_raw keeps the element count.
#include <algorithm>
#include <exception>

#include "fuzz/fuzz_util.h"
#include "io/checkpoint.h"
#include "io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nf::fuzz::ScratchFile file;
  const std::string& path = file.write(data, size);
  nf::SafetensorsFile f;
  try {
    f = nf::load_safetensors(path);
  } catch (const std::exception& e) {
    nf::fuzz::check_one_line("safetensors", e);
    return 0;  // a clean error is the correct answer to a bad file
  }
  // What the reader promises about a file it accepted.
  for (const auto& [name, t] : f.tensors) {
    const size_t elem = nf::safetensors_dtype_size(t.dtype);
    if (elem == 0) nf::fuzz::invariant_failed("safetensors", "accepted unknown dtype " + t.dtype);
    uint64_t n = elem;
    for (int64_t d : t.shape) {
      if (d < 0) nf::fuzz::invariant_failed("safetensors", "accepted a negative dimension");
      if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n))
        nf::fuzz::invariant_failed("safetensors", "accepted a shape whose byte size overflows");
    }
    if (n != t.bytes.size())
      nf::fuzz::invariant_failed("safetensors", "tensor '" + name + "' holds " +
                                                    std::to_string(t.bytes.size()) + " bytes, shape needs " +
                                                    std::to_string(n));
  }
  {
    uint64_t header_len = 0;
    for (int i = 0; i < 8; ++i) header_len |= uint64_t(data[i]) << (8 * i);
    uint64_t covered = 0;
    for (const auto& [name, t] : f.tensors) covered += t.bytes.size();
    if (covered != size - 8 - header_len)
      nf::fuzz::invariant_failed("safetensors", "the tensors hold " + std::to_string(covered) +
                                                    " bytes of a " + std::to_string(size - 8 - header_len) +
                                                    "-byte data section (gaps or trailing bytes accepted)");
  }
  for (const auto& [name, t] : f.tensors) {
    try {
      nf::Tensor x = nf::from_raw(t, path, name);
      if (static_cast<size_t>(x.numel()) * (t.dtype == "F64" ? 8 : 4) != t.bytes.size())
        nf::fuzz::invariant_failed("safetensors", "from_raw changed the element count of '" + name + "'");
    } catch (const std::exception&) {
    }
  }
  return 0;
}
