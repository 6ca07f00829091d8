#pragma once
// noiseformer's public C++ API in one include: #include <noiseformer/noiseformer.h>
// (installed under <prefix>/include/noiseformer/; see docs/library.md). Everything is in
// namespace nf. Each header can also be included on its own, e.g. <noiseformer/models/gpt.h>.
//
// The headers include each other as "tensor/tensor.h", so both <prefix>/include and
// <prefix>/include/noiseformer must be on the include path: the CMake target
// noiseformer::noiseformer and `pkg-config --cflags noiseformer` add both.

#include "noiseformer/version.h"  // NOISEFORMER_VERSION, generated from project(VERSION)

// tensor/: Tensor, Shape, DType, Device, the factories (zeros, ones, from_vector, ...), Generator
#include "tensor/dtype.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

// autograd/: every differentiable op (add, matmul, softmax, cross_entropy, ...), no_grad,
// gradient checking, pictures (to_dot) and traces of the graph
#include "autograd/dot.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "autograd/trace.h"

// nn/: Module and the layers, the attention variants and their configuration
#include "nn/attention.h"
#include "nn/attention_config.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/mlp.h"
#include "nn/module.h"

// models/: GPTConfig, GPT (forward, loss, generate), the sequence classifier
#include "models/gpt.h"
#include "models/gpt_config.h"
#include "models/sequence_classifier.h"

// optim/: AdamW, SGD, gradient clipping, the learning-rate schedule
#include "optim/optim.h"

// data/: tokenizers (GPT-2's too), prepare_dataset, TokenData, BatchSampler
#include "data/dataset.h"
#include "data/gpt2_pretokenize.h"
#include "data/gpt2_tokenizer.h"
#include "data/tokenizer.h"
#include "data/utf8.h"

// io/: checkpoints (save_model / load_model), safetensors, Hugging Face GPT-2 weights
#include "io/checkpoint.h"
#include "io/gpt2_weights.h"
#include "io/safetensors.h"

// dist/: data parallelism: communicators (one process, MPI, NCCL), the job (world), the
// bucketed gradient all-reduce, errors agreed by every rank
#include "dist/collective.h"
#include "dist/communicator.h"
#include "dist/grad_reducer.h"
#include "dist/world.h"

// train/: the training loop (run_training, TrainOptions), evaluation, resumable state
#include "train/train_state.h"
#include "train/trainer.h"
