// Training-step benchmark: the GPT of models/gpt.cpp trained with AdamW on random
// tokens, exactly as bench/torch_gpt.py trains its PyTorch twin, so the two can be
// compared in one run (scripts/bench_vs_torch.sh). For each shape and attention it prints
//   ms/step   median wall time of one step (zero_grad + forward + loss + backward + AdamW)
//   tok/s     B·T / step time
//   GFLOP/s   model FLOPs / step time, model FLOPs per step = B·T·(6·N + 12·L·T·C)
//             (nanoGPT's estimate_mfu / PaLM appendix B: N = parameters without wpe, the tied
//             wte counted once as it is used by the lm_head matmul; 12·L·T·C is the attention
//             QKᵀ and A·V products, forward and backward, counted unmasked)
//   peak MiB  peak resident set of the process (getrusage ru_maxrss) after the timed steps,
//             before the floor below allocates its scratch buffers
//   floor ms  the matmul-only floor: every GEMM the same step ran (forward and backward shapes,
//             transpose flags and batch counts, recorded by tensor/gemm_trace.h during a step)
//             timed alone with raw cblas_sgemm on scratch buffers in the same run;
//             each shape is timed three ways (BLAS's threads per product / the threads sharing
//             out blocks of each product / OpenMP over a batch with serial BLAS) and the
//             fastest counts
//   x floor   ms/step ÷ floor ms
//
// Usage:
//   bench_train [--preset tiny|small|gpt2|all|a,b] [--attention base|...|all|a,b]
//               [--steps N] [--warmup N] [--threads N] [--no-floor] [--json]
//               [--batch-size B] [--block-size T]
// With several presets or attentions each configuration runs in a fresh child process (so each
// peak RSS is its own); the table is printed at the end. --json prints one JSON object per
// configuration instead of the table.
#include <cblas.h>
#include <omp.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "autograd/node.h"
#include "bench/bench_util.h"
#include "models/gpt.h"
#include "tensor/blas_setup.h"
#include "tensor/gemm_trace.h"
#include "autograd/ops.h"
#include "tensor/storage.h"
#include "optim/optim.h"
#include "train/step.h"

using namespace nf;

extern "C" char* openblas_get_corename();
extern "C" void openblas_set_num_threads(int);

namespace {

struct Preset {
  const char* name;
  int64_t B, T, L, H, C, V;
  int steps, warmup;  // defaults (GPT-2-small steps take seconds)
};
const Preset kPresets[] = {
    {"tiny", 8, 64, 4, 4, 128, 256, 20, 5},
    {"small", 4, 256, 6, 6, 384, 256, 10, 3},
    {"gpt2", 1, 1024, 12, 12, 768, 50304, 5, 2},
};
const char* kAttentions[] = {"base", "symmetric", "noise-v1", "noise-v2", "diff", "shared-diff", "selective"};

using Clock = std::chrono::steady_clock;
double secs(Clock::time_point a, Clock::time_point b) { return std::chrono::duration<double>(b - a).count(); }

using nf::bench::median;

double cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1e-6 * (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}
long minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}
double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // KiB on Linux
}

using nf::bench::split_list;

struct Options {
  std::vector<std::string> presets{"small"}, attentions{"base"};
  int steps = -1, warmup = -1, threads = 0;
  int64_t batch = 0, block = 0;
  bool floor = true, json = false;
};

