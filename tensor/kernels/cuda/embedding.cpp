// CUDA embedding (tensor/kernels/embedding.h), through tensor/kernels/cuda/embedding.cu: the
// backward sorts positions by id (stable) and sums each id's rows in position order, as the CPU.
#include "tensor/kernels/cuda/embedding.h"

#include "tensor/kernels/cuda/cuda_ops.h"

namespace nf {
namespace kernels {
namespace gpu {

void embedding_forward(const Tensor& out, const Tensor& weight, const Tensor& ids) {
  cuda::embedding_forward(weight.dtype(), out.device_data(), weight.device_data(),
                          static_cast<const int64_t*>(ids.device_data()), ids.numel(), weight.size(1));
}

void embedding_backward(const Tensor& dweight, const Tensor& g, const Tensor& ids) {
  cuda::embedding_backward(g.dtype(), dweight.device_data(), g.device_data(),
                           static_cast<const int64_t*>(ids.device_data()), ids.numel(), dweight.size(0),
                           dweight.size(1));
}

}  // namespace gpu
}  // namespace kernels
}  // namespace nf
