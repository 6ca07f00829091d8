#include "dist/grad_reducer.h"

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>

namespace nf {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
}  // namespace

GradReducer::GradReducer(const std::vector<Tensor>& params, Communicator& comm, size_t bucket_bytes)
    : params_(params), comm_(comm) {
  if (bucket_bytes == 0) throw std::invalid_argument("GradReducer: bucket size must be positive");
  bucket_of_.resize(params_.size());
  ready_.assign(params_.size(), false);
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    if (p.dtype() != DType::F32)
      throw std::invalid_argument("GradReducer: parameter " + std::to_string(i) + " is not float32");
    if (p.device() != comm_.buffer_device())
      throw std::invalid_argument("GradReducer: parameter " + std::to_string(i) + " is not on the " +
                                  comm_.name() + " communicator's device");
    if (!index_.emplace(p.impl(), i).second)
      throw std::invalid_argument("GradReducer: parameter " + std::to_string(i) + " is listed twice");
  }
  // Reverse order: backward finishes the last layers first.
  for (size_t k = params_.size(); k-- > 0;) {
    if (buckets_.empty() || buckets_.back().numel * sizeof(float) >= bucket_bytes) buckets_.emplace_back();
    Bucket& b = buckets_.back();
    b.params.push_back(k);
    b.offsets.push_back(b.numel);
    b.numel += static_cast<size_t>(params_[k].numel());
    bucket_of_[k] = buckets_.size() - 1;
  }
  // After the gradients, one float per parameter: 1 where this rank has a gradient. Its sum says
  // whether any rank had one; a parameter no rank's backward reached keeps no gradient, so the
  // optimizer skips it exactly as it does in one process.
  for (Bucket& b : buckets_)
    b.buffer = empty({static_cast<int64_t>(b.numel + b.params.size())}, DType::F32, comm_.buffer_device());
}

GradReducer::~GradReducer() = default;

void GradReducer::begin() {
  reset();
  hook_ = std::make_unique<GradReadyHook>([this](const Tensor& leaf) { on_ready(leaf); });
}

void GradReducer::reset() {
  timing_ = Timing{};
  ready_.assign(params_.size(), false);
  for (Bucket& b : buckets_) {
    b.pending = b.params.size();
    b.started = false;
    b.handle = -1;
  }
  next_to_start_ = 0;
  active_ = true;
}

void GradReducer::on_ready(const Tensor& leaf) {
  const auto found = index_.find(leaf.impl());
  if (found == index_.end()) return;  // a leaf that is not one of ours
  const auto t = Clock::now();
  const size_t i = found->second;
  if (!ready_[i]) {
    ready_[i] = true;
    --buckets_[bucket_of_[i]].pending;
    const size_t before = next_to_start_;
    start_ready_buckets();
    timing_.started_in_backward += static_cast<int>(next_to_start_ - before);
  }
  comm_.progress();
  timing_.comm_seconds += seconds_since(t);
}

void GradReducer::start_ready_buckets() {
  while (next_to_start_ < buckets_.size() && buckets_[next_to_start_].pending == 0) start(buckets_[next_to_start_++]);
}

// Packing and unpacking go through Tensor::copy_ and fill_ on views of the bucket buffer, so
// they run on the buffer's device: host memory for MPI (which reads and writes host buffers),
// the rank's GPU for NCCL. Only the communicator itself sees the buffer's raw address.
namespace {
Tensor slice(const Tensor& buffer, size_t offset, size_t n) {
  return buffer.narrow(0, static_cast<int64_t>(offset), static_cast<int64_t>(n));
}
float* flat_of(const Tensor& buffer) { return static_cast<float*>(buffer.device_data()); }
}  // namespace

void GradReducer::start(Bucket& b) {
  std::vector<float> has_grad(b.params.size(), 0.0f);
  for (size_t j = 0; j < b.params.size(); ++j) {
    const Tensor& p = params_[b.params[j]];
    const size_t n = static_cast<size_t>(p.numel());
    const Tensor g = p.grad();
    if (!g.defined()) {
      slice(b.buffer, b.offsets[j], n).fill_(0.0);
      continue;
    }
    // The engine keeps every leaf's gradient contiguous and in the parameter's dtype.
    if (!g.is_contiguous() || g.dtype() != DType::F32 || g.numel() != p.numel())
      throw std::logic_error("GradReducer: a gradient is not a contiguous float32 tensor of its parameter's size");
    slice(b.buffer, b.offsets[j], n).copy_(g.detach().view({-1}));
    has_grad[j] = 1.0f;
  }
  upload_flags(b, has_grad);
  b.handle = comm_.start_allreduce_sum(flat_of(b.buffer), b.numel + b.params.size());
  b.started = true;
}

// The flags sit after the gradients; on a GPU they travel through a small host copy.
void GradReducer::upload_flags(Bucket& b, const std::vector<float>& flags) {
  const Tensor host = from_vector(flags, {static_cast<int64_t>(flags.size())});
  slice(b.buffer, b.numel, flags.size()).copy_(host);
}

std::vector<float> GradReducer::download_flags(const Bucket& b) const {
  return slice(b.buffer, b.numel, b.params.size()).to_vector<float>();
}

void GradReducer::finish() {
  const auto t = Clock::now();
  hook_.reset();
  if (!active_) reset();  // a rank that failed before its last backward: nothing started yet
  active_ = false;
  // Whatever has not started: every rank starts every bucket, in index order.
  while (next_to_start_ < buckets_.size()) start(buckets_[next_to_start_++]);
  for (Bucket& b : buckets_) {
    comm_.wait(b.handle);
    const std::vector<float> ranks_with_grad = download_flags(b);
    for (size_t j = 0; j < b.params.size(); ++j) {
      Tensor p = params_[b.params[j]];
      if (ranks_with_grad[j] == 0.0f) continue;  // no rank has one: it stays without gradient
      Tensor g = p.grad();
      if (!g.defined()) {  // other ranks have one: this rank's share was zeros
        g = empty(p.shape(), DType::F32, p.device());
        p.set_grad(g);
      }
      g.copy_(slice(b.buffer, b.offsets[j], static_cast<size_t>(p.numel())).view(p.shape()));
    }
  }
  const double s = seconds_since(t);
  timing_.wait_seconds = s;
  timing_.comm_seconds += s;
}

}  // namespace nf