// ---- the matmul-only floor ---------------------------------------------------------------------
// Times one recorded product shape with raw cblas_sgemm three ways: per product with BLAS's own
// threads; per product with the threads sharing out its blocks of C (sgemm_threads_shared,
// as the engine does); and (batched) one product per OpenMP thread with BLAS serial inside.
// Returns the fastest median.
std::pair<double, double> time_gemm(const GemmCall& c, float* A, float* Bm, float* Cm) {
  const int64_t M = c.M, N = c.N, K = c.K;
  const int64_t lda = c.trans_a ? M : K, ldb = c.trans_b ? K : N;
  const float beta = c.accumulate ? 1.f : 0.f;
  auto one = [&](int64_t i) {
    cblas_sgemm(CblasRowMajor, c.trans_a ? CblasTrans : CblasNoTrans, c.trans_b ? CblasTrans : CblasNoTrans, M, N, K,
                1.f, A + i * M * K, lda, Bm + i * K * N, ldb, beta, Cm + i * M * N, N);
  };
  auto serial = [&] { for (int64_t i = 0; i < c.batch; ++i) one(i); };
  auto shared = [&] {
    for (int64_t i = 0; i < c.batch; ++i)
      sgemm_threads_shared(c.trans_a, c.trans_b, M, N, K, 1.f, A + i * M * K, lda, Bm + i * K * N, ldb, beta,
                           Cm + i * M * N, N);
  };
  auto parallel = [&] {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < c.batch; ++i) one(i);
  };
  auto measure = [&](auto&& f) {
    f();  // warm-up
    std::vector<double> t, tc;
    double total = 0;
    while (t.size() < 3 || (total < 0.05 && t.size() < 50)) {
      const double c0 = cpu_seconds();
      auto t0 = Clock::now();
      f();
      t.push_back(secs(t0, Clock::now()));
      tc.push_back(cpu_seconds() - c0);
      total += t.back();
    }
    return std::make_pair(median(t), median(tc));
  };
  auto best = measure(serial);
  auto sh = measure(shared);
  if (sh.first < best.first) best = sh;
  if (c.batch > 1) {
    auto p = measure(parallel);
    if (p.first < best.first) best = p;
  }
  return best;
}

struct Floor {
  double ms = 0, cpu_ms = 0, gflop = 0;
  int distinct = 0, calls = 0;
};

Floor matmul_floor(const std::vector<GemmCall>& trace) {
  using Key = std::tuple<bool, bool, int64_t, int64_t, int64_t, int64_t, bool>;
  std::map<Key, std::pair<GemmCall, int>> groups;
  for (const GemmCall& c : trace) {
    auto& g = groups[Key{c.trans_a, c.trans_b, c.M, c.N, c.K, c.batch, c.accumulate}];
    g.first = c;
    ++g.second;
  }
  int64_t na = 0, nb = 0, nc = 0;
  for (auto& [k, g] : groups) {
    const GemmCall& c = g.first;
    na = std::max(na, c.batch * c.M * c.K);
    nb = std::max(nb, c.batch * c.K * c.N);
    nc = std::max(nc, c.batch * c.M * c.N);
  }
  std::vector<float> A(na), B(nb), C(nc, 0.f);
  for (int64_t i = 0; i < na; ++i) A[i] = 0.01f * static_cast<float>((i * 7919) % 201 - 100);
  for (int64_t i = 0; i < nb; ++i) B[i] = 0.01f * static_cast<float>((i * 104729) % 199 - 99);
  Floor f;
  for (auto& [k, g] : groups) {
    const GemmCall& c = g.first;
    const auto t = time_gemm(c, A.data(), B.data(), C.data());
    f.ms += 1e3 * g.second * t.first;
    f.cpu_ms += 1e3 * g.second * t.second;
    f.gflop += 2e-9 * g.second * static_cast<double>(c.batch) * c.M * c.N * c.K;
    f.calls += g.second;
    ++f.distinct;
  }
  return f;
}

// ---- one configuration ---------------------------------------------------------------------------
struct Result {
  std::string preset, attention, core;
  int64_t params = 0, B = 0, T = 0;
  int steps = 0, threads = 0;
  double faults = 0, tensor_peak_mib = 0, cached_mib = 0;
  double ms = 0, ms_min = 0, cpu_ms = 0, fwd_ms = 0, bwd_ms = 0, opt_ms = 0, tok_s = 0, model_gflop = 0,
         gflops = 0, peak_mib = 0;
  Floor floor;
};

