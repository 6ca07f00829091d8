#pragma once
// The job this process belongs to (docs/distributed.md). Started by a launcher (mpirun, mpiexec)
// in a build with MPI, the job is the MPI world and world() initialises MPI on first use;
// otherwise the job is this process alone and MPI is never touched — a build without MPI, or a
// plain run of an MPI build, behaves exactly like a program that never heard of MPI.
#include "dist/communicator.h"

namespace nf {

// The ranks the launcher started, read from its environment (Open MPI's OMPI_COMM_WORLD_SIZE,
// MPICH's and Slurm PMI's PMI_SIZE); 1 when there is none. Touches no MPI.
int launched_ranks();
// This process's rank among them (OMPI_COMM_WORLD_RANK, PMI_RANK); 0 when there is none. Lets the
// command line print an error every rank hits alike once, before any MPI exists.
int launched_rank();

// The job's communicator. Throws, in a build without MPI started as several ranks, rather than
// let each rank train alone and overwrite the others' files.
Communicator& world();
// world() if it has been created, else null (error reporting must not start MPI).
Communicator* world_if_started();

// Collective. The communicator that sums gradients of parameters on `device`: `job` itself for
// CPU tensors; for CUDA tensors an NCCL communicator over job's ranks, one GPU per rank (made on
// first use, kept until finalize_world). Throws for CUDA tensors in a build without NCCL.
Communicator& gradient_communicator(Communicator& job, Device device);

// Ends MPI if world() started it: once, as the program ends normally.
void finalize_world();
// Ends every rank of the job now, with exit status `code`: MPI_Abort when MPI is running, else
// std::exit. For an error that only this rank saw, after printing it.
[[noreturn]] void abort_world(int code);

}  // namespace nf
