#pragma once
// Sums the gradients of a model's parameters over the ranks of a communicator, overlapping the
// communication with the backward pass as PyTorch's DistributedDataParallel does:
//
//   - the parameters are grouped, in reverse order (the order backward finishes them: the last
//     layers' gradients are final first), into buckets of about `bucket_bytes`, each with one
//     flat float32 buffer on the communicator's device;
//   - during the last backward pass of a rank's step (begin() … finish()), the engine reports
//     each parameter whose gradient is final (autograd/node.h: GradReadyHook); when every
//     gradient of a bucket is, the bucket is packed into its buffer and its sum started
//     (non-blocking), while backward goes on with the earlier layers;
//   - buckets start strictly in index order on every rank (a ready bucket waits for the ones
//     before it), so the ranks' collective calls always match;
//   - finish() starts what has not started, waits, and writes each sum back into its parameter's
//     .grad. A parameter this rank's backward did not reach counts as zeros when another rank
//     has a gradient for it, and keeps no gradient when no rank has (as in one process, the
//     optimizer then leaves it alone).
//
// The sum is a sum: the caller scales each loss by 1/(micro-batches over all ranks) so that the
// sum is the gradient of the mean loss (docs/distributed.md has the derivation).
#include <cstddef>
#include <memory>
#include <unordered_map>
#include <vector>

#include "autograd/node.h"
#include "dist/communicator.h"
#include "tensor/tensor.h"

namespace nf {

class GradReducer {
 public:
  // params: float32, all on comm.buffer_device(), each once. bucket_bytes > 0: a bucket takes
  // parameters until it holds at least that many bytes (so one large parameter is a bucket alone).
  GradReducer(const std::vector<Tensor>& params, Communicator& comm, size_t bucket_bytes);
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // Before this rank's last backward pass of the step: buckets start as their gradients become final.
  void begin();
  // Collective: every bucket started, waited for, and its sum written to the gradients. Ends
  // what begin() started; also called after a local failure (with whatever gradients there are),
  // so that no other rank waits for this one's buckets forever.
  void finish();

  // What the last begin() … finish() cost this rank.
  struct Timing {
    double comm_seconds = 0;  // inside the reducer's own work: packing, MPI/NCCL calls, waiting, unpacking
    double wait_seconds = 0;  // of which in finish(), after backward: the part not hidden by backward
    int started_in_backward = 0;  // buckets whose sum started before backward ended
  };
  const Timing& timing() const { return timing_; }
  size_t bucket_count() const { return buckets_.size(); }
  // Parameter indices (into the constructor's list) of bucket b, in packing order.
  const std::vector<size_t>& bucket_params(size_t b) const { return buckets_[b].params; }
  Communicator& communicator() const { return comm_; }

 private:
  struct Bucket {
    std::vector<size_t> params;
    std::vector<size_t> offsets;  // of each parameter in the buffer, in floats
    size_t numel = 0;  // gradient floats; the buffer has one flag per parameter after them
    Tensor buffer;
    size_t pending = 0;  // gradients not yet final in this step
    bool started = false;
    int handle = -1;
  };
  void reset();  // a new step: no gradient final, no bucket started
  void on_ready(const Tensor& leaf);
  void start_ready_buckets();
  void start(Bucket& b);
  void upload_flags(Bucket& b, const std::vector<float>& flags);
  std::vector<float> download_flags(const Bucket& b) const;

  std::vector<Tensor> params_;
  Communicator& comm_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;  // parameter index -> bucket
  std::vector<bool> ready_;        // parameter index -> final in this step
  std::unordered_map<const TensorImpl*, size_t> index_;
  size_t next_to_start_ = 0;
  bool active_ = false;  // between begin() and finish()
  std::unique_ptr<GradReadyHook> hook_;
  Timing timing_;
};

}  // namespace nf