std::string to_json(const Result& r) {
  char buf[1024];
  std::snprintf(buf, sizeof buf,
                "{\"engine\": \"noiseformer\", \"preset\": \"%s\", \"attention\": \"%s\", \"params\": %lld, "
                "\"B\": %lld, \"T\": %lld, \"threads\": %d, \"blas_core\": \"%s\", \"steps\": %d, \"ms\": %.2f, "
                "\"ms_min\": %.2f, \"cpu_ms\": %.2f, \"fwd_ms\": %.2f, \"bwd_ms\": %.2f, \"opt_ms\": %.2f, "
                "\"tok_per_s\": %.1f, \"model_gflop\": %.3f, \"gflops\": %.1f, \"peak_rss_mib\": %.0f, "
                "\"floor_ms\": %.2f, \"floor_cpu_ms\": %.2f, \"floor_gflop\": %.3f, \"floor_calls\": %d, "
                "\"step_over_floor\": %.3f, \"faults_per_step\": %.0f, \"tensor_peak_mib\": %.0f, \"cached_mib\": %.0f}",
                r.preset.c_str(), r.attention.c_str(), (long long)r.params, (long long)r.B, (long long)r.T,
                r.threads, r.core.c_str(), r.steps, r.ms, r.ms_min, r.cpu_ms, r.fwd_ms, r.bwd_ms, r.opt_ms, r.tok_s,
                r.model_gflop, r.gflops, r.peak_mib, r.floor.ms, r.floor.cpu_ms, r.floor.gflop, r.floor.calls,
                r.floor.ms > 0 ? r.ms / r.floor.ms : 0.0, r.faults, r.tensor_peak_mib, r.cached_mib);
  return buf;
}

Result run_one(const Preset& p, const std::string& attention, const Options& o) {
  GPTConfig cfg;
  cfg.n_layer = p.L;
  cfg.n_head = p.H;
  cfg.n_embd = p.C;
  cfg.block_size = o.block > 0 ? o.block : p.T;
  cfg.vocab_size = p.V;
  cfg.bias = true;
  cfg.dropout = 0.0;  // torch_gpt.py has no dropout
  cfg.attention = attention;
  const int64_t B = o.batch > 0 ? o.batch : p.B, T = cfg.block_size;
  const int steps = o.steps > 0 ? o.steps : p.steps, warmup = o.warmup >= 0 ? o.warmup : p.warmup;

  GPT model(cfg, 1337);
  model.train();
  AdamW opt({{model.decay_parameters(), 0.1}, {model.no_decay_parameters(), 0.0}}, 0.9, 0.95);
  Generator gen(0);
  std::vector<int64_t> xs(B * T), ys(B * T);
  for (auto& v : xs) v = static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(p.V));
  for (auto& v : ys) v = static_cast<int64_t>(gen.next_u64() % static_cast<uint64_t>(p.V));
  Tensor x = from_vector(xs, {B, T}), y = from_vector(ys, {B, T});

  std::vector<double> t_step, t_cpu, t_fwd, t_bwd, t_opt, t_faults;
  std::vector<GemmCall> trace;
  for (int i = 0; i < warmup + steps; ++i) {
    const bool record = i == warmup - 1 || (warmup == 0 && i == 0);
    if (record && o.floor) set_gemm_trace(&trace);
    const double c0 = cpu_seconds();
    const long f0 = minor_faults();
    const auto t0 = Clock::now();
    // The step `noiseformer train` takes (train/step.h), without clipping as torch_gpt.py. Only the
    // loss leaves the closure, as torch_gpt.py's model returns only the loss: the (B, T, V) logits
    // are then held only by cross_entropy's backward, which frees them.
    const StepTimes phases =
        train_step(model, opt, {1, 0.0, 1e-3}, [&](int64_t) { return model.forward(x, y).loss; });
    const auto t1 = Clock::now();
    set_gemm_trace(nullptr);
    if (i >= warmup) {
      t_step.push_back(secs(t0, t1));
      t_cpu.push_back(cpu_seconds() - c0);
      t_fwd.push_back(phases.forward);
      t_bwd.push_back(phases.backward);
      t_opt.push_back(phases.optimizer);
      t_faults.push_back(static_cast<double>(minor_faults() - f0));
    }
  }

  Result r;
  r.preset = p.name;
  r.attention = attention;
  r.core = openblas_get_corename();
  r.params = model.num_parameters();
  r.B = B;
  r.T = T;
  r.steps = steps;
  r.threads = omp_get_max_threads();
  r.ms = 1e3 * median(t_step);
  r.ms_min = 1e3 * *std::min_element(t_step.begin(), t_step.end());
  r.cpu_ms = 1e3 * median(t_cpu);
  r.fwd_ms = 1e3 * median(t_fwd);
  r.bwd_ms = 1e3 * median(t_bwd);
  r.opt_ms = 1e3 * median(t_opt);
  r.faults = median(t_faults);
  r.tok_s = static_cast<double>(B * T) / (r.ms / 1e3);
  const double N = static_cast<double>(r.params - cfg.block_size * cfg.n_embd);  // without wpe
  r.model_gflop = 1e-9 * static_cast<double>(B * T) * (6.0 * N + 12.0 * cfg.n_layer * T * cfg.n_embd);
  r.gflops = r.model_gflop / (r.ms / 1e3);
  r.peak_mib = peak_rss_mib();
  r.tensor_peak_mib = cpu_bytes_peak() / 1048576.0;
  r.cached_mib = cpu_bytes_cached() / 1048576.0;
  if (o.floor) r.floor = matmul_floor(trace);
  return r;
}

