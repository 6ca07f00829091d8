#pragma once
// Reading and writing the Hugging Face safetensors format, independent of nf::Tensor.
//
// Layout of a file:
//   bytes [0, 8)        header length N, unsigned 64-bit little-endian
//   bytes [8, 8+N)      UTF-8 JSON object, padded with spaces so that 8+N is a multiple of 8:
//                         {"__metadata__": {"key": "value", ...},            (optional)
//                          "name": {"dtype": "F32", "shape": [2, 3],
//                                   "data_offsets": [begin, end]}, ...}
//   bytes [8+N, EOF)    the data section; each tensor's bytes are [begin, end) relative to its
//                       start, row-major, little-endian.
//
// The checkpoint code converts between nf::Tensor and RawTensor; this file knows only bytes, so
// it can be tested (and fuzzed) on its own.
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace nf {

// One tensor as stored in the file: dtype name as safetensors spells it ("F32", "F64", "I64",
// "U16", "BF16", ...), the shape, and the raw little-endian element bytes in row-major order.
struct RawTensor {
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  int64_t numel() const;  // product of shape (1 for a scalar with shape [])
};

// Everything a file holds. Tensors are in data-section order (which is the order they were saved
// in, for files this library writes).
struct SafetensorsFile {
  std::map<std::string, std::string> metadata;
  std::vector<std::pair<std::string, RawTensor>> tensors;

  // nullptr when there is no tensor of that name.
  const RawTensor* find(const std::string& name) const;
  // Throws std::runtime_error naming the missing tensor.
  const RawTensor& at(const std::string& name) const;
};

// Bytes per element of a safetensors dtype name; 0 for a name the format does not define.
size_t safetensors_dtype_size(const std::string& dtype);

// Writes `tensors` (in this order) and `metadata` to `path`. The bytes go to `path + ".tmp"`,
// which is fsync'ed and then renamed over `path`, so a crash or error never leaves a partly
// written file under `path`. Throws std::runtime_error (one line, naming the file) on a bad
// tensor (unknown dtype, byte count not dtype size × numel, duplicate or reserved name) or an
// I/O failure; in that case `path` is untouched and the temporary file is removed.
void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, RawTensor>>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

// Reads and validates a whole file. Every problem — missing file, file shorter than 8 bytes,
// header length past the end of the file, invalid JSON, a malformed entry, an unknown dtype,
// offsets that are out of range, overlap, or do not match dtype size × numel, truncated data —
// is a std::runtime_error with a one-line message that names the file. Never crashes on corrupt
// input.
SafetensorsFile load_safetensors(const std::string& path);

// ---- typed helpers: C++ element type <-> safetensors dtype -------------------------------------
template <class T> struct SafetensorsDtypeOf;  // undefined for types the format lacks
template <> struct SafetensorsDtypeOf<float> { static constexpr const char* name = "F32"; };
template <> struct SafetensorsDtypeOf<double> { static constexpr const char* name = "F64"; };
template <> struct SafetensorsDtypeOf<int64_t> { static constexpr const char* name = "I64"; };
template <> struct SafetensorsDtypeOf<uint64_t> { static constexpr const char* name = "U64"; };
template <> struct SafetensorsDtypeOf<int32_t> { static constexpr const char* name = "I32"; };
template <> struct SafetensorsDtypeOf<uint32_t> { static constexpr const char* name = "U32"; };
template <> struct SafetensorsDtypeOf<uint16_t> { static constexpr const char* name = "U16"; };
template <> struct SafetensorsDtypeOf<uint8_t> { static constexpr const char* name = "U8"; };

namespace detail {
// Untyped halves of the helpers below, so the byte copying lives in the .cpp.
RawTensor make_raw_tensor(const char* dtype, std::vector<int64_t> shape, const void* data,
                          size_t count, size_t elem_size);
void copy_raw_values(const RawTensor& t, const char* dtype, void* out, size_t elem_size);
}  // namespace detail

// A RawTensor holding `values` (row-major) with the given shape; throws if the sizes disagree.
template <class T>
RawTensor make_raw_tensor(std::vector<int64_t> shape, const std::vector<T>& values) {
  return detail::make_raw_tensor(SafetensorsDtypeOf<T>::name, std::move(shape), values.data(),
                                 values.size(), sizeof(T));
}

// The elements of `t` as T; throws if t.dtype is not T's dtype.
template <class T>
std::vector<T> raw_tensor_values(const RawTensor& t) {
  std::vector<T> out(t.bytes.size() / sizeof(T));
  detail::copy_raw_values(t, SafetensorsDtypeOf<T>::name, out.data(), sizeof(T));
  return out;
}

}  // namespace nf
