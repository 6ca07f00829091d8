#pragma once
// The text `prepare` tokenizes: one file, every regular file under a directory, or a string in
// memory (the default corpus). A directory's files are read in the byte order of their paths
// (as `find DIR -type f | LC_ALL=C sort` lists them) and concatenated with nothing between
// them. The text is read front to back in blocks, never whole, as many times as a tokenizer
// needs passes over it.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

namespace nf {

class TextSource {
 public:
  // A file, or a directory: its regular files at any depth (a symbolic link to a file counts; a
  // linked directory is not entered). Every file is opened once here, so a missing or
  // unreadable one is reported before any work. Throws one line naming the path: missing, not a
  // file or directory, a directory without regular files, a file that cannot be opened.
  static TextSource from_path(const std::string& path);
  // Text already in memory; `name` stands for it in messages.
  static TextSource from_string(std::string text, std::string name);

  const std::string& name() const { return name_; }
  uint64_t total_bytes() const { return total_bytes_; }
  size_t file_count() const { return files_.size(); }

  // One pass over the text.
  class Reader {
   public:
    // Up to n bytes into buf; 0 only at the end. Throws "<file>: read failed: <reason>", and
    // "<file>: changed size while being read" when a file no longer has the size it had when
    // the source was made (a second pass would see another text).
    size_t read(char* buf, size_t n);
    ~Reader();
    Reader(Reader&&) noexcept;
    Reader& operator=(Reader&&) = delete;

   private:
    friend class TextSource;
    explicit Reader(const TextSource& source) : source_(&source) {}
    bool open_next_file();
    const TextSource* source_;
    size_t file_ = 0;          // index of the next file to open
    std::FILE* in_ = nullptr;  // the file being read
    uint64_t in_file_ = 0;     // bytes read from it so far
    size_t memory_pos_ = 0;    // for a string source
  };
  Reader open() const { return Reader(*this); }

 private:
  struct File {
    std::string path;
    uint64_t size;
  };
  std::string name_;
  std::vector<File> files_;                // empty for a string source
  std::shared_ptr<const std::string> text_;  // the string source's text
  uint64_t total_bytes_ = 0;
};

}  // namespace nf
