#include "data/text_source.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <utility>

namespace nf {

namespace fs = std::filesystem;

namespace {

// Opens a file for reading, or throws "<path>: cannot open: <reason>".
std::FILE* open_or_throw(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw std::runtime_error(path + ": cannot open: " + std::strerror(errno));
  return f;
}

}  // namespace

TextSource TextSource::from_path(const std::string& path) {
  TextSource src;
  src.name_ = path;
  std::error_code ec;
  const fs::file_status st = fs::status(path, ec);
  if (ec || !fs::exists(st)) {
    if (ec && ec != std::errc::no_such_file_or_directory)
      throw std::runtime_error(path + ": cannot read: " + ec.message());
    throw std::runtime_error(path + ": no such file or directory");
  }
  std::vector<std::string> paths;
  if (fs::is_regular_file(st)) {
    paths.push_back(path);
  } else if (fs::is_directory(st)) {
    try {
      for (const fs::directory_entry& e : fs::recursive_directory_iterator(path))
        if (e.is_regular_file()) paths.push_back(e.path().string());
    } catch (const fs::filesystem_error& e) {
      const std::string where = e.path1().empty() ? path : e.path1().string();
      throw std::runtime_error(where + ": cannot list: " + e.code().message());
    }
    if (paths.empty()) throw std::runtime_error(path + ": a directory with no regular files under it");
    // Byte order of the whole path: the same order for the same tree on every machine.
    std::sort(paths.begin(), paths.end());
  } else {
    throw std::runtime_error(path + ": not a regular file or a directory");
  }
  for (const std::string& p : paths) {
    std::FILE* f = open_or_throw(p);
    std::fclose(f);
    const uint64_t size = fs::file_size(p, ec);
    if (ec) throw std::runtime_error(p + ": cannot read its size: " + ec.message());
    src.files_.push_back({p, size});
    src.total_bytes_ += size;
  }
  return src;
}

TextSource TextSource::from_string(std::string text, std::string name) {
  TextSource src;
  src.name_ = std::move(name);
  src.total_bytes_ = text.size();
  src.text_ = std::make_shared<const std::string>(std::move(text));
  return src;
}

// ---- Reader ------------------------------------------------------------------------------------
TextSource::Reader::Reader(Reader&& o) noexcept
    : source_(o.source_), file_(o.file_), in_(o.in_), in_file_(o.in_file_), memory_pos_(o.memory_pos_) {
  o.in_ = nullptr;
}

TextSource::Reader::~Reader() {
  if (in_) std::fclose(in_);
}

bool TextSource::Reader::open_next_file() {
  if (file_ >= source_->files_.size()) return false;
  in_ = open_or_throw(source_->files_[file_].path);
  in_file_ = 0;
  return true;
}

size_t TextSource::Reader::read(char* buf, size_t n) {
  if (source_->text_) {
    const std::string& text = *source_->text_;
    const size_t k = std::min(n, text.size() - memory_pos_);
    std::memcpy(buf, text.data() + memory_pos_, k);
    memory_pos_ += k;
    return k;
  }
  while (n > 0) {
    if (!in_ && !open_next_file()) return 0;
    const File& f = source_->files_[file_];
    const size_t k = std::fread(buf, 1, n, in_);
    in_file_ += k;
    if (k > 0 && in_file_ <= f.size) return k;
    if (std::ferror(in_)) throw std::runtime_error(f.path + ": read failed: " + std::strerror(errno));
    if (in_file_ != f.size)
      throw std::runtime_error(f.path + ": changed size while being read (" + std::to_string(f.size) +
                               " bytes when prepare started)");
    std::fclose(in_);
    in_ = nullptr;
    ++file_;
  }
  return 0;
}

}  // namespace nf
