#include "dist/world.h"

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>

#ifdef NOISEFORMER_MPI
#include "dist/mpi_communicator.h"
#endif
#ifdef NOISEFORMER_NCCL
#include "dist/nccl_communicator.h"
#endif

namespace nf {

namespace {
std::unique_ptr<Communicator> g_world;
std::unique_ptr<Communicator> g_gpu;  // gradient_communicator's NCCL one
Communicator* g_gpu_job = nullptr;    // the job it spans
bool g_mpi = false;  // MPI was initialised by world()

// A positive decimal environment variable, else 0.
int env_int(const char* name) {
  const char* v = std::getenv(name);
  if (!v || !*v) return 0;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n > 0 && n < (1L << 30)) ? static_cast<int>(n) : 0;
}
}  // namespace

int launched_ranks() {
  if (const int n = env_int("OMPI_COMM_WORLD_SIZE")) return n;
  if (const int n = env_int("PMI_SIZE")) return n;
  return 1;
}

int launched_rank() {
  if (const int r = env_int("OMPI_COMM_WORLD_RANK")) return r;
  return env_int("PMI_RANK");
}

Communicator& world() {
  if (g_world) return *g_world;
  const int ranks = launched_ranks();
#ifdef NOISEFORMER_MPI
  if (ranks > 1) {
    g_world = mpi_init_world();
    g_mpi = true;
    return *g_world;
  }
#else
  if (ranks > 1)
    throw std::runtime_error("started as " + std::to_string(ranks) +
                             " ranks (mpirun), but this noiseformer was built without MPI: install "
                             "libopenmpi-dev and rebuild (cmake -DNOISEFORMER_MPI=ON), or run one process");
#endif
  g_world = std::make_unique<SoloCommunicator>();
  return *g_world;
}

Communicator* world_if_started() { return g_world.get(); }

Communicator& gradient_communicator(Communicator& job, Device device) {
  if (device == Device::CPU) return job;
#ifdef NOISEFORMER_NCCL
  if (!g_gpu || g_gpu_job != &job) {
    g_gpu.reset();
    g_gpu = make_nccl_communicator(job, local_gpu());
    g_gpu_job = &job;
  }
  return *g_gpu;
#else
  throw std::runtime_error("data parallelism on the GPU needs NCCL: build with -DNOISEFORMER_CUDA=ON and MPI, "
                           "with NCCL installed (NCCL_ROOT)");
#endif
}

void finalize_world() {
  g_gpu.reset();
  g_gpu_job = nullptr;
  g_world.reset();
#ifdef NOISEFORMER_MPI
  if (g_mpi) mpi_finalize();
#endif
  g_mpi = false;
}

void abort_world(int code) {
#ifdef NOISEFORMER_MPI
  if (g_mpi) mpi_abort(code);
#endif
  std::exit(code);
}

}  // namespace nf
