// The `noiseformer` command line: dispatches to one sub-command (cli/commands.h) and turns any
// error into one line on stderr with a non-zero exit status.
#include <cblas.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <string>

#include "dist/collective.h"
#include "dist/world.h"
#include "tensor/blas_setup.h"
#include "cli/commands.h"
#include "tensor/one_line.h"

namespace {

void usage(FILE* out) {
  std::fprintf(out, "usage: noiseformer <command> [--help] [options]\n       noiseformer --version\n\ncommands:\n");
  for (const nf::cli::Command& c : nf::cli::kCommands) std::fprintf(out, "  %-14s %s\n", c.name, c.help);
}

// The version (CMake's project version) and what this binary was built with, every item read
// from the build itself: compiler macros, the OpenBLAS library actually loaded, CUDA compiled in.
void print_version() {
  std::printf("noiseformer %s\n", NOISEFORMER_VERSION);
#if defined(__clang__)
  const std::string compiler = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
  const std::string compiler = std::string("GCC ") + __VERSION__;
#else
  const std::string compiler = "an unknown compiler";
#endif
#if defined(__AVX512F__)
  const char* isa = "AVX-512";
#elif defined(__AVX2__)
  const char* isa = "AVX2";
#elif defined(__x86_64__)
  const char* isa = "baseline x86-64";
#else
  const char* isa = "the default target";
#endif
  // openblas_get_config() reads "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH …": keep name and version.
  std::string blas = openblas_get_config();
  const size_t second_space = blas.find(' ', blas.find(' ') + 1);
  if (second_space != std::string::npos) blas.resize(second_space);
  const int par = openblas_get_parallel();
  const char* threading = par == 2 ? "OpenMP" : par == 1 ? "pthreads" : "sequential";
#ifdef NOISEFORMER_CUDA
  const char* cuda = "CUDA backend built in";
#else
  const char* cuda = "no CUDA backend";
#endif
#ifdef NDEBUG
  const char* checks = "";
#else
  const char* checks = ", assertions on";
#endif
#if defined(__SANITIZE_ADDRESS__)
  const char* sanitize = ", address/undefined sanitizers";
#else
  const char* sanitize = "";
#endif
  std::printf("built with %s for %s, OpenMP %d, %s (%s threads, %s kernels), %s%s%s\n", compiler.c_str(), isa,
              _OPENMP, blas.c_str(), threading, openblas_get_corename(), cuda, checks, sanitize);
}

// OpenMP's idle threads spin by default before they sleep; on a busy machine (shared cores, a
// second job) the spinning starves the threads doing the work: on 2 cores beside one CPU-bound
// process, tiny-preset training took 640-780 ms/it spinning against 27 ms/it passive. So PASSIVE
// is the default here unless the user chose a policy (OMP_WAIT_POLICY, or libgomp's
// GOMP_SPINCOUNT). libgomp reads both when it loads, before main() runs (a setenv here alone
// changes nothing), so it takes a restart, of no measurable cost: returns true when one is needed.
bool choose_passive_omp_wait() {
  if (std::getenv("OMP_WAIT_POLICY") || std::getenv("GOMP_SPINCOUNT")) return false;
  setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const bool restart = choose_passive_omp_wait();
  nf::use_fastest_blas_kernels(argv);  // may itself restart, then with the wait policy set too
  // Set before the restart, so the new process sees a policy and does not restart again; if
  // exec fails we carry on with libgomp's spinning default.
  if (restart) execv("/proc/self/exe", argv);
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    usage(stdout);
    return 0;
  }
  if (cmd == "--version") {
    print_version();
    return 0;
  }
  for (const nf::cli::Command& c : nf::cli::kCommands) {
    if (cmd != c.name) continue;
    int status = 1;
    try {
      status = c.run(argc - 1, argv + 1);
    } catch (const nf::CollectiveError& e) {
      // Every rank of a data-parallel job threw this together: rank 0 says it, all end normally.
      const nf::Communicator* world = nf::world_if_started();
      if (!world || world->rank() == 0)
        std::fprintf(stderr, "noiseformer %s: error: %s\n", c.name, nf::one_line(e.what(), std::string::npos).c_str());
    } catch (const std::exception& e) {
      const std::string what = dynamic_cast<const std::bad_alloc*>(&e)
                                   ? "out of memory (the model, batch or data is too large for this machine)"
                                   : nf::one_line(e.what(), std::string::npos);
      const nf::Communicator* world = nf::world_if_started();
      if (world && world->size() > 1) {
        // This rank alone failed, outside any agreement: the others may be waiting for it in a
        // collective call, so the whole job ends here.
        std::fprintf(stderr, "noiseformer %s: error: rank %d: %s\n", c.name, world->rank(), what.c_str());
        nf::abort_world(1);
      }
      // Started as several ranks but with no job (a build without MPI refuses one): every rank
      // failed alike, and the first says so.
      if (world || nf::launched_rank() == 0) std::fprintf(stderr, "noiseformer %s: error: %s\n", c.name, what.c_str());
    }
    nf::finalize_world();
    return status;
  }
  std::fprintf(stderr, "noiseformer: unknown command '%s' (see noiseformer --help)\n", nf::one_line(cmd).c_str());
  return 2;
}
