#pragma once
// The MPI implementation of Communicator (compiled only in a build with MPI: NOISEFORMER_MPI).
// The header names no MPI type, so code that includes it needs no MPI headers.
#include <memory>

#include "dist/communicator.h"

namespace nf {

// MPI_Init_thread (MPI_THREAD_FUNNELED: only the thread that calls these touches MPI; OpenMP's
// worker threads never do), then a communicator over a duplicate of MPI_COMM_WORLD.
std::unique_ptr<Communicator> mpi_init_world();
void mpi_finalize();
[[noreturn]] void mpi_abort(int code);

}  // namespace nf