void print_header() {
  std::printf("%-6s %-12s %7s %9s %9s %8s %9s %9s %8s %8s %9s %8s %7s  %s\n", "preset", "attention", "B×T",
              "ms/step", "tok/s", "GFLOP/s", "peak MiB", "floor ms", "x floor", "cpu ms", "floor cpu", "x floor", "faults",
              "fwd/bwd/opt ms");
}
void print_row(const Result& r) {
  char bt[32];
  std::snprintf(bt, sizeof bt, "%lldx%lld", (long long)r.B, (long long)r.T);
  std::printf("%-6s %-12s %7s %9.1f %9.0f %8.1f %9.0f %9.1f %8.2f %8.1f %9.1f %8.2f %7.0f  %.0f/%.0f/%.0f\n",
              r.preset.c_str(), r.attention.c_str(), bt, r.ms, r.tok_s, r.gflops, r.peak_mib, r.floor.ms,
              r.floor.ms > 0 ? r.ms / r.floor.ms : 0.0, r.cpu_ms, r.floor.cpu_ms,
              r.floor.cpu_ms > 0 ? r.cpu_ms / r.floor.cpu_ms : 0.0, r.faults, r.fwd_ms, r.bwd_ms, r.opt_ms);
  std::fflush(stdout);
}

// Reads back the numbers a child printed as JSON (only the fields the table shows).
bool parse_json(const std::string& line, Result& r) {
  auto num = [&](const char* key, double& v) {
    const std::string k = std::string("\"") + key + "\": ";
    size_t at = line.find(k);
    if (at == std::string::npos) return false;
    v = std::strtod(line.c_str() + at + k.size(), nullptr);
    return true;
  };
  auto str = [&](const char* key, std::string& v) {
    const std::string k = std::string("\"") + key + "\": \"";
    size_t at = line.find(k);
    if (at == std::string::npos) return false;
    size_t end = line.find('"', at + k.size());
    v = line.substr(at + k.size(), end - at - k.size());
    return true;
  };
  double B = 0, T = 0;
  bool ok = str("preset", r.preset) && str("attention", r.attention) && num("ms", r.ms) && num("B", B) && num("T", T);
  r.B = static_cast<int64_t>(B);
  r.T = static_cast<int64_t>(T);
  num("tok_per_s", r.tok_s);
  num("gflops", r.gflops);
  num("peak_rss_mib", r.peak_mib);
  num("floor_ms", r.floor.ms);
  num("floor_cpu_ms", r.floor.cpu_ms);
  num("faults_per_step", r.faults);
  num("cpu_ms", r.cpu_ms);
  num("fwd_ms", r.fwd_ms);
  num("bwd_ms", r.bwd_ms);
  num("opt_ms", r.opt_ms);
  return ok;
}

[[noreturn]] void usage(int code) {
  std::fprintf(code ? stderr : stdout,
               "usage: bench_train [--preset tiny|small|gpt2|all|a,b] [--attention NAME|all|a,b]\n"
               "                   [--steps N] [--warmup N] [--threads N] [--batch-size B] [--block-size T]\n"
               "                   [--no-floor] [--json]\n");
  std::exit(code);
}

}  // namespace

