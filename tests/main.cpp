// The doctest runner for every suite in tests/; CTest runs it once per suite (CMakeLists.txt).
// The mpi suite runs it under mpirun, where the tests start MPI through world(): it is ended here,
// once every test has run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "dist/world.h"

int main(int argc, char** argv) {
  doctest::Context context(argc, argv);
  const int status = context.run();
  nf::finalize_world();
  return status;
}
