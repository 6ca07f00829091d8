// The doctest runner for every suite in tests/; CTest runs it once per suite (CMakeLists.txt).
// The mpi suite runs it under mpirun, where the tests start MPI through world(): it is ended here,
// once every test has run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>

#include "dist/world.h"
#include "support.h"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int status = context.run();
  // Device-generic tests (support.h, for_each_device): how many instances ran where, and how many
  // could not run at all — a skipped GPU instance must be visible, not counted as a pass.
  const nf::test::DeviceInstances& d = nf::test::device_instances();
  if (d.cpu + d.cuda + d.cuda_skipped > 0 && !context.shouldExit())
    std::printf("device instances: %d ran on cpu, %d on cuda, %d cuda skipped%s\n", d.cpu, d.cuda, d.cuda_skipped,
                d.cuda_skipped ? (" (" + nf::test::why_no_cuda() + ")").c_str() : "");
  nf::finalize_world();
  // 77, CTest's SKIP_RETURN_CODE for the GPU suites (CMakeLists.txt): everything that could run
  // passed, but no CUDA instance could run at all.
  if (status == 0 && d.cuda_skipped > 0 && d.cuda == 0) return 77;
  return status;
}
