#pragma once
// The NCCL implementation of Communicator, for one GPU per rank (compiled only in a CUDA build
// with MPI and NCCL: NOISEFORMER_NCCL). The gradient buckets live on this rank's GPU and are
// summed by ncclAllReduce on a stream of their own, so the sums overlap the kernels of the
// backward pass on the default stream; events order the two (packed before sent, summed before
// unpacked). The small host-side collectives (losses, agreement on errors) and NCCL's own
// start-up (the unique id from rank 0) go through the MPI communicator. The header names no CUDA
// or NCCL type. Status: compiled, not yet run on a GPU (docs/distributed.md).
#include <memory>

#include "dist/communicator.h"

namespace nf {

// The GPU of this rank: its rank among the ranks on its machine (the launcher's local rank:
// OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID or SLURM_LOCALID), modulo the GPUs it sees.
int local_gpu();

// Collective over `host`'s ranks: selects `device`, then creates the NCCL communicator.
// `host` must outlive the result.
std::unique_ptr<Communicator> make_nccl_communicator(Communicator& host, int device);

}  // namespace nf
