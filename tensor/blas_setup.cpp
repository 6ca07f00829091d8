#include "tensor/blas_setup.h"

#include <cstdlib>
#include <cstring>
#include <unistd.h>

namespace nf {

void use_fastest_blas_kernels(char** argv) {
#if defined(__x86_64__) && !defined(__SANITIZE_ADDRESS__)
  if (std::getenv("NOISEFORMER_BLAS_REEXEC")) return;
  // An explicit choice is respected, except "Haswell": that is the AVX2 kernel set Debian's
  // build falls back to anyway, and some machine images pin it globally.
  const char* current = std::getenv("OPENBLAS_CORETYPE");
  if (current && std::strcmp(current, "Haswell") != 0 && std::strcmp(current, "HASWELL") != 0) return;
  const char* opt = std::getenv("NOISEFORMER_BLAS_AUTO");
  if (opt && std::strcmp(opt, "0") == 0) return;
  __builtin_cpu_init();
  if (!(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq")))
    return;
  setenv("OPENBLAS_CORETYPE", "SkylakeX", 1);
  setenv("NOISEFORMER_BLAS_REEXEC", "1", 1);  // guard against a loop if exec fails oddly
  execv("/proc/self/exe", argv);
  // exec failed: carry on with the default kernels.
#else
  (void)argv;
#endif
}

}  // namespace nf
