// GPU training-step benchmark: the GPT of models/gpt.cpp on Device::CUDA,
// trained with AdamW on random tokens, the same model and step as bench/bench_train.cpp on the
// CPU:
//
//   build-cuda/bench_cuda --preset gpt2
//
// For each preset and attention it prints
//   ms/step   median wall time of one step (zero_grad + forward + loss + backward + AdamW),
//             with the device synchronised before the clock stops
//   tok/s     B·T / step time
//   TFLOP/s   model FLOPs / step time, model FLOPs per step = B·T·(6·N + 12·L·T·C) (nanoGPT's
//             estimate_mfu: N = parameters without wpe, the tied wte counted once; 12·L·T·C
//             the attention products, forward and backward, counted unmasked)
//   MFU       TFLOP/s ÷ the GPU's peak for the precision in use: dense FP32 (CUDA cores), or
//             dense TF32 tensor cores with --tf32. Peaks are looked up by device name (H100 SXM,
//             H100 PCIe, H200, A100) or given with --peak-tflops.
//   peak MiB  the caching allocator's peak device bytes in use during the timed steps
//
// Presets match bench_train's (and the PyTorch peer's): tiny (8×64, 4×128), small (4×256, 6×384), gpt2 (4×1024,
// 12×768, V = 50304). Usage:
//   bench_cuda [--preset tiny|small|gpt2|all|a,b] [--attention base|symmetric|...|a,b]
//              [--steps N] [--warmup N] [--batch-size B] [--block-size T] [--tf32]
//              [--peak-tflops X] [--json]
// Without the CUDA backend compiled in it prints one line saying so; without a GPU at run
// time, one line saying there is no CUDA device (exit status 1).
#include <cstdio>

#ifndef NOISEFORMER_CUDA

int main() {
  std::puts("bench_cuda: built without CUDA (configure with -DNOISEFORMER_CUDA=ON)");
  return 0;
}

#else

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "bench/bench_util.h"
#include "models/gpt.h"
#include "tensor/kernels/cuda/cuda_backend.h"
#include "autograd/ops.h"
#include "optim/optim.h"
#include "train/step.h"

using namespace nf;

