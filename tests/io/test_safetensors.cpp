// Safetensors I/O: round trips, the exact byte layout, every kind of corrupt file, and that a
// failed save never leaves a partial file behind.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>

#include "io/safetensors.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using nf::RawTensor;

using namespace nf::test;

namespace {

// A file assembled by hand: length prefix + header text (padded to 8) + data bytes.
std::string make_file(std::string header, const std::string& data) {
  while ((8 + header.size()) % 8) header += ' ';
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  return out + header + data;
}

// The message load_safetensors throws for this file content ("" if it loads).
std::string load_error(const TempDir& dir, const std::string& bytes) {
  const std::string path = dir.file("bad.safetensors");
  write_bytes(path, bytes);
  try {
    nf::load_safetensors(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::vector<std::pair<std::string, RawTensor>> sample_tensors() {
  return {
      {"transformer.wte.weight", nf::make_raw_tensor<float>({2, 3}, {1.5f, -2.f, 3.25f, 0.f, -0.f, 1e-30f})},
      {"f64", nf::make_raw_tensor<double>({3}, {3.141592653589793, -1e300, 2.0})},
      {"step", nf::make_raw_tensor<int64_t>({}, {int64_t(1) << 40})},  // a scalar: shape []
      {"rng", nf::make_raw_tensor<int64_t>({2, 2}, {-1, 0, INT64_MAX, INT64_MIN})},
      {"empty", nf::make_raw_tensor<float>({0, 4}, {})},
  };
}

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("safetensors round trip keeps F32/F64/I64 values, shapes, order and metadata") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors");
    const auto tensors = sample_tensors();
    const std::map<std::string, std::string> meta = {
        {"config", R"({"n_layer":6,"attention":"base","note":"quote \" and tab \t"})"},
        {"unicode", "caf\xC3\xA9"}};
    nf::save_safetensors(path, tensors, meta);

    const nf::SafetensorsFile f = nf::load_safetensors(path);
    CHECK(f.metadata == meta);
    REQUIRE(f.tensors.size() == tensors.size());
    for (size_t i = 0; i < tensors.size(); ++i) {
      CHECK(f.tensors[i].first == tensors[i].first);
      CHECK(f.tensors[i].second.dtype == tensors[i].second.dtype);
      CHECK(f.tensors[i].second.shape == tensors[i].second.shape);
      CHECK(f.tensors[i].second.bytes == tensors[i].second.bytes);  // bit-exact, incl. -0 and denormals
    }
    CHECK(nf::raw_tensor_values<double>(f.at("f64"))[0] == 3.141592653589793);
    CHECK(nf::raw_tensor_values<int64_t>(f.at("rng"))[3] == INT64_MIN);
    CHECK(f.at("step").numel() == 1);
    CHECK(f.find("missing") == nullptr);
    CHECK_THROWS_AS(f.at("missing"), std::runtime_error);
    CHECK_THROWS_AS(nf::raw_tensor_values<float>(f.at("f64")), std::runtime_error);  // dtype mismatch
  }

  TEST_CASE("safetensors without metadata and with no tensors") {
    TempDir dir;
    const std::string path = dir.file("empty.safetensors");
    nf::save_safetensors(path, {}, {});
    const nf::SafetensorsFile f = nf::load_safetensors(path);
    CHECK(f.tensors.empty());
    CHECK(f.metadata.empty());
    CHECK(read_bytes(path).size() == 16);  // 8-byte length + "{}" padded to 8
  }

  TEST_CASE("saved file has the exact Hugging Face layout, header padded to 8 bytes") {
    TempDir dir;
    const std::string path = dir.file("layout.safetensors");
    const auto tensors = sample_tensors();
    nf::save_safetensors(path, tensors, {{"config", "{}"}});
    const std::string bytes = read_bytes(path);

    REQUIRE(bytes.size() >= 8);
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= uint64_t(static_cast<uint8_t>(bytes[i])) << (8 * i);
    CHECK((8 + n) % 8 == 0);
    const std::string header = bytes.substr(8, n);
    CHECK(header.front() == '{');
    // Padding is spaces only, after the JSON object.
    const size_t close = header.find_last_of('}');
    CHECK(header.find_first_not_of(' ', close + 1) == std::string::npos);

    const auto j = nlohmann::json::parse(header);
    CHECK(j["__metadata__"]["config"] == "{}");
    // data_offsets are relative to the byte after the header, packed in save order.
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
      const auto& e = j.at(name);
      CHECK(e["dtype"] == t.dtype);
      CHECK(e["shape"].get<std::vector<int64_t>>() == t.shape);
      CHECK(e["data_offsets"][0].get<uint64_t>() == offset);
      offset += t.bytes.size();
      CHECK(e["data_offsets"][1].get<uint64_t>() == offset);
      CHECK(bytes.compare(8 + n + offset - t.bytes.size(), t.bytes.size(),
                          std::string(t.bytes.begin(), t.bytes.end())) == 0);
    }
    CHECK(bytes.size() == 8 + n + offset);
  }

