// Safetensors reading and writing; the format is described in safetensors.h.
#include "io/safetensors.h"

#include "io/file.h"
#include "tensor/one_line.h"


#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

namespace nf {
namespace fs = std::filesystem;
// ordered_json keeps the header's key order, so a saved file lists tensors in the order given.
using ordered_json = nlohmann::ordered_json;

// Element bytes are copied with memcpy, which is only the format's little-endian layout on a
// little-endian host. Every platform this project targets (x86-64, aarch64) is one.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "safetensors I/O assumes a little-endian host");

namespace {

// Hugging Face's reader refuses headers over 100 MB; so do we, which also bounds what a corrupt
// length field can make us allocate.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

std::runtime_error file_error(const std::string& path, const std::string& what) {
  return std::runtime_error("safetensors file '" + path + "': " + what);
}

// Byte size of a tensor, or false if shape × element size does not fit in 64 bits (a corrupt
// header can claim any shape).
bool checked_nbytes(const std::vector<int64_t>& shape, size_t elem_size, uint64_t* out) {
  uint64_t n = elem_size;
  for (int64_t d : shape) {
    if (d < 0) return false;
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return false;
  }
  *out = n;
  return true;
}

std::string shape_string(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

// One header entry, after validation.
struct Entry {
  std::string name;
  RawTensor meta;  // dtype and shape; bytes filled later
  uint64_t begin = 0, end = 0;
};

// Reads a JSON array of non-negative integers (each ≤ max); false if it is anything else.
bool read_uint_array(const ordered_json& j, uint64_t max, std::vector<uint64_t>* out) {
  if (!j.is_array()) return false;
  for (const auto& v : j) {
    if (!v.is_number_unsigned()) return false;  // rejects negatives, floats, strings
    uint64_t x = v.get<uint64_t>();
    if (x > max) return false;
    out->push_back(x);
  }
  return true;
}

Entry parse_entry(const std::string& path, const std::string& name, const ordered_json& j) {
  const std::string where = "tensor '" + one_line(name) + "': ";
  if (!j.is_object()) throw file_error(path, where + "header entry is not a JSON object");
  Entry e;
  e.name = name;

  auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) throw file_error(path, where + "missing string field 'dtype'");
  e.meta.dtype = dt->get<std::string>();
  size_t elem = safetensors_dtype_size(e.meta.dtype);
  if (elem == 0) throw file_error(path, where + "unknown dtype '" + one_line(e.meta.dtype) + "'");

  auto sh = j.find("shape");
  std::vector<uint64_t> dims;
  if (sh == j.end() || !read_uint_array(*sh, static_cast<uint64_t>(INT64_MAX), &dims))
    throw file_error(path, where + "'shape' must be an array of non-negative integers");
  e.meta.shape.assign(dims.begin(), dims.end());

  auto off = j.find("data_offsets");
  std::vector<uint64_t> offsets;
  if (off == j.end() || !read_uint_array(*off, UINT64_MAX, &offsets) || offsets.size() != 2)
    throw file_error(path, where + "'data_offsets' must be an array of two non-negative integers");
  e.begin = offsets[0];
  e.end = offsets[1];
  if (e.begin > e.end)
    throw file_error(path, where + "data_offsets [" + std::to_string(e.begin) + ", " +
                               std::to_string(e.end) + ") end before they begin");

  uint64_t nbytes = 0;
  if (!checked_nbytes(e.meta.shape, elem, &nbytes))
    throw file_error(path, where + "shape " + shape_string(e.meta.shape) + " is too large");
  if (e.end - e.begin != nbytes)
    throw file_error(path, where + "data_offsets [" + std::to_string(e.begin) + ", " +
                               std::to_string(e.end) + ") hold " + std::to_string(e.end - e.begin) +
                               " bytes but " + e.meta.dtype + " " + shape_string(e.meta.shape) +
                               " needs " + std::to_string(nbytes));
  return e;
}

}  // namespace

int64_t RawTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

const RawTensor* SafetensorsFile::find(const std::string& name) const {
  for (const auto& [n, t] : tensors)
    if (n == name) return &t;
  return nullptr;
}

const RawTensor& SafetensorsFile::at(const std::string& name) const {
  if (const RawTensor* t = find(name)) return *t;
  throw std::runtime_error("safetensors: no tensor named '" + name + "'");
}

size_t safetensors_dtype_size(const std::string& dtype) {
  // Every dtype the format defines (safetensors' Dtype enum), with its element size.
  static const std::map<std::string, size_t> sizes = {
      {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
      {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
      {"U32", 4},  {"F32", 4}, {"I64", 8}, {"U64", 8},     {"F64", 8}};
  auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

// ---- writing ------------------------------------------------------------------------------------

void save_safetensors(const std::string& path,
                      const std::vector<std::pair<std::string, RawTensor>>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  // Validate and build the whole header before touching the disk, so a bad tensor never even
  // creates the temporary file.
  ordered_json header = ordered_json::object();
  if (!metadata.empty()) {
    ordered_json m = ordered_json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    const std::string where = "tensor '" + one_line(name) + "': ";
    if (name == "__metadata__") throw file_error(path, where + "name is reserved for metadata");
    if (!seen.insert(name).second) throw file_error(path, where + "duplicate name");
    size_t elem = safetensors_dtype_size(t.dtype);
    if (elem == 0) throw file_error(path, where + "unknown dtype '" + one_line(t.dtype) + "'");
    uint64_t nbytes = 0;
    if (!checked_nbytes(t.shape, elem, &nbytes))
      throw file_error(path, where + "invalid shape " + shape_string(t.shape));
    if (nbytes != t.bytes.size())
      throw file_error(path, where + "has " + std::to_string(t.bytes.size()) + " bytes but " +
                                 t.dtype + " " + shape_string(t.shape) + " needs " +
                                 std::to_string(nbytes));
    header[name] = {{"dtype", t.dtype},
                    {"shape", t.shape},
                    {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }

  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {  // e.g. a name or value that is not UTF-8
    throw file_error(path, "cannot encode header: " + one_line(e.what()));
  }
  // Pad so the data section starts 8-byte aligned, as the format asks.
  while ((8 + text.size()) % 8 != 0) text += ' ';
  uint8_t len_le[8];
  for (int i = 0; i < 8; ++i) len_le[i] = static_cast<uint8_t>(uint64_t(text.size()) >> (8 * i));

  std::vector<std::string_view> pieces{{reinterpret_cast<const char*>(len_le), 8}, text};
  for (const auto& [name, t] : tensors)
    pieces.emplace_back(reinterpret_cast<const char*>(t.bytes.data()), t.bytes.size());
  write_file_atomic(path, pieces);  // a reader never sees half a checkpoint
}

// ---- reading ------------------------------------------------------------------------------------

SafetensorsFile load_safetensors(const std::string& path) {
  std::error_code ec;
  auto st = fs::status(path, ec);
  if (!fs::exists(st)) throw file_error(path, "no such file");
  if (!fs::is_regular_file(st)) throw file_error(path, "not a regular file");
  const uint64_t file_size = fs::file_size(path, ec);
  if (ec) throw file_error(path, "cannot get size: " + ec.message());

  std::ifstream in(path, std::ios::binary);
  if (!in) throw file_error(path, std::string("cannot open: ") + std::strerror(errno));
  if (file_size < 8)
    throw file_error(path, "file is " + std::to_string(file_size) +
                               " bytes, shorter than the 8-byte header length");

  uint8_t len_le[8];
  in.read(reinterpret_cast<char*>(len_le), 8);
  if (!in) throw file_error(path, "cannot read the header length");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(len_le[i]) << (8 * i);
  if (header_len > file_size - 8)
    throw file_error(path, "header length " + std::to_string(header_len) + " is larger than the " +
                               std::to_string(file_size - 8) + " bytes after it (truncated or not a safetensors file)");
  if (header_len > kMaxHeaderBytes)
    throw file_error(path, "header length " + std::to_string(header_len) + " exceeds the 100 MB limit");

  std::string text(header_len, '\0');
  in.read(text.data(), static_cast<std::streamsize>(header_len));
  if (!in) throw file_error(path, "cannot read the header");

  ordered_json header;
  try {
    header = ordered_json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw file_error(path, "invalid JSON header: " + one_line(e.what()));
  }
  if (!header.is_object()) throw file_error(path, "header is not a JSON object");

  SafetensorsFile file;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) throw file_error(path, "__metadata__ is not a JSON object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string())
          throw file_error(path, "__metadata__ value of '" + one_line(mk) + "' is not a string");
        file.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(path, key, value));
  }

  // The tensors must tile the data section exactly, in data-section order: each starts where
  // the previous one ended, the first at 0, the last at the end of the file. A gap, an overlap or
  // bytes left over mean the header and the data disagree (a header length off by a few bytes
  // still parses when the header ends in padding, and would shift every value), so the file is
  // refused rather than read as something it is not. Empty tensors occupy no bytes.
  std::stable_sort(entries.begin(), entries.end(),
                   [](const Entry& a, const Entry& b) { return a.begin < b.begin; });
  const uint64_t data_size = file_size - 8 - header_len;
  const Entry* prev = nullptr;
  uint64_t covered = 0;
  for (const Entry& e : entries) {
    if (e.end > data_size)
      throw file_error(path, "tensor '" + one_line(e.name) + "': data_offsets [" +
                                 std::to_string(e.begin) + ", " + std::to_string(e.end) +
                                 ") run past the " + std::to_string(data_size) +
                                 "-byte data section (truncated data?)");
    if (e.begin == e.end) continue;
    if (prev && e.begin < prev->end)
      throw file_error(path, "tensors '" + one_line(prev->name) + "' and '" + one_line(e.name) +
                                 "' have overlapping data_offsets");
    if (e.begin != covered)
      throw file_error(path, "tensor '" + one_line(e.name) + "' starts at byte " +
                                 std::to_string(e.begin) + " of the data section, but the tensors before it end at " +
                                 std::to_string(covered) + " (a gap: header and data disagree)");
    covered = e.end;
    prev = &e;
  }
  if (covered != data_size)
    throw file_error(path, "the tensors cover " + std::to_string(covered) + " of the " +
                               std::to_string(data_size) +
                               " bytes of the data section (wrong header length or trailing bytes)");

  const uint64_t data_start = 8 + header_len;
  for (Entry& e : entries) {
    RawTensor t = std::move(e.meta);
    t.bytes.resize(e.end - e.begin);
    if (!t.bytes.empty()) {
      in.seekg(static_cast<std::streamoff>(data_start + e.begin));
      in.read(reinterpret_cast<char*>(t.bytes.data()), static_cast<std::streamsize>(t.bytes.size()));
      if (!in) throw file_error(path, "tensor '" + one_line(e.name) + "': truncated data");
    }
    file.tensors.emplace_back(std::move(e.name), std::move(t));
  }
  return file;
}

// ---- typed helpers ------------------------------------------------------------------------------

namespace detail {

RawTensor make_raw_tensor(const char* dtype, std::vector<int64_t> shape, const void* data,
                          size_t count, size_t elem_size) {
  RawTensor t;
  t.dtype = dtype;
  t.shape = std::move(shape);
  uint64_t nbytes = 0;
  if (!checked_nbytes(t.shape, elem_size, &nbytes) || nbytes != count * elem_size)
    throw std::runtime_error("make_raw_tensor: " + std::to_string(count) +
                             " values do not fill shape " + shape_string(t.shape));
  t.bytes.resize(nbytes);
  if (nbytes) std::memcpy(t.bytes.data(), data, nbytes);
  return t;
}

void copy_raw_values(const RawTensor& t, const char* dtype, void* out, size_t elem_size) {
  if (t.dtype != dtype)
    throw std::runtime_error("safetensors: tensor has dtype " + t.dtype + ", expected " + dtype);
  if (t.bytes.size() % elem_size != 0)
    throw std::runtime_error("safetensors: tensor byte count is not a multiple of its dtype size");
  if (!t.bytes.empty()) std::memcpy(out, t.bytes.data(), t.bytes.size());
}

}  // namespace detail
}  // namespace nf
