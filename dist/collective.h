#pragma once
// Errors under data parallelism. A rank that fails on its own (a missing file, a full disk, out
// of memory) must not leave the others waiting forever in their next collective call: after each
// stretch of work a rank may fail in alone, the ranks agree whether any of them failed, and if
// one did they all throw the same CollectiveError together. The command line prints it once,
// from rank 0, and every rank exits with status 1 (cli/main.cpp). Any other exception escaping
// a data-parallel run is a failure of one rank alone, and ends the job with MPI_Abort.
#include <exception>
#include <stdexcept>
#include <string>

#include "dist/communicator.h"

namespace nf {

// Thrown on every rank at once, with the same message.
struct CollectiveError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The one-line message of an exception ("out of memory …" for std::bad_alloc).
std::string describe(const std::exception_ptr& e);

// Collective. `failure` is what this rank threw since the last agreement (null if nothing). If
// any rank failed, every rank throws CollectiveError("rank R: <message>") for the lowest failing
// rank R; otherwise returns. One process: rethrows `failure` itself, unchanged.
void agree(Communicator& comm, const std::exception_ptr& failure);

// For a failure every rank sees alike (a loss that is not finite, from values they share): one
// process throws std::runtime_error(message), several throw CollectiveError(message).
[[noreturn]] void fail_together(Communicator& comm, const std::string& message);

}  // namespace nf
