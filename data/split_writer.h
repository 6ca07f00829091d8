#pragma once
// Writes a token stream whose length is known only at its end to DIR/train.bin and
// DIR/val.bin, split like nanoGPT (the last val_fraction of the tokens are val), holding none of
// it in memory, and so that an interrupted run never leaves a directory that looks complete.
//
// Every token goes to DIR/train.bin.tmp.<pid> as it comes. commit() then copies the tail to
// DIR/val.bin.tmp.<pid>, cuts it off the first file, flushes both to the disk, removes any old
// DIR/meta.json, renames the two into place, and writes meta.json last (write_file_atomic). A
// directory with a meta.json is therefore always a complete one: a crash before the end leaves
// the old meta.json gone and, at worst, a *.tmp.<pid> file behind. An error (an exception, or
// the writer destroyed before commit) removes the temporary files and leaves an old dataset in
// DIR untouched.
#include <cstdint>
#include <string>
#include <string_view>

namespace nf {

struct SplitCounts {
  uint64_t tokens = 0, train_tokens = 0, val_tokens = 0;
};

class SplitTokenWriter {
 public:
  // Creates `out_dir` if need be and opens the temporary file.
  explicit SplitTokenWriter(const std::string& out_dir);
  ~SplitTokenWriter();
  SplitTokenWriter(const SplitTokenWriter&) = delete;
  SplitTokenWriter& operator=(const SplitTokenWriter&) = delete;

  // Appends tokens already laid out as little-endian uint16 (an even number of bytes).
  void append(std::string_view token_bytes);
  uint64_t tokens() const { return bytes_ / 2; }

  // Splits at ⌊n·(1 − val_fraction)⌋ and puts train.bin, val.bin and then `meta_json` (the
  // file's whole contents) into place. Throws, before touching DIR's files, when a split would
  // be empty: train always, val when val_fraction > 0.
  SplitCounts commit(double val_fraction, const std::string& meta_json);

 private:
  void remove_temporaries();

  std::string dir_, train_tmp_, val_tmp_;
  int fd_ = -1;
  uint64_t bytes_ = 0;
  bool committed_ = false;
};

}  // namespace nf
