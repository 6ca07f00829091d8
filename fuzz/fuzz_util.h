#pragma once
// Shared plumbing for the libFuzzer targets in fuzz/ (see fuzz/README.md).
//
// Every reader in the project takes a path, so each input is first written to an in-memory
// file (memfd) and the reader is handed "/proc/self/fd/N": the same code path as a real file,
// without touching the disk on every execution.
//
// The contract each target checks: for any bytes, the reader either succeeds or throws a
// std::exception subclass (a clean one-line error). Everything else — a crash, a sanitizer
// report, an uncaught non-std exception, a timeout, an out-of-memory — is a finding.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

namespace nf::fuzz {

// A file whose contents are replaced on each call; path() names it for the readers.
class ScratchFile {
 public:
  ScratchFile() {
    fd_ = static_cast<int>(::memfd_create("nf-fuzz", 0));
    if (fd_ < 0) {  // no memfd (old kernel, odd sandbox): a real temporary file instead
      char tmpl[] = "/tmp/nf-fuzz-XXXXXX";
      fd_ = ::mkstemp(tmpl);
      if (fd_ < 0) std::abort();
      ::unlink(tmpl);
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  ScratchFile(const ScratchFile&) = delete;
  ScratchFile& operator=(const ScratchFile&) = delete;

  const std::string& write(const uint8_t* data, size_t size) {
    if (::ftruncate(fd_, 0) != 0) std::abort();
    size_t done = 0;
    while (done < size) {
      const ssize_t n = ::pwrite(fd_, data + done, size - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<size_t>(n);
    }
    return path_;
  }
  const std::string& write(const std::string& s) {
    return write(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  }
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// A broken invariant that is not a crash by itself (a round trip that changes the data, ...):
// print it and abort, so libFuzzer records the input as a crash.
[[noreturn]] inline void invariant_failed(const char* target, const std::string& what) {
  std::fprintf(stderr, "\n==nf-fuzz== %s: invariant broken: %s\n", target, what.c_str());
  std::abort();
}

// The project's promise for bad input: one line of error (docs/reliability.md, "Promises"); the
// command line prints e.what() after "noiseformer <cmd>: error: ". An empty message, or one
// holding a line break (usually quoted from the input itself), breaks it.
inline void check_one_line_text(const char* target, const std::string& what) {
  if (!what.empty() && what.find_first_of("\n\r") == std::string::npos) return;
  invariant_failed(target, "an error message is empty or not one line: \"" + what + "\"");
}
inline void check_one_line(const char* target, const std::exception& e) {
  check_one_line_text(target, e.what());
}

}  // namespace nf::fuzz