  TEST_CASE("a file written by another writer loads (hand-built bytes, unsorted header)") {
    TempDir dir;
    // Header keys not in data order, as Hugging Face's writer produces (it sorts its JSON keys).
    float a[2] = {1.0f, 2.0f};
    uint16_t b[3] = {7, 8, 9};
    std::string data(reinterpret_cast<char*>(a), 8);
    data += std::string(reinterpret_cast<char*>(b), 6);
    const std::string header =
        R"({"__metadata__":{"format":"pt"},"z":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
        R"("a":{"dtype":"U16","shape":[3],"data_offsets":[8,14]}})";
    write_bytes(dir.file("x.safetensors"), make_file(header, data));
    const auto f = nf::load_safetensors(dir.file("x.safetensors"));
    CHECK(f.metadata.at("format") == "pt");
    REQUIRE(f.tensors.size() == 2);
    CHECK(f.tensors[0].first == "z");  // data-section order
    CHECK(nf::raw_tensor_values<float>(f.at("z")) == std::vector<float>{1.0f, 2.0f});
    CHECK(nf::raw_tensor_values<uint16_t>(f.at("a")) == std::vector<uint16_t>{7, 8, 9});
  }

  TEST_CASE("corrupt or invalid files give a one-line error naming the file and the problem") {
    TempDir dir;
    const std::string good_path = dir.file("good.safetensors");
    nf::save_safetensors(good_path, sample_tensors(), {{"config", "{}"}});
    const std::string good = read_bytes(good_path);
    const std::string f32x2 = std::string(8, '\0');  // two float zeros

    struct Case {
      const char* what;
      std::string bytes;
      const char* expect;
    };
    const std::vector<Case> cases = {
        {"empty file", "", "shorter than the 8-byte"},
        {"5-byte file", "\x10\0\0\0\0", "shorter than the 8-byte"},
        {"header length past end", std::string("\xff\0\0\0\0\0\0\0{}", 10), "header length 255"},
        {"huge header length", std::string(8, '\xff') + "{}", "header length"},
        {"invalid JSON", make_file(R"({"a": {"dtype": )", ""), "invalid JSON"},
        {"JSON not an object", make_file("[1, 2]", ""), "not a JSON object"},
        {"not UTF-8", make_file("{\"\xff\":1}", ""), "invalid JSON"},
        {"entry not an object", make_file(R"({"a":5})", ""), "not a JSON object"},
        {"no dtype", make_file(R"({"a":{"shape":[2],"data_offsets":[0,8]}})", f32x2), "dtype"},
        {"unknown dtype", make_file(R"({"a":{"dtype":"F33","shape":[2],"data_offsets":[0,8]}})", f32x2),
         "unknown dtype 'F33'"},
        {"negative dim", make_file(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", f32x2),
         "'shape'"},
        {"fractional dim", make_file(R"({"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}})", f32x2),
         "'shape'"},
        {"one offset", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0]}})", f32x2),
         "'data_offsets'"},
        {"end before begin", make_file(R"({"a":{"dtype":"F32","shape":[0],"data_offsets":[8,0]}})", f32x2),
         "end before they begin"},
        {"size mismatch", make_file(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", f32x2),
         "needs 12"},
        {"overflowing shape",
         make_file(R"({"a":{"dtype":"F64","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", f32x2),
         "too large"},
        {"offsets out of range", make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}})", f32x2),
         "run past"},
        {"overlap",
         make_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                   R"("b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
                   f32x2),
         "overlapping"},
        {"metadata not strings", make_file(R"({"__metadata__":{"n":1}})", ""), "not a string"},
        {"metadata not object", make_file(R"({"__metadata__":"x"})", ""), "__metadata__"},
        {"truncated data", good.substr(0, good.size() - 3), "truncated"},
        {"truncated header", good.substr(0, 20), "header length"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.what);
      const std::string msg = load_error(dir, c.bytes);
      CHECK(msg.find(c.expect) != std::string::npos);
      CHECK(msg.find("bad.safetensors") != std::string::npos);
      CHECK(msg.find('\n') == std::string::npos);
    }

    // Missing file and a directory.
    std::string msg;
    try {
      nf::load_safetensors(dir.file("nope.safetensors"));
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    CHECK(msg.find("nope.safetensors") != std::string::npos);
    CHECK(msg.find("no such file") != std::string::npos);
    CHECK_THROWS_WITH_AS(nf::load_safetensors(dir.path.string()),
                         doctest::Contains("not a regular file"), std::runtime_error);
  }

  TEST_CASE("fuzz: random truncations and bit flips never crash the reader") {
    TempDir dir;
    const std::string good_path = dir.file("good.safetensors");
    nf::save_safetensors(good_path, sample_tensors(), {{"config", R"({"n_layer":6})"}});
    const std::string good = read_bytes(good_path);
    std::mt19937 rng(1234);
    int loaded = 0, rejected = 0;
    for (int trial = 0; trial < 300; ++trial) {
      std::string bytes = good;
      if (trial % 3 == 0) {
        bytes.resize(rng() % bytes.size());
      } else {
        // Mostly hit the header, where a flip changes structure rather than values.
        const int flips = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < flips; ++k) {
          const size_t limit = (rng() % 4 == 0) ? bytes.size() : std::min<size_t>(bytes.size(), 8 + 400);
          bytes[rng() % limit] ^= static_cast<char>(1u << (rng() % 8));
        }
      }
      // Either it loads or it throws std::runtime_error; anything else (another exception type,
      // a crash, a sanitizer report) fails the test.
      const std::string msg = load_error(dir, bytes);
      (msg.empty() ? loaded : rejected)++;
      CHECK(msg.find('\n') == std::string::npos);
    }
    CHECK(rejected > 100);
    MESSAGE("fuzz: " << loaded << " loaded, " << rejected << " rejected");
  }

  TEST_CASE("save rejects bad tensors before creating any file") {
    TempDir dir;
    const std::string path = dir.file("x.safetensors");
    RawTensor short_bytes{"F32", {2, 2}, std::vector<uint8_t>(12)};
    RawTensor unknown{"Q4", {1}, std::vector<uint8_t>(1)};
    RawTensor ok{"U8", {1}, {42}};
    CHECK_THROWS_WITH_AS(nf::save_safetensors(path, {{"a", short_bytes}}), doctest::Contains("needs 16"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(nf::save_safetensors(path, {{"a", unknown}}), doctest::Contains("unknown dtype"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(nf::save_safetensors(path, {{"a", ok}, {"a", ok}}), doctest::Contains("duplicate"),
                         std::runtime_error);
    CHECK_THROWS_WITH_AS(nf::save_safetensors(path, {{"__metadata__", ok}}), doctest::Contains("reserved"),
                         std::runtime_error);
    CHECK_THROWS_AS(nf::make_raw_tensor<float>({3}, {1.f, 2.f}), std::runtime_error);
    CHECK(fs::is_empty(dir.path));
    // A directory that does not exist: nothing can be created, and the error names the file.
    CHECK_THROWS_WITH_AS(nf::save_safetensors(dir.file("no/such/dir/x.safetensors"), {{"a", ok}}),
                         doctest::Contains("x.safetensors"), std::runtime_error);
  }

  TEST_CASE("a save that fails mid-write leaves the old file intact and no temporary file") {
    TempDir dir;
    const std::string path = dir.file("ckpt.safetensors");
    nf::save_safetensors(path, sample_tensors(), {{"config", "old"}});
    const std::string before = read_bytes(path);

    // Make the write fail part-way: cap the size of any file this process writes (reading is
    // not affected), and ignore SIGXFSZ so write(2) reports EFBIG instead of killing the process.
    std::vector<float> big(1 << 16, 0.5f);  // 256 KiB
    rlimit old_limit{};
    REQUIRE(getrlimit(RLIMIT_FSIZE, &old_limit) == 0);
    rlimit small = old_limit;
    small.rlim_cur = 4096;
    auto old_handler = signal(SIGXFSZ, SIG_IGN);
    REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string msg;
    try {
      nf::save_safetensors(path, {{"big", nf::make_raw_tensor<float>({1 << 16}, big)}}, {{"config", "new"}});
    } catch (const std::runtime_error& e) {
      msg = e.what();
    }
    setrlimit(RLIMIT_FSIZE, &old_limit);
    signal(SIGXFSZ, old_handler);

    CHECK(msg.find("write failed") != std::string::npos);
    CHECK(read_bytes(path) == before);  // untouched
    CHECK_FALSE(fs::exists(path + ".tmp"));
    CHECK(nf::load_safetensors(path).metadata.at("config") == "old");

    // And a successful overwrite replaces it and leaves no temporary behind.
    nf::save_safetensors(path, {{"big", nf::make_raw_tensor<float>({1 << 16}, big)}}, {{"config", "new"}});
    CHECK(nf::load_safetensors(path).metadata.at("config") == "new");
    CHECK_FALSE(fs::exists(path + ".tmp"));
  }
}
