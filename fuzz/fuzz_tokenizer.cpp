// libFuzzer target: a tokenizer's meta.json (data/tokenizer.h load_tokenizer_from_json), then
// encode and decode a few strings with it. Input: the meta.json text, optionally followed by a
// NUL byte and one more text to encode (so the fuzzer can shape the text too).
//
// Invariants on an accepted tokenizer: encode_lossy never throws; byte, bpe and gpt2 encode every
// string and decode(encode(s)) == s (char: whenever encode succeeds); ids outside
// [0, vocab_size) make decode throw std::out_of_range; to_meta_json() loads back to a tokenizer
// that encodes the same way.
// A bpe merge list whose tokens would grow past the reader's bounds (merges that double a token
// forty times ask for 2^40 bytes) must be refused before anything is built, and merge ids must be
// read exactly, never truncated.
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "data/tokenizer.h"
#include "fuzz/fuzz_util.h"

namespace {

void check(bool ok, const std::string& what) {
  if (!ok) nf::fuzz::invariant_failed("tokenizer", what);
}

void exercise(const nf::Tokenizer& tok, const std::string& text) {
  const bool total = tok.name() != "char";  // byte, bpe and gpt2 represent every byte string
  std::vector<int> ids;
  try {
    ids = tok.encode(text);
  } catch (const std::exception& e) {
    check(!total, tok.name() + " encode threw: " + e.what());
    ids.clear();
  }
  if (!ids.empty() || text.empty()) {
    for (int id : ids) check(id >= 0 && id < tok.vocab_size(), "encode produced id " + std::to_string(id));
    std::string back;
    try {
      back = tok.decode(ids);
    } catch (const std::exception& e) {
      check(false, std::string("decode of encode's ids threw: ") + e.what());
    }
    check(back == text, tok.name() + " decode(encode(s)) != s for a " + std::to_string(text.size()) + "-byte text");
  }
  std::vector<int> lossy;
  try {
    lossy = tok.encode_lossy(text);
  } catch (const std::exception& e) {
    check(false, std::string("encode_lossy threw: ") + e.what());
  }
  for (int id : lossy) check(id >= 0 && id < tok.vocab_size(), "encode_lossy produced id " + std::to_string(id));
}

void expect_out_of_range(const nf::Tokenizer& tok, int id) {
  try {
    (void)tok.decode({id});
  } catch (const std::out_of_range&) {
    return;
  } catch (const std::exception& e) {
    check(false, "decode of id " + std::to_string(id) + " threw the wrong type: " + e.what());
  }
  check(false, "decode accepted id " + std::to_string(id) + " with vocab_size " + std::to_string(tok.vocab_size()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static nf::fuzz::ScratchFile file;
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(data, 0, size));
  const size_t meta_size = nul ? static_cast<size_t>(nul - data) : size;
  nlohmann::json meta;
  try {
    meta = nlohmann::json::parse(data, data + meta_size);
  } catch (const std::exception&) {
    meta = nullptr;  // load_tokenizer reports it (below)
  }
  std::unique_ptr<nf::Tokenizer> tok;
  try {
    tok = nf::load_tokenizer(file.write(data, meta_size));  // as every command reads DIR/meta.json
  } catch (const std::exception& e) {
    nf::fuzz::check_one_line("tokenizer", e);
    return 0;
  }
  check(tok->vocab_size() >= 1, "accepted an empty vocabulary (vocab_size " + std::to_string(tok->vocab_size()) + ")");
  // Merge ids are read exactly: 2^40 + 97 must not be truncated to 97 and accepted.
  if (tok->name() == "bpe") {
    const auto& merges = static_cast<const nf::BpeTokenizer&>(*tok).merges();
    for (size_t i = 0; i < merges.size(); ++i)
      check(meta["merges"][i][0].get<int64_t>() == merges[i].first &&
                meta["merges"][i][1].get<int64_t>() == merges[i].second,
            "merge " + std::to_string(i) + " " + meta["merges"][i].dump() + " was read as [" +
                std::to_string(merges[i].first) + "," + std::to_string(merges[i].second) + "]");
  }

  static const std::vector<std::string> texts = {
      "",
      "hello world",
      "In the beginning God created the heaven and the earth.\n\nGenesis 2\n",
      "It's 2024: they'll say \"we've\" and I'd   go\t\n  ok",
      "h\xC3\xA9llo w\xC3\xB6rld \xE2\x80\x94 \xE2\x98\x83 \xF0\x9D\x84\x9E",
      "\xFF\xFE\x80 bad \xC0\xAF utf8 \xED\xA0\x80",
      std::string(64, 'a') + std::string(33, ' ') + std::string(17, '0'),
  };
  for (const std::string& t : texts) exercise(*tok, t);
  if (nul) exercise(*tok, std::string(reinterpret_cast<const char*>(nul + 1), size - meta_size - 1));

  expect_out_of_range(*tok, -1);
  expect_out_of_range(*tok, tok->vocab_size());

  // Its own meta.json must load back to a tokenizer that encodes the same way.
  std::unique_ptr<nf::Tokenizer> again;
  try {
    again = nf::load_tokenizer_from_json(nlohmann::json::parse(tok->to_meta_json().dump()));
  } catch (const std::exception& e) {
    check(false, std::string("to_meta_json() does not load back: ") + e.what());
  }
  check(again->vocab_size() == tok->vocab_size() && again->name() == tok->name(), "meta round trip changed the vocabulary");
  for (const std::string& t : texts) check(again->encode_lossy(t) == tok->encode_lossy(t), "meta round trip changed encode");
  return 0;
}
