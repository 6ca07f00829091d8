#include "dist/nccl_communicator.h"

#include <cuda_runtime.h>
#include <nccl.h>

#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace nf {

namespace {

void check_cuda(cudaError_t rc, const char* call) {
  if (rc != cudaSuccess) throw std::runtime_error(std::string("nccl communicator: ") + call + ": " + cudaGetErrorString(rc));
}
void check_nccl(ncclResult_t rc, const char* call) {
  if (rc != ncclSuccess) throw std::runtime_error(std::string("nccl communicator: ") + call + ": " + ncclGetErrorString(rc));
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(Communicator& host, int device) : host_(host), device_(device) {
    check_cuda(cudaSetDevice(device_), "cudaSetDevice");
    ncclUniqueId id;
    std::string bytes(sizeof id, '\0');
    if (host_.rank() == 0) {
      check_nccl(ncclGetUniqueId(&id), "ncclGetUniqueId");
      std::memcpy(bytes.data(), &id, sizeof id);
    }
    host_.broadcast(bytes, 0);
    std::memcpy(&id, bytes.data(), sizeof id);
    check_nccl(ncclCommInitRank(&comm_, host_.size(), id, host_.rank()), "ncclCommInitRank");
    // Non-blocking: the legacy default stream (every kernel's) does not wait for it, nor it for that.
    check_cuda(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
  }
  ~NcclCommunicator() override {
    cudaStreamSynchronize(stream_);
    for (Slot& s : slots_) {
      cudaEventDestroy(s.packed);
      cudaEventDestroy(s.summed);
    }
    cudaStreamDestroy(stream_);
    ncclCommDestroy(comm_);
  }
  int rank() const override { return host_.rank(); }
  int size() const override { return host_.size(); }
  const char* name() const override { return "nccl"; }
  void allreduce_sum(double* data, size_t n) override { host_.allreduce_sum(data, n); }
  void broadcast(std::string& s, int root) override { host_.broadcast(s, root); }

  Device buffer_device() const override { return Device::CUDA; }
  int start_allreduce_sum(float* data, size_t n) override {
    size_t h = 0;
    while (h < slots_.size() && slots_[h].busy) ++h;
    if (h == slots_.size()) {
      Slot s;
      check_cuda(cudaEventCreateWithFlags(&s.packed, cudaEventDisableTiming), "cudaEventCreateWithFlags");
      check_cuda(cudaEventCreateWithFlags(&s.summed, cudaEventDisableTiming), "cudaEventCreateWithFlags");
      slots_.push_back(s);
    }
    Slot& s = slots_[h];
    // The bucket was packed on the default stream: the sum starts after that, on our stream.
    check_cuda(cudaEventRecord(s.packed, cudaStreamLegacy), "cudaEventRecord");
    check_cuda(cudaStreamWaitEvent(stream_, s.packed, 0), "cudaStreamWaitEvent");
    check_nccl(ncclAllReduce(data, data, n, ncclFloat, ncclSum, comm_, stream_), "ncclAllReduce");
    check_cuda(cudaEventRecord(s.summed, stream_), "cudaEventRecord");
    s.busy = true;
    return static_cast<int>(h);
  }
  void wait(int handle) override {
    Slot& s = slots_.at(static_cast<size_t>(handle));
    // Whatever the default stream runs next (the unpacking copies) waits for the sum; the host does not.
    check_cuda(cudaStreamWaitEvent(cudaStreamLegacy, s.summed, 0), "cudaStreamWaitEvent");
    s.busy = false;
  }
  void copy(float* dst, const float* src, size_t n) override {
    if (n) check_cuda(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, cudaStreamLegacy),
                      "cudaMemcpyAsync");
  }
  void zero(float* dst, size_t n) override {
    if (n) check_cuda(cudaMemsetAsync(dst, 0, n * sizeof(float), cudaStreamLegacy), "cudaMemsetAsync");
  }

 private:
  struct Slot {
    cudaEvent_t packed{}, summed{};
    bool busy = false;
  };
  Communicator& host_;
  int device_;
  ncclComm_t comm_{};
  cudaStream_t stream_{};
  std::vector<Slot> slots_;
};

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  return (*end == '\0' && n >= 0 && n < (1L << 20)) ? static_cast<int>(n) : fallback;
}

}  // namespace

int local_gpu() {
  int local = env_int("OMPI_COMM_WORLD_LOCAL_RANK", -1);
  if (local < 0) local = env_int("MPI_LOCALRANKID", -1);
  if (local < 0) local = env_int("SLURM_LOCALID", 0);
  int count = 0;
  check_cuda(cudaGetDeviceCount(&count), "cudaGetDeviceCount");
  if (count < 1) throw std::runtime_error("nccl communicator: no CUDA device");
  return local % count;
}

std::unique_ptr<Communicator> make_nccl_communicator(Communicator& host, int device) {
  return std::make_unique<NcclCommunicator>(host, device);
}

}  // namespace nf
