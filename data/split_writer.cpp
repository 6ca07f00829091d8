#include "data/split_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "io/file.h"

namespace nf {

namespace fs = std::filesystem;

namespace {

std::runtime_error io_error(const std::string& path, const std::string& what) {
  return std::runtime_error(path + ": " + what + ": " + std::strerror(errno));
}

void write_all(int fd, const char* p, size_t n, const std::string& path) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      throw io_error(path, "write failed (disk full?)");
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;  // durability only: the renames are already correct without it
  ::fsync(fd);
  ::close(fd);
}

// "0.1" rather than std::to_string's "0.100000".
std::string number(double x) {
  std::ostringstream s;
  s << x;
  return s.str();
}

}  // namespace

SplitTokenWriter::SplitTokenWriter(const std::string& out_dir) : dir_(out_dir) {
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) throw std::runtime_error(out_dir + ": cannot create directory: " + ec.message());
  const std::string pid = std::to_string(::getpid());
  train_tmp_ = (fs::path(out_dir) / ("train.bin.tmp." + pid)).string();
  val_tmp_ = (fs::path(out_dir) / ("val.bin.tmp." + pid)).string();
  fd_ = ::open(train_tmp_.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) throw io_error(train_tmp_, "cannot create");
}

SplitTokenWriter::~SplitTokenWriter() {
  if (!committed_) remove_temporaries();
}

void SplitTokenWriter::remove_temporaries() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(train_tmp_.c_str());
  ::unlink(val_tmp_.c_str());
}

void SplitTokenWriter::append(std::string_view token_bytes) {
  write_all(fd_, token_bytes.data(), token_bytes.size(), train_tmp_);
  bytes_ += token_bytes.size();
}

SplitCounts SplitTokenWriter::commit(double val_fraction, const std::string& meta_json) {
  SplitCounts c;
  c.tokens = tokens();
  // nanoGPT: n = len(data); train = data[:int(n*0.9)], val = data[int(n*0.9):]
  c.train_tokens = static_cast<uint64_t>(static_cast<double>(c.tokens) * (1.0 - val_fraction));
  c.val_tokens = c.tokens - c.train_tokens;
  if (c.train_tokens == 0 || (val_fraction > 0 && c.val_tokens == 0))
    throw std::runtime_error("--val-fraction " + number(val_fraction) + " of " + std::to_string(c.tokens) +
                             " tokens leaves the " + (c.train_tokens == 0 ? "train" : "val") +
                             " split empty (a longer text, or another --val-fraction)");

  // val.bin.tmp: the tail, copied in blocks.
  const int val_fd = ::open(val_tmp_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (val_fd < 0) throw io_error(val_tmp_, "cannot create");
  try {
    std::vector<char> block(1 << 20);
    uint64_t pos = 2 * c.train_tokens;
    while (pos < bytes_) {
      const size_t want = static_cast<size_t>(std::min<uint64_t>(block.size(), bytes_ - pos));
      const ssize_t got = ::pread(fd_, block.data(), want, static_cast<off_t>(pos));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) throw io_error(train_tmp_, "read failed");
      write_all(val_fd, block.data(), static_cast<size_t>(got), val_tmp_);
      pos += static_cast<uint64_t>(got);
    }
    if (::fsync(val_fd) != 0) throw io_error(val_tmp_, "fsync failed");
  } catch (...) {
    ::close(val_fd);
    throw;
  }
  if (::close(val_fd) != 0) throw io_error(val_tmp_, "close failed");

  // train.bin.tmp: the head, cut to length.
  if (::ftruncate(fd_, static_cast<off_t>(2 * c.train_tokens)) != 0) throw io_error(train_tmp_, "cannot truncate");
  if (::fsync(fd_) != 0) throw io_error(train_tmp_, "fsync failed");
  const int rc = ::close(fd_);
  fd_ = -1;
  if (rc != 0) throw io_error(train_tmp_, "close failed");

  // From here on the directory holds no meta.json until the new one is in place.
  const fs::path dir(dir_);
  const std::string meta = (dir / "meta.json").string();
  if (::unlink(meta.c_str()) != 0 && errno != ENOENT) throw io_error(meta, "cannot remove the old one");
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  for (const auto& [tmp, name] : {std::pair<std::string, const char*>{val_tmp_, "val.bin"}, {train_tmp_, "train.bin"}}) {
    const std::string target = (dir / name).string();
    if (::rename(tmp.c_str(), target.c_str()) != 0) throw io_error(target, "cannot rename '" + tmp + "' into place");
  }
  committed_ = true;
  fsync_path(dir_, O_RDONLY | O_DIRECTORY);
  write_file_atomic(meta, meta_json);
  return c;
}

}  // namespace nf
