// Engine micro-benchmarks. Not a test: prints a table.
//   matmul: nf::matmul (and a transposed-operand variant) vs a raw cblas_sgemm on the same
//           buffers, at 512³, 1024³ and GPT shapes (M=1024, K=384, N=1152 / 1536);
//   memory-bound ops: add, mul, gelu, sum, softmax in GB/s next to a plain memcpy.
// Run: build/bench_ops            (OPENBLAS_CORETYPE is chosen as in tensor/blas_setup.h)
#include <cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <vector>

#include "autograd/node.h"
#include "tensor/blas_setup.h"
#include "autograd/ops.h"

using namespace nf;

extern "C" char* openblas_get_corename();

namespace {
// Median seconds of `reps` runs after one warm-up.
double time_it(const std::function<void()>& f, int reps) {
  f();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    f();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}
}  // namespace

int main(int, char** argv) {
  use_fastest_blas_kernels(argv);
  NoGradGuard ng;
  Generator g(1);
  std::printf("OpenBLAS core: %s\n\n", openblas_get_corename());
  std::printf("%-26s %10s %10s %10s %8s\n", "matmul (M,K,N)", "raw GF/s", "nf GF/s", "nf^T GF/s", "nf/raw");
  const int64_t shapes[][3] = {{512, 512, 512}, {1024, 1024, 1024}, {1024, 384, 1152}, {1024, 384, 1536}, {1024, 1536, 384}};
  for (auto& s : shapes) {
    const int64_t M = s[0], K = s[1], N = s[2];
    Tensor a = randn({M, K}, g), b = randn({K, N}, g), bt = randn({N, K}, g), c = empty({M, N});
    const double flops = 2.0 * M * N * K;
    const int reps = M * N * K > (1 << 28) ? 7 : 21;
    double raw = time_it([&] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.f, a.data<float>(), K, b.data<float>(), N, 0.f,
                  c.data<float>(), N);
    }, reps);
    double ours = time_it([&] { Tensor r = matmul(a, b); }, reps);
    double ours_t = time_it([&] { Tensor r = matmul(a, bt.t()); }, reps);
    char name[64];
    std::snprintf(name, sizeof name, "(%lld, %lld, %lld)", (long long)M, (long long)K, (long long)N);
    std::printf("%-26s %10.1f %10.1f %10.1f %7.1f%%\n", name, flops / raw / 1e9, flops / ours / 1e9, flops / ours_t / 1e9,
                100.0 * raw / ours);
  }

  std::printf("\n%-26s %10s %10s\n", "memory-bound (16M floats)", "GB/s", "vs memcpy");
  const int64_t n = 1 << 24;
  Tensor x = randn({n}, g), y = randn({n}, g);
  Tensor rows = randn({n / 1024, 1024}, g);
  std::vector<float> dst(n);
  const double bytes1 = 4.0 * n;
  double memcpy_s = time_it([&] { std::memcpy(dst.data(), x.data<float>(), 4 * n); }, 11);
  const double memcpy_gbs = 2 * bytes1 / memcpy_s / 1e9;  // read + write
  std::printf("%-26s %10.1f %9.0f%%\n", "memcpy", memcpy_gbs, 100.0);
  struct Case { const char* name; double bytes; std::function<void()> f; };
  std::vector<Case> cases = {
      {"add (a+b)", 3 * bytes1, [&] { Tensor r = add(x, y); }},
      {"mul (a*b)", 3 * bytes1, [&] { Tensor r = mul(x, y); }},
      {"mul scalar", 2 * bytes1, [&] { Tensor r = mul(x, 0.5); }},
      {"gelu", 2 * bytes1, [&] { Tensor r = gelu(x); }},
      {"exp", 2 * bytes1, [&] { Tensor r = exp(x); }},
      {"sum (all)", bytes1, [&] { Tensor r = sum(x); }},
      {"sum (rows of 1024)", bytes1, [&] { Tensor r = sum(rows, {-1}); }},
      {"softmax (rows of 1024)", 2 * bytes1, [&] { Tensor r = softmax(rows, -1); }},
      {"transpose copy", 2 * bytes1, [&] { Tensor r = rows.t().contiguous(); }},
  };
  for (auto& c : cases) {
    double s = time_it(c.f, 11);
    const double gbs = c.bytes / s / 1e9;
    std::printf("%-26s %10.1f %9.0f%%\n", c.name, gbs, 100.0 * gbs / memcpy_gbs);
  }
  return 0;
}
