// Streaming prepare (data/chunk_reader.h, data/ordered_pipeline.h, data/split_writer.h,
// data/text_source.h, prepare_dataset in data/dataset.h): the cut rules leave every
// tokenizer's result unchanged; prepared files equal the in-memory tokenizer's ids for any chunk
// size and thread count, on text that puts multi-byte UTF-8, CRLF and invalid bytes across
// chunk boundaries; folders are read in sorted path order; bpe trains on a bounded prefix; bad
// input is one line; a failed prepare leaves an old dataset as it was.
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iterator>
#include <stdexcept>
#include <thread>
#include <string>
#include <vector>

#include "data/chunk_reader.h"
#include "data/dataset.h"
#include "data/gpt2_pretokenize.h"
#include "data/ordered_pipeline.h"
#include "data/split_writer.h"
#include "data/text_source.h"
#include "data/tokenizer.h"
#include "tests/support.h"

namespace fs = std::filesystem;
using namespace nf::test;

namespace {

// Text from pieces chosen to meet at every kind of boundary: words, contractions, digits,
// punctuation, runs of spaces and tabs, LF, CRLF and blank lines, 2-, 3- and 4-byte UTF-8
// (letters, a no-break space and an ideographic space, which GPT-2 counts as whitespace), and,
// unless `valid_utf8`, bytes that are not UTF-8 (a stray continuation, a lead byte cut short,
// 0xFF).
std::string mixed_text(uint64_t seed, size_t size, bool valid_utf8) {
  std::vector<std::string> parts = {"a",  "bc",  "Z",    " ",    "  ",   "\n",     "\r\n",        "\t",
                                    "'s", "'ll", "'",    "12",   ".",    "!?",     "\xc3\xa9",    "\xe6\x9d\xb1",
                                    "\xf0\x9f\x98\x80",  "\xc2\xa0", "\xe3\x80\x80", "\n\n", " the", "x\ny"};
  if (!valid_utf8) parts.insert(parts.end(), {"\xa9", "\xc3", "\xff", "\xe6\x9d"});
  nf::Generator g(seed);
  std::string s;
  while (s.size() < size) s += parts[g.next_u64() % parts.size()];
  return s;
}

std::vector<std::string> bpe_pieces(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view p : nf::split_bpe_chunks(text)) out.emplace_back(p);
  return out;
}
std::vector<std::string> gpt2_pieces(std::string_view text) {
  std::vector<std::string> out;
  for (std::string_view p : nf::gpt2_pretokenize(text)) out.emplace_back(p);
  return out;
}
// The code points (or -1 for each malformed byte) the UTF-8 decoder reads.
std::vector<long> code_points(std::string_view text) {
  std::vector<long> out;
  for (size_t pos = 0; pos < text.size();) {
    char32_t cp;
    out.push_back(nf::next_code_point(text, pos, cp) ? static_cast<long>(cp) : -1);
  }
  return out;
}
template <class T>
std::vector<T> joined(std::vector<T> a, const std::vector<T>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// A prepared directory's tokens, train then val.
std::vector<int> prepared_ids(const std::string& dir) {
  std::vector<int> ids;
  for (const char* split : {"train.bin", "val.bin"}) {
    const nf::TokenData data = nf::TokenData::load(dir + "/" + split, 0);
    ids.insert(ids.end(), data.tokens().begin(), data.tokens().end());
  }
  return ids;
}

nf::PrepareOptions options(const std::string& kind, size_t chunk_bytes, int threads, const std::string& vocab_dir = "") {
  nf::PrepareOptions o;
  o.tokenizer = kind;
  o.chunk_bytes = chunk_bytes;
  o.threads = threads;
  o.val_fraction = 0.25;
  o.vocab_size = kind == "bpe" ? 300 : 0;
  o.vocab_dir = vocab_dir;
  return o;
}

// Prepares `text` streaming with `o` and checks the files against the in-memory tokenizer: the
// same ids, split at int(n·(1 − val_fraction)), and the same meta.json.
void check_same_as_in_memory(const std::string& text, const nf::PrepareOptions& o, const std::string& dir) {
  CAPTURE(o.tokenizer);
  CAPTURE(o.chunk_bytes);
  CAPTURE(o.threads);
  fs::remove_all(dir);
  const auto tok = nf::build_tokenizer(o.tokenizer, text, o.vocab_size, o.vocab_dir);
  const std::vector<int> want = tok->encode(text);
  const nf::PrepareSummary s = nf::prepare_dataset(nf::TextSource::from_string(text, "text"), dir, o);
  CHECK(prepared_ids(dir) == want);
  CHECK(s.tokens == want.size());
  CHECK(s.train_tokens == static_cast<size_t>(static_cast<double>(want.size()) * (1 - o.val_fraction)));
  CHECK(fs::file_size(dir + "/train.bin") == 2 * s.train_tokens);
  CHECK(read_bytes(dir + "/meta.json") == tok->to_meta_json().dump() + "\n");
  CHECK(s.text_bytes == text.size());
  for (const auto& e : fs::directory_iterator(dir))  // no temporaries left behind
    CHECK(e.path().filename().string().find(".tmp") == std::string::npos);
}

// Runs `noiseformer <args>`; the exit status and stderr.
struct Run {
  int code;
  std::string err;
};
Run run_cli(const std::string& args, const TempDir& tmp) {
  const std::string err = tmp.file("stderr.txt");
  const int st = std::system((cli_binary() + " " + args + " >/dev/null 2>" + err + " </dev/null").c_str());
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128, read_bytes(err)};
}
void check_one_line_error(const Run& r, const std::string& part) {
  CAPTURE(r.err);
  CHECK(r.code == 1);
  CHECK(r.err.rfind("noiseformer prepare: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK(r.err.find(part) != std::string::npos);
}

}  // namespace

TEST_SUITE("data") {
  // ---- where text may be cut -----------------------------------------------------------------
  TEST_CASE("cut rules: tokenizing the two sides apart gives what the whole text gives") {
    size_t cuts = 0;
    for (uint64_t seed = 1; seed <= 60; ++seed) {
      const std::string text = mixed_text(seed, 300, seed % 2 == 0);
      CAPTURE(text);
      const auto whole_bpe = bpe_pieces(text), whole_gpt2 = gpt2_pieces(text);
      const auto whole_cps = code_points(text);
      for (size_t p = 0; p <= text.size(); ++p) {
        CAPTURE(p);
        const std::string_view left = std::string_view(text).substr(0, p), right = std::string_view(text).substr(p);
        if (nf::can_cut(nf::CutRule::Words, text, p)) {
          ++cuts;
          CHECK(joined(bpe_pieces(left), bpe_pieces(right)) == whole_bpe);
          CHECK(joined(gpt2_pieces(left), gpt2_pieces(right)) == whole_gpt2);
        }
        if (nf::can_cut(nf::CutRule::CodePoint, text, p))
          CHECK(joined(code_points(left), code_points(right)) == whole_cps);
        CHECK(nf::can_cut(nf::CutRule::AnyByte, text, p) == (p >= 2 && p < text.size()));
      }
    }
    CHECK(cuts > 500);  // the rules do find cuts in text like this
  }

  TEST_CASE("cut rules: what they look at, and the places they refuse") {
    using nf::CutRule;
    CHECK(nf::can_cut(CutRule::Words, "end.\nNext", 5));
    CHECK(nf::can_cut(CutRule::Words, "two words", 3));
    // Only the bytes p-2 .. p+1 matter: a stretch of the text around p is enough.
    CHECK(nf::can_cut(CutRule::Words, "o w", 1) == false);  // p < 2 is never a cut
    CHECK(nf::can_cut(CutRule::Words, "wo w", 2));
    CHECK_FALSE(nf::can_cut(CutRule::Words, "two ", 3));    // no letter after the space
    CHECK_FALSE(nf::can_cut(CutRule::Words, "two  words", 4));
    CHECK_FALSE(nf::can_cut(CutRule::Words, "a \nb", 3));   // a space before the newline
    // After CRLF or a blank line GPT-2 splits the whitespace run one way when text follows and
    // another when it ends the text, so neither is a cut.
    CHECK_FALSE(nf::can_cut(CutRule::Words, "end.\r\nNext", 6));
    CHECK(gpt2_pieces("end.\r\n") == std::vector<std::string>{"end", ".", "\r\n"});
    CHECK(gpt2_pieces("end.\r\nNext") == std::vector<std::string>{"end", ".", "\r", "\n", "Next"});
    CHECK_FALSE(nf::can_cut(CutRule::Words, "end.\n\nNext", 6));
    CHECK(gpt2_pieces("end.\n\n") == std::vector<std::string>{"end", ".", "\n\n"});
    CHECK(gpt2_pieces("end.\n\nNext") == std::vector<std::string>{"end", ".", "\n", "\n", "Next"});
    // Not inside a UTF-8 character.
    CHECK_FALSE(nf::can_cut(CutRule::CodePoint, "caf\xc3\xa9", 4));
    CHECK(nf::can_cut(CutRule::CodePoint, "caf\xc3\xa9", 3));
    CHECK(nf::cut_rule_for("gpt2") == CutRule::Words);
    CHECK(nf::cut_rule_for("bpe") == CutRule::Words);
    CHECK(nf::cut_rule_for("char") == CutRule::CodePoint);
    CHECK(nf::cut_rule_for("byte") == CutRule::AnyByte);
  }

  TEST_CASE("ChunkReader: chunks tile the text, each ends at a cut, none longer than asked unless no cut fits") {
    const std::string long_word(50, 'x');  // no cut inside: its chunk must grow past 8 bytes
    const std::string text = mixed_text(7, 2000, true) + long_word + mixed_text(8, 200, true);
    for (const nf::CutRule rule : {nf::CutRule::AnyByte, nf::CutRule::CodePoint, nf::CutRule::Words}) {
      for (size_t chunk_bytes : {1, 3, 8, 100, 5000}) {
        CAPTURE(chunk_bytes);
        const nf::TextSource src = nf::TextSource::from_string(text, "t");
        nf::ChunkReader reader(src, rule, chunk_bytes);
        std::string seen;
        nf::TextChunk c;
        size_t longest = 0;
        while (reader.next(c)) {
          CHECK(c.offset == seen.size());
          CHECK_FALSE(c.text.empty());
          longest = std::max(longest, c.text.size());
          // The longest stretch that ends at a cut and is at most chunk_bytes long; or, when no
          // cut fits in chunk_bytes, a longer one.
          const std::string_view rest = std::string_view(text).substr(seen.size());
          seen += c.text;
          if (seen.size() == text.size()) break;
          CHECK(nf::can_cut(rule, rest, c.text.size()));
          const size_t from = c.text.size() <= chunk_bytes ? c.text.size() + 1 : 2;
          for (size_t q = from; q <= chunk_bytes; ++q) CHECK_FALSE(nf::can_cut(rule, rest, q));
        }
        CHECK_FALSE(reader.next(c));
        CHECK(seen == text);
        CHECK(reader.bytes_read() == text.size());
        if (rule == nf::CutRule::Words && chunk_bytes == 8) CHECK(longest > long_word.size());
      }
    }
  }

  // ---- the pipeline --------------------------------------------------------------------------
  TEST_CASE("for_each_chunk_in_order: results in chunk order for any thread count; the first error in order wins") {
    const std::string text(1000, 'a');
    const nf::TextSource src = nf::TextSource::from_string(text, "t");
    for (int threads : {1, 2, 4}) {
      CAPTURE(threads);
      nf::ChunkReader reader(src, nf::CutRule::AnyByte, 10);
      std::vector<uint64_t> offsets;
      nf::for_each_chunk_in_order<uint64_t>(
          reader, threads,
          [](const nf::TextChunk& c) {
            if (c.offset % 30 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));  // finish out of order
            return c.offset;
          },
          [&](nf::TextChunk&& c, uint64_t&& r) {
            CHECK(r == c.offset);
            offsets.push_back(r);
          });
      REQUIRE(offsets.size() == 100);
      for (size_t i = 0; i < offsets.size(); ++i) CHECK(offsets[i] == 10 * i);

      nf::ChunkReader failing(src, nf::CutRule::AnyByte, 10);
      size_t consumed = 0;
      const std::string msg = error_of([&] {
        nf::for_each_chunk_in_order<int>(
            failing, threads,
            [](const nf::TextChunk& c) -> int {
              if (c.offset == 500) std::this_thread::sleep_for(std::chrono::milliseconds(5));
              if (c.offset == 500 || c.offset == 700) throw std::runtime_error("chunk " + std::to_string(c.offset));
              return 0;
            },
            [&](nf::TextChunk&&, int&&) { ++consumed; });
      });
      CHECK(msg == "chunk 500");
      CHECK(consumed == 50);
    }
  }

  // ---- streaming equals in memory ------------------------------------------------------------
  TEST_CASE("prepare streaming: byte, char and bpe give the in-memory tokenizer's ids for any chunk size and thread count") {
    TempDir tmp;
    const std::string valid = kSample + kUtf8 + "\r\nCRLF line\r\nend\r\n" + mixed_text(3, 3000, true);
    const std::string any = valid + mixed_text(4, 2000, false);
    for (size_t chunk_bytes : {1, 2, 3, 5, 7, 16, 64, 1 << 20}) {
      for (int threads : {1, 2, 3}) {
        check_same_as_in_memory(any, options("byte", chunk_bytes, threads), tmp.file("d"));
        check_same_as_in_memory(valid, options("char", chunk_bytes, threads), tmp.file("d"));
        check_same_as_in_memory(any, options("bpe", chunk_bytes, threads), tmp.file("d"));
      }
    }
  }

  TEST_CASE("prepare streaming: gpt2 gives the in-memory tokenizer's ids for any chunk size and thread count") {
    TempDir tmp;
    write_gpt2_vocab(tmp.path / "vocab", {{" ", "t"}, {"h", "e"}, {" t", "he"}, {"\xc3", "\xa9"}, {"\r", "\n"},
                                          {"\n", "\n"}, {"'", "s"}, {"b", "c"}});
    const std::string text = kSample + kUtf8 + "\r\nCRLF line\r\nend\r\n" + mixed_text(5, 3000, false);
    for (size_t chunk_bytes : {1, 2, 3, 5, 7, 16, 64, 1 << 20})
      for (int threads : {1, 2})
        check_same_as_in_memory(text, options("gpt2", chunk_bytes, threads, tmp.file("vocab")), tmp.file("d"));
  }

  TEST_CASE("prepare streaming: char reports invalid UTF-8 at its offset in the whole text, whatever the chunks") {
    TempDir tmp;
    const std::string text = std::string(1000, 'a') + "\xc3(" + std::string(100, 'b');
    const std::string whole = error_of([&] { nf::CharTokenizer::from_text(text); });
    REQUIRE(contains(whole, "byte offset 1000"));
    for (size_t chunk_bytes : {1, 7, 64}) {
      nf::PrepareOptions o = options("char", chunk_bytes, 2);
      CHECK(error_of([&] { nf::prepare_dataset(nf::TextSource::from_string(text, "t"), tmp.file("d"), o); }) == whole);
      CHECK_FALSE(fs::exists(tmp.file("d/meta.json")));
    }
  }

  TEST_CASE("prepare streaming: bpe trains on the longest prefix of at most --bpe-train-bytes that ends at a cut") {
    TempDir tmp;
    const std::string text = fixture_text(11, 20000);
    nf::PrepareOptions o = options("bpe", 512, 2);
    o.bpe_train_bytes = 5000;
    const nf::PrepareSummary s = nf::prepare_dataset(nf::TextSource::from_string(text, "t"), tmp.file("d"), o);
    REQUIRE(s.bpe_train_bytes <= 5000);
    CHECK(s.bpe_train_bytes > 4900);
    CHECK(nf::can_cut(nf::CutRule::Words, text, s.bpe_train_bytes));
    CHECK(!nf::can_cut(nf::CutRule::Words, text, s.bpe_train_bytes + 1));
    const nf::BpeTokenizer want = nf::train_bpe(text.substr(0, s.bpe_train_bytes), 300);
    CHECK(read_bytes(tmp.file("d/meta.json")) == want.to_meta_json().dump() + "\n");
    CHECK(prepared_ids(tmp.file("d")) == want.encode(text));
    // A text no longer than the sample trains on all of it.
    o.bpe_train_bytes = text.size();
    CHECK(nf::prepare_dataset(nf::TextSource::from_string(text, "t"), tmp.file("e"), o).bpe_train_bytes == text.size());
    CHECK(read_bytes(tmp.file("e/meta.json")) == nf::train_bpe(text, 300).to_meta_json().dump() + "\n");
  }

  // ---- folders -------------------------------------------------------------------------------
  TEST_CASE("prepare a folder: every regular file under it, in sorted path order, concatenated") {
    TempDir tmp;
    const std::string dir = tmp.file("corpus");
    // A character split across two files is whole in the concatenation.
    write_bytes(dir + "/b/2.txt", "second, caf\xc3");
    write_bytes(dir + "/b/10.txt", "first\n");  // "10.txt" < "2.txt" byte by byte
    write_bytes(dir + "/c.txt", "\xa9 third\n");
    write_bytes(dir + "/a.txt", "zeroth\n");
    write_bytes(dir + "/b.txt", "between\n");   // "b.txt" < "b/…": '.' sorts before '/'
    write_bytes(dir + "/empty.txt", "");
    fs::create_directories(dir + "/nothing/here");
    const std::string want = "zeroth\nbetween\nfirst\nsecond, caf\xc3\xa9 third\n";

    const nf::TextSource src = nf::TextSource::from_path(dir);
    CHECK(src.file_count() == 6);
    CHECK(src.total_bytes() == want.size());
    for (const char* kind : {"char", "byte", "bpe"}) {
      nf::PrepareOptions o = options(kind, 4, 2);
      o.val_fraction = 0.1;
      const nf::PrepareSummary s = nf::prepare_dataset(src, tmp.file(kind), o);
      CHECK(s.files == 6);
      CHECK(prepared_ids(tmp.file(kind)) == nf::build_tokenizer(kind, want, o.vocab_size)->encode(want));
    }
    // A single file is read as it is.
    CHECK(nf::TextSource::from_path(dir + "/a.txt").total_bytes() == 7);
  }

  // ---- bad input -----------------------------------------------------------------------------
  TEST_CASE("prepare: bad input is one line naming the problem") {
    TempDir tmp;
    const auto error_preparing = [&](const std::string& path) {
      return error_of([&] { nf::prepare_dataset(nf::TextSource::from_path(path), tmp.file("out"), nf::PrepareOptions{}); });
    };
    CHECK(error_preparing(tmp.file("missing.txt")) == tmp.file("missing.txt") + ": no such file or directory");
    fs::create_directories(tmp.file("empty_dir"));
    CHECK(error_preparing(tmp.file("empty_dir")) == tmp.file("empty_dir") + ": a directory with no regular files under it");
    fs::create_directories(tmp.file("only_dirs/a/b"));
    CHECK(contains(error_preparing(tmp.file("only_dirs")), "a directory with no regular files under it"));
    write_bytes(tmp.file("empty.txt"), "");
    CHECK(error_preparing(tmp.file("empty.txt")) == "the input text is empty");
    CHECK(contains(error_preparing("/dev/null"), "/dev/null: not a regular file or a directory"));
    // A val fraction that leaves a split empty: train gets int(3 · 0.1) = 0 tokens; val gets
    // none when 1 − val_fraction rounds to 1.
    write_bytes(tmp.file("tiny.txt"), "abc");
    nf::PrepareOptions o;
    o.val_fraction = 0.9;
    CHECK(error_of([&] { nf::prepare_dataset(nf::TextSource::from_path(tmp.file("tiny.txt")), tmp.file("out"), o); }) ==
          "--val-fraction 0.9 of 3 tokens leaves the train split empty (a longer text, or another --val-fraction)");
    o.val_fraction = 1e-17;
    CHECK(contains(error_of([&] { nf::prepare_dataset(nf::TextSource::from_path(tmp.file("tiny.txt")), tmp.file("out"), o); }),
                   "leaves the val split empty"));
    o.val_fraction = 0;  // no val split asked for: allowed
    CHECK(nf::prepare_dataset(nf::TextSource::from_path(tmp.file("tiny.txt")), tmp.file("out"), o).val_tokens == 0);

    if (::geteuid() == 0) {
      MESSAGE("skipped the unreadable-file check: running as root, which reads any file");
    } else {
      write_bytes(tmp.file("locked/secret.txt"), "text");
      fs::permissions(tmp.file("locked/secret.txt"), fs::perms::none);
      CHECK(contains(error_preparing(tmp.file("locked")), "secret.txt: cannot open: Permission denied"));
    }
  }

  TEST_CASE("noiseformer prepare: bad input is one line on stderr and exit status 1") {
    TempDir tmp;
    const std::string out = " --out " + tmp.file("out");
    check_one_line_error(run_cli("prepare --input " + tmp.file("missing.txt") + out, tmp), "missing.txt: no such file");
    fs::create_directories(tmp.file("empty_dir"));
    check_one_line_error(run_cli("prepare --input " + tmp.file("empty_dir") + out, tmp), "no regular files");
    write_bytes(tmp.file("tiny.txt"), "abc");
    check_one_line_error(run_cli("prepare --val-fraction 0.9 --input " + tmp.file("tiny.txt") + out, tmp),
                         "leaves the train split empty");
    CHECK_FALSE(fs::exists(tmp.file("out/meta.json")));
  }

  TEST_CASE("noiseformer prepare --input FOLDER --threads --bpe-train-bytes: the files of the library call") {
    TempDir tmp;
    write_bytes(tmp.file("corpus/1.txt"), fixture_text(21, 3000));
    write_bytes(tmp.file("corpus/2/x.txt"), fixture_text(22, 3000));
    const std::string out = tmp.file("out");
    const Run r = run_cli("prepare --input " + tmp.file("corpus") + " --out " + out +
                              " --tokenizer bpe --vocab-size 300 --bpe-train-bytes 2000 --threads 2",
                          tmp);
    REQUIRE_MESSAGE(r.code == 0, r.err);
    nf::PrepareOptions o = options("bpe", nf::kDefaultPrepareChunkBytes, 1);
    o.val_fraction = 0.1;
    o.bpe_train_bytes = 2000;
    const nf::PrepareSummary s = nf::prepare_dataset(nf::TextSource::from_path(tmp.file("corpus")), tmp.file("lib"), o);
    CHECK(s.bpe_train_bytes <= 2000);
    for (const char* f : {"train.bin", "val.bin", "meta.json"}) {
      CAPTURE(f);
      CHECK(read_bytes(out + "/" + f) == read_bytes(tmp.file("lib") + "/" + f));
    }
  }

  // ---- what a failed or interrupted prepare leaves -------------------------------------------
  TEST_CASE("prepare: a failure leaves an old dataset as it was; a success replaces all three files") {
    TempDir tmp;
    const std::string dir = tmp.file("d");
    nf::prepare_dataset(kSample, dir, "char", 0, 0.1);
    const std::string old_meta = read_bytes(dir + "/meta.json"), old_train = read_bytes(dir + "/train.bin");
    // Invalid UTF-8 for char, and a split left empty: both found only at the end of a pass.
    CHECK_THROWS(nf::prepare_dataset(kSample + "\xff", dir, "char", 0, 0.1));
    CHECK_THROWS(nf::prepare_dataset("ab", dir, "byte", 0, 0.6));
    CHECK(read_bytes(dir + "/meta.json") == old_meta);
    CHECK(read_bytes(dir + "/train.bin") == old_train);
    for (const auto& e : fs::directory_iterator(dir)) CHECK(e.path().filename().string().find(".tmp") == std::string::npos);

    nf::prepare_dataset(kSample, dir, "byte", 0, 0.1);
    CHECK(nf::load_tokenizer(dir + "/meta.json")->name() == "byte");
  }

  TEST_CASE("SplitTokenWriter: temporaries until commit, which puts meta.json in place last") {
    TempDir tmp;
    const std::string dir = tmp.file("d");
    {
      nf::SplitTokenWriter w(dir);
      w.append(std::string("\x01\x00\x02\x00", 4));
      CHECK(w.tokens() == 2);
      CHECK(fs::exists(dir + "/train.bin.tmp." + std::to_string(::getpid())));
    }  // destroyed without commit: as if it failed
    CHECK(fs::is_empty(dir));

    nf::SplitTokenWriter w(dir);
    for (uint16_t t = 0; t < 10; ++t) w.append(std::string{static_cast<char>(t), 0});
    const nf::SplitCounts c = w.commit(0.3, "{}\n");
    CHECK(c.tokens == 10);
    CHECK(c.train_tokens == 7);
    CHECK(c.val_tokens == 3);
    CHECK(nf::TokenData::load(dir + "/train.bin", 0).tokens() == std::vector<uint16_t>{0, 1, 2, 3, 4, 5, 6});
    CHECK(nf::TokenData::load(dir + "/val.bin", 0).tokens() == std::vector<uint16_t>{7, 8, 9});
    CHECK(read_bytes(dir + "/meta.json") == "{}\n");
    CHECK(std::distance(fs::directory_iterator(dir), fs::directory_iterator()) == 3);
  }
}

// GPT-2's own vocabulary, streamed in small chunks: still GPT-2's ids.
TEST_SUITE("gpt2") {
  TEST_CASE("prepare streaming with GPT-2's vocabulary: the reference ids, for tiny chunks and two threads") {
    NF_GPT2_VOCAB_OR_SKIP(vocab);
    TempDir tmp;
    for (const char* name : gpt2_fixture_names) {
      CAPTURE(name);
      const std::string text = gpt2_fixture_text(name);
      const std::vector<int> want = gpt2_fixture_ids(name);
      for (size_t chunk_bytes : {3, 50, 1 << 20}) {
        nf::PrepareOptions o = options("gpt2", chunk_bytes, 2, vocab);
        o.val_fraction = 0;
        nf::prepare_dataset(nf::TextSource::from_string(text, name), tmp.file("d"), o);
        CHECK(prepared_ids(tmp.file("d")) == want);
      }
    }
  }
}