namespace {

struct Preset {
  const char* name;
  int64_t B, T, L, H, C, V;
  int steps, warmup;
};
const Preset kPresets[] = {
    {"tiny", 8, 64, 4, 4, 128, 256, 50, 10},
    {"small", 4, 256, 6, 6, 384, 256, 30, 5},
    {"gpt2", 4, 1024, 12, 12, 768, 50304, 20, 5},
};

using Clock = std::chrono::steady_clock;

using nf::bench::median;

using nf::bench::split_list;

// Dense peak TFLOP/s (FP32 CUDA cores, TF32 tensor cores) by device name; 0 when unknown.
void peaks_for(const std::string& name, double& fp32, double& tf32) {
  fp32 = tf32 = 0;
  auto has = [&](const char* s) { return name.find(s) != std::string::npos; };
  if (has("H200") || (has("H100") && (has("SXM") || has("HBM3")))) {
    fp32 = 66.9;
    tf32 = 494.7;
  } else if (has("H100")) {  // PCIe
    fp32 = 51.2;
    tf32 = 378.0;
  } else if (has("A100")) {
    fp32 = 19.5;
    tf32 = 156.0;
  }
}

struct Options {
  std::vector<std::string> presets{"small", "gpt2"}, attentions{"base"};
  int steps = -1, warmup = -1;
  int64_t batch = 0, block = 0;
  bool tf32 = false, json = false;
  double peak = 0;
};

struct Result {
  std::string preset, attention;
  int64_t B = 0, T = 0, params = 0;
  double ms = 0, tok_s = 0, tflops = 0, mfu = 0, peak_mib = 0, loss = 0;
};

Result run(const Preset& p, const std::string& attention, const Options& o, double peak_tflops) {
  GPTConfig cfg;
  cfg.n_layer = p.L;
  cfg.n_head = p.H;
  cfg.n_embd = p.C;
  cfg.vocab_size = p.V;
  cfg.block_size = o.block ? o.block : p.T;
  cfg.bias = true;
  cfg.dropout = 0.0;
  cfg.attention = attention;
  const int64_t B = o.batch ? o.batch : p.B, T = cfg.block_size;
  const int steps = o.steps > 0 ? o.steps : p.steps, warmup = o.warmup >= 0 ? o.warmup : p.warmup;

  GPT model(cfg, 0);
  model.to(Device::CUDA);
  model.train();
  AdamW opt({{model.decay_parameters(), 0.1}, {model.no_decay_parameters(), 0.0}}, 0.9, 0.95, 1e-8);
  Generator g(1);
  std::vector<int64_t> xs(B * T), ys(B * T);
  for (auto& v : xs) v = static_cast<int64_t>(g.next_u64() % static_cast<uint64_t>(p.V));
  for (auto& v : ys) v = static_cast<int64_t>(g.next_u64() % static_cast<uint64_t>(p.V));
  Tensor x = from_vector<int64_t>(xs, {B, T}).to(Device::CUDA), y = from_vector<int64_t>(ys, {B, T}).to(Device::CUDA);

  std::vector<double> times;
  double loss = 0;
  for (int i = 0; i < warmup + steps; ++i) {
    if (i == warmup) cuda::reset_peak();
    cuda::synchronize();
    const auto t0 = Clock::now();
    Tensor step_loss;  // read after the clock stops: item() would synchronise mid-step
    train_step(model, opt, {1, 0.0, 1e-3}, [&](int64_t) { return step_loss = model.forward(x, y).loss; });
    cuda::synchronize();
    if (i >= warmup) times.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    if (i + 1 == warmup + steps) loss = step_loss.item();
  }
  Result r;
  r.preset = p.name;
  r.attention = attention;
  r.B = B;
  r.T = T;
  r.params = model.num_parameters();
  r.ms = median(times) * 1e3;
  r.tok_s = static_cast<double>(B * T) / (r.ms / 1e3);
  const double N = static_cast<double>(r.params - cfg.block_size * cfg.n_embd);  // without wpe
  const double flops = static_cast<double>(B * T) * (6.0 * N + 12.0 * p.L * static_cast<double>(T) * p.C);
  r.tflops = flops / (r.ms / 1e3) / 1e12;
  r.mfu = peak_tflops > 0 ? r.tflops / peak_tflops : 0;
  r.peak_mib = static_cast<double>(cuda::bytes_peak()) / (1024.0 * 1024.0);
  r.loss = loss;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bench_cuda: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--preset") {
      const std::string v = next();
      o.presets = v == "all" ? std::vector<std::string>{"tiny", "small", "gpt2"} : split_list(v);
    } else if (a == "--attention") {
      o.attentions = split_list(next());
    } else if (a == "--steps") {
      o.steps = std::atoi(next().c_str());
    } else if (a == "--warmup") {
      o.warmup = std::atoi(next().c_str());
    } else if (a == "--batch-size") {
      o.batch = std::atoll(next().c_str());
    } else if (a == "--block-size") {
      o.block = std::atoll(next().c_str());
    } else if (a == "--tf32") {
      o.tf32 = true;
    } else if (a == "--peak-tflops") {
      o.peak = std::atof(next().c_str());
    } else if (a == "--json") {
      o.json = true;
    } else {
      std::fprintf(stderr, "bench_cuda: unknown argument %s (see the header of bench/bench_cuda.cpp)\n", a.c_str());
      return 2;
    }
  }
  if (!cuda::available()) {
    std::printf("bench_cuda: %s\n", cuda::device_description().c_str());
    return 1;
  }
  cuda::set_allow_tf32(o.tf32);
  const std::string dev = cuda::device_description();
  double fp32 = 0, tf32 = 0;
  peaks_for(dev, fp32, tf32);
  const double peak = o.peak > 0 ? o.peak : (o.tf32 ? tf32 : fp32);
  if (!o.json)
    std::printf("device: %s; matmuls %s; MFU against %.1f TFLOP/s%s\n\n", dev.c_str(), o.tf32 ? "TF32" : "FP32", peak,
                peak > 0 ? "" : " (unknown GPU: give --peak-tflops)");
  if (!o.json)
    std::printf("%-6s %-12s %4s %5s %10s %10s %12s %9s %7s %9s\n", "preset", "attention", "B", "T", "params",
                "ms/step", "tok/s", "TFLOP/s", "MFU", "peak MiB");
  for (const std::string& pn : o.presets) {
    const Preset* p = nullptr;
    for (const Preset& q : kPresets)
      if (pn == q.name) p = &q;
    if (!p) {
      std::fprintf(stderr, "bench_cuda: unknown preset %s\n", pn.c_str());
      return 2;
    }
    for (const std::string& att : o.attentions) {
      Result r;
      try {
        r = run(*p, att, o, peak);
      } catch (const std::exception& e) {
        std::printf("%-6s %-12s failed: %s\n", p->name, att.c_str(), e.what());
        continue;
      }
      if (o.json)
        std::printf("{\"peer\": \"noiseformer-cuda\", \"device\": \"%s\", \"preset\": \"%s\", \"attention\": \"%s\", "
                    "\"tf32\": %s, \"batch\": %lld, \"block\": %lld, \"params\": %lld, \"ms\": %.2f, \"tok_per_s\": %.1f, "
                    "\"tflops\": %.2f, \"mfu\": %.4f, \"peak_mib\": %.0f, \"loss\": %.4f}\n",
                    dev.c_str(), r.preset.c_str(), r.attention.c_str(), o.tf32 ? "true" : "false",
                    static_cast<long long>(r.B), static_cast<long long>(r.T), static_cast<long long>(r.params), r.ms,
                    r.tok_s, r.tflops, r.mfu, r.peak_mib, r.loss);
      else
        std::printf("%-6s %-12s %4lld %5lld %10lld %10.2f %12.1f %9.2f %6.1f%% %9.0f\n", r.preset.c_str(),
                    r.attention.c_str(), static_cast<long long>(r.B), static_cast<long long>(r.T),
                    static_cast<long long>(r.params), r.ms, r.tok_s, r.tflops, 100.0 * r.mfu, r.peak_mib);
      std::fflush(stdout);
    }
  }
  return 0;
}

#endif  // NOISEFORMER_CUDA
