#pragma once
// How a kernel reaches its device. Every kernel in tensor/kernels/*.h is one function with one
// body per device:
//   tensor/kernels/cpu/<family>.cpp   the CPU loops (OpenMP, OpenBLAS), which begin with
//   tensor/kernels/cuda/<family>.cpp  the CUDA twin of the same name in nf::kernels::gpu,
//                                     which launches the kernels of tensor/kernels/cuda/*.cu
// The CPU body starts with NF_ON_GPU(tensor, call): in a CUDA build, when `tensor` lives on the
// GPU, the twin runs instead and the CPU loops below it are never reached. In a CPU-only build
// the line vanishes (no tensor can live on a GPU there: allocating one fails first).
//
//   void softmax_forward(const Tensor& y, const Tensor& x) {
//     NF_ON_GPU(y, softmax_forward(y, x));
//     ... the loops over y.data<T>() and x.data<T>() ...
//   }
#include "tensor/tensor.h"

#ifdef NOISEFORMER_CUDA
#define NF_ON_GPU(t, call)                                    \
  do {                                                        \
    if ((t).device() == ::nf::Device::CUDA) return gpu::call; \
  } while (0)
#else
#define NF_ON_GPU(t, call) \
  do {                     \
  } while (0)
#endif
