#pragma once
// A communicator: the ranks of one data-parallel job and the collective operations the training
// loop needs (docs/distributed.md). Three implementations:
//   SoloCommunicator (here)            one process: every collective is the identity
//   MpiCommunicator (mpi_communicator.h)    host buffers over MPI (mpirun -np N …)
//   NcclCommunicator (nccl_communicator.h)  device buffers over NCCL, host ones over MPI
// Every call is collective unless it says otherwise: all ranks make the same calls in the same
// order, or the job hangs. Only the thread that created the communicator calls it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tensor/dtype.h"

namespace nf {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;  // 0 … size()−1 (not collective)
  virtual int size() const = 0;  // not collective
  virtual const char* name() const = 0;  // "solo", "mpi", "nccl" (not collective)

  // In place: data[i] becomes the sum over ranks of data[i] (host memory). A value that only one
  // rank contributes (the others giving 0) comes back exactly.
  virtual void allreduce_sum(double* data, size_t n) = 0;
  // The root's string, on every rank.
  virtual void broadcast(std::string& s, int root) = 0;

  // ---- non-blocking sums of float32 buffers (the gradient buckets) ----------------------------
  // Where those buffers live: host memory for MPI, the rank's GPU for NCCL (not collective).
  virtual Device buffer_device() const = 0;
  // Starts summing data[0 … n) over ranks in place; returns a handle for wait(). The buffer must
  // stay untouched until then.
  virtual int start_allreduce_sum(float* data, size_t n) = 0;
  // Lets started sums advance (MPI moves a non-blocking collective only inside MPI calls): the
  // reducer calls it whenever a gradient becomes ready. Not collective.
  virtual void progress() {}
  // Until the sum `handle` is complete and its buffer may be read (on its device's stream order).
  // Not collective: each rank waits for its own handles.
  virtual void wait(int handle) = 0;

  // Buffer helpers on buffer_device() (not collective): copy n floats, set n floats to zero.
  virtual void copy(float* dst, const float* src, size_t n) = 0;
  virtual void zero(float* dst, size_t n) = 0;
};

// One process: the job is this process alone.
class SoloCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* name() const override { return "solo"; }
  void allreduce_sum(double*, size_t) override {}
  void broadcast(std::string&, int) override {}
  Device buffer_device() const override { return Device::CPU; }
  int start_allreduce_sum(float*, size_t) override { return 0; }
  void wait(int) override {}
  void copy(float* dst, const float* src, size_t n) override;
  void zero(float* dst, size_t n) override;
};

}  // namespace nf