int main(int argc, char** argv) {
  use_fastest_blas_kernels(argv);
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(2);
      return argv[++i];
    };
    if (a == "--preset") o.presets = split_list(value());
    else if (a == "--attention") o.attentions = split_list(value());
    else if (a == "--steps") o.steps = std::atoi(value().c_str());
    else if (a == "--warmup") o.warmup = std::atoi(value().c_str());
    else if (a == "--threads") o.threads = std::atoi(value().c_str());
    else if (a == "--batch-size") o.batch = std::atoll(value().c_str());
    else if (a == "--block-size") o.block = std::atoll(value().c_str());
    else if (a == "--no-floor") o.floor = false;
    else if (a == "--json") o.json = true;
    else if (a == "--help" || a == "-h") usage(0);
    else usage(2);
  }
  if (o.presets.size() == 1 && o.presets[0] == "all") o.presets = {"tiny", "small", "gpt2"};
  if (o.attentions.size() == 1 && o.attentions[0] == "all") o.attentions.assign(std::begin(kAttentions), std::end(kAttentions));
  std::vector<const Preset*> presets;
  for (const std::string& name : o.presets) {
    const Preset* found = nullptr;
    for (const Preset& p : kPresets) if (name == p.name) found = &p;
    if (!found) {
      std::fprintf(stderr, "bench_train: unknown preset '%s' (tiny, small, gpt2, all)\n", name.c_str());
      return 2;
    }
    presets.push_back(found);
  }
  for (const std::string& a : o.attentions)
    if (std::find_if(std::begin(kAttentions), std::end(kAttentions), [&](const char* k) { return a == k; }) ==
        std::end(kAttentions)) {
      std::fprintf(stderr, "bench_train: unknown attention '%s'\n", a.c_str());
      return 2;
    }
  if (o.threads > 0) {
    omp_set_num_threads(o.threads);
    openblas_set_num_threads(o.threads);
  }

  const bool several = presets.size() * o.attentions.size() > 1;
  if (!several) {
    Result r = run_one(*presets[0], o.attentions[0], o);
    if (o.json) {
      std::printf("%s\n", to_json(r).c_str());
    } else {
      std::printf("OpenBLAS core %s, %d threads, %d timed steps (median)\n", r.core.c_str(), r.threads, r.steps);
      print_header();
      print_row(r);
    }
    return 0;
  }

  // Several configurations: one child process each (its own peak RSS), before any OpenMP use here.
  char self[4096];
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) {
    std::perror("bench_train: readlink /proc/self/exe");
    return 1;
  }
  self[n] = 0;
  if (!o.json) {
    std::printf("OpenBLAS core %s, one process per configuration\n", openblas_get_corename());
    print_header();
  }
  int failures = 0;
  for (const Preset* p : presets)
    for (const std::string& a : o.attentions) {
      std::string cmd = std::string("'") + self + "' --json --preset " + p->name + " --attention " + a;
      if (o.steps > 0) cmd += " --steps " + std::to_string(o.steps);
      if (o.warmup >= 0) cmd += " --warmup " + std::to_string(o.warmup);
      if (o.threads > 0) cmd += " --threads " + std::to_string(o.threads);
      if (o.batch > 0) cmd += " --batch-size " + std::to_string(o.batch);
      if (o.block > 0) cmd += " --block-size " + std::to_string(o.block);
      if (!o.floor) cmd += " --no-floor";
      FILE* f = popen(cmd.c_str(), "r");
      std::string line;
      char buf[4096];
      while (f && std::fgets(buf, sizeof buf, f)) line += buf;
      const int rc = f ? pclose(f) : -1;
      Result r;
      if (rc != 0 || !parse_json(line, r)) {
        std::fprintf(stderr, "bench_train: %s / %s failed (status %d)\n", p->name, a.c_str(), rc);
        ++failures;
        continue;
      }
      if (o.json) std::printf("%s", line.c_str());
      else print_row(r);
      std::fflush(stdout);
    }
  return failures ? 1 : 0;
}
