// The CUDA backend: every kernel of tensor/kernels/cuda/cuda_ops.h against the CPU op it
// replaces, on random inputs, forward and backward, in float32 and float64.
//
// Tolerances (worst |got − want| / (1 + |want|) over all elements):
//   float32 2e-5 (reductions and transcendental functions summed/evaluated in another order),
//           1e-4 for matmuls (cuBLAS's blocking sums K products in another order);
//   float64 1e-12;
//   exact   where the kernel performs the CPU's very operations in the CPU's order: copies,
//           fills, masks, max/argmax, cumsum, embedding forward and backward (sorted, position
//           order), uniform random numbers and dropout masks (integer hashing).
//
// The whole file is compiled only with -DNOISEFORMER_CUDA=ON (a CPU build has an empty "cuda"
// suite). Without a usable device every test that needs one returns at once and is counted as a
// skipped CUDA instance; the tests of the host-side twins of the device maths (generator, GELU)
// and of the no-device behaviour run everywhere.
#ifdef NOISEFORMER_CUDA

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "tensor/kernels/cuda/cuda_backend.h"
#include "tensor/kernels/cuda/cuda_ops.h"
#include "tensor/device_hooks.h"
#include "autograd/ops.h"
#include "tensor/strided.h"
#include "optim/optim.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

// True when there is no device: the caller returns, and the instance is counted as skipped
// (tests/main.cpp reports the count, and the suite's CTest entry shows as skipped).
bool no_device() {
  if (cuda::available()) {
    ++device_instances().cuda;
    return false;
  }
  ++device_instances().cuda_skipped;
  return true;
}
#define NF_NEEDS_DEVICE() \
  do {                    \
    if (no_device()) return; \
  } while (0)

const DType kFloats[] = {DType::F32, DType::F64};
double tol(DType dt) { return dt == DType::F32 ? 2e-5 : 1e-12; }
double gemm_tol(DType dt) { return dt == DType::F32 ? 1e-4 : 1e-12; }

Tensor dev(const Tensor& cpu) { return cpu.detach().contiguous().to(Device::CUDA); }
Tensor host(const Tensor& d) { return d.detach().to(Device::CPU); }
Tensor dempty(const Shape& s, DType dt) { return empty(s, dt, Device::CUDA); }
template <class T = void> T* P(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

Tensor rnd(const Shape& s, DType dt, uint64_t seed) {
  Generator g(seed);
  return randn(s, g, dt);
}
Tensor ids_of(const std::vector<int64_t>& v, Shape s) { return from_vector<int64_t>(v, std::move(s)); }

// CPU gradient of sum(g ⊙ f(x)) with respect to each input.
std::vector<Tensor> cpu_grads(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs,
                              const Tensor& g) {
  for (Tensor& t : inputs) {
    t = t.detach().clone();
    t.requires_grad_(true);
  }
  f(inputs).backward(g);
  std::vector<Tensor> out;
  for (Tensor& t : inputs) out.push_back(t.grad());
  return out;
}

}  // namespace

TEST_SUITE("cuda") {

// ---- runs everywhere -------------------------------------------------------------------------------
TEST_CASE("the device generator formula is tensor/random.h's, bit for bit") {
  for (uint64_t seed : {0ULL, 1ULL, 1337ULL, 0xDEADBEEFCAFEULL}) {
    Generator g(seed);
    for (uint64_t n : {0ULL, 1ULL, 2ULL, 12345ULL, (1ULL << 40) + 7}) {
      CHECK(cuda::host_uniform_at(seed, n) == g.uniform_at(n));
      // Same formula through the host's libm on both sides: equal here (the device's log/cos
      // may differ in the last ulp, which the device test allows).
      CHECK(cuda::host_normal_at(seed, n) == g.normal_at(n));
    }
  }
}

TEST_CASE("the device GELU formula matches the CPU op and its gradient") {
  std::vector<double> xs = {-6, -3, -1.5, -0.3, 0, 0.2, 0.9, 2.5, 7};
  Tensor x = from_vector<double>(xs, {static_cast<int64_t>(xs.size())});
  std::vector<double> y = gelu(x).to_vector<double>();
  Tensor xg = x.clone();
  xg.requires_grad_(true);
  sum(gelu(xg)).backward();
  std::vector<double> dy = xg.grad().to_vector<double>();
  for (size_t i = 0; i < xs.size(); ++i) {
    CHECK(cuda::host_gelu(xs[i]) == doctest::Approx(y[i]).epsilon(1e-15));
    CHECK(cuda::host_gelu_backward(xs[i]) == doctest::Approx(dy[i]).epsilon(1e-15));
  }
}

TEST_CASE("without a device: the hooks say so and nothing crashes") {
  if (cuda::available()) {
    MESSAGE("a CUDA device is present (" << cuda::device_description() << "): the no-device checks do not apply");
    CHECK(device_hooks().available());
    return;
  }
  MESSAGE("no CUDA device here: " << cuda::device_description());
  CHECK_FALSE(device_hooks().available());
  CHECK(cuda::device_count() == 0);
  CHECK(cuda::device_description().find("no CUDA device") != std::string::npos);
  CHECK_THROWS_WITH_AS(empty({2, 3}, DType::F32, Device::CUDA), doctest::Contains("no CUDA device"), std::runtime_error);
  CHECK_THROWS_WITH_AS(ones({2}).to(Device::CUDA), doctest::Contains("no CUDA device"), std::runtime_error);
  CHECK_THROWS_WITH_AS(require_cuda(), doctest::Contains("no CUDA device found"), std::runtime_error);
  CHECK_NOTHROW(cuda::release_cached());
  CHECK_NOTHROW(cuda::synchronize());
  cuda::set_allow_tf32(true);
  CHECK(cuda::allow_tf32());
  cuda::set_allow_tf32(false);
  CHECK_FALSE(cuda::allow_tf32());
}

// ---- device: plumbing -----------------------------------------------------------------------------------
TEST_CASE("device tensors round-trip and the caching allocator reuses blocks") {
  NF_NEEDS_DEVICE();
  Tensor x = rnd({3, 5, 7}, DType::F32, 1);
  Tensor d = dev(x);
  CHECK(d.device() == Device::CUDA);
  assert_close(d, x, 0);
  CHECK(dev(full({}, 2.5)).item() == 2.5);
  Tensor i = dev(ids_of({3, -1, 7}, {3}));
  CHECK(host(i).to_vector<int64_t>() == std::vector<int64_t>{3, -1, 7});
  // A repeated "step" of the same shapes allocates from the cache only.
  auto step = [] {
    for (int k = 0; k < 5; ++k) {
      Tensor a = empty({1000 + k, 33}, DType::F32, Device::CUDA);
      Tensor b = empty({77, k + 1}, DType::F64, Device::CUDA);
    }
  };
  step();
  const int64_t mallocs = cuda::malloc_calls();
  const size_t in_use = cuda::bytes_in_use();
  for (int rep = 0; rep < 3; ++rep) step();
  CHECK(cuda::malloc_calls() == mallocs);
  CHECK(cuda::bytes_in_use() == in_use);
  CHECK(cuda::bytes_cached() > 0);
}

// ---- device: elementwise ------------------------------------------------------------------------------
TEST_CASE("unary kernels match the CPU ops (contiguous and transposed input)") {
  NF_NEEDS_DEVICE();
  NoGradGuard ng;
  using U = cuda::UnaryOp;
  struct Case {
    U op;
    double s;
    bool positive;
    std::function<Tensor(const Tensor&)> cpu;
  };
  std::vector<Case> cases = {
      {U::AddScalar, 1.5, false, [](const Tensor& x) { return add(x, 1.5); }},
      {U::MulScalar, -0.7, false, [](const Tensor& x) { return mul(x, -0.7); }},
      {U::RSub, 2.0, false, [](const Tensor& x) { return rsub(2.0, x); }},
      {U::RDiv, 3.0, true, [](const Tensor& x) { return rdiv(3.0, x); }},
      {U::Neg, 0, false, [](const Tensor& x) { return neg(x); }},
      {U::Pow, 1.7, true, [](const Tensor& x) { return pow(x, 1.7); }},
      {U::Exp, 0, false, [](const Tensor& x) { return exp(x); }},
      {U::Log, 0, true, [](const Tensor& x) { return log(x); }},
      {U::Sqrt, 0, true, [](const Tensor& x) { return sqrt(x); }},
      {U::Rsqrt, 0, true, [](const Tensor& x) { return rsqrt(x); }},
      {U::Tanh, 0, false, [](const Tensor& x) { return tanh(x); }},
      {U::Sigmoid, 0, false, [](const Tensor& x) { return sigmoid(x); }},
      {U::Relu, 0, false, [](const Tensor& x) { return relu(x); }},
      {U::Gelu, 0, false, [](const Tensor& x) { return gelu(x); }},
  };
  for (DType dt : kFloats) {
    for (const Case& c : cases) {
      CAPTURE(static_cast<int>(c.op));
      CAPTURE(dtype_name(dt));
      Tensor x = mul(rnd({37, 129}, dt, 2), 2.0);
      if (c.positive) x = add(mul(x, x), 0.1);
      Tensor want = c.cpu(x);
      Tensor dx = dev(x), out = dempty(x.shape(), dt);
      cuda::unary(dt, c.op, c.s, x.shape(), P(out), out.strides(), P(dx), dx.strides());
      assert_close(out, want, tol(dt));
      // Transposed (strided) input, contiguous output.
      Tensor xt = dx.t();
      Tensor out_t = dempty(xt.shape(), dt);
      cuda::unary(dt, c.op, c.s, xt.shape(), P(out_t), out_t.strides(), P(xt), xt.strides());
      assert_close(out_t, c.cpu(x.t()).contiguous(), tol(dt));
    }
  }
}

TEST_CASE("binary kernels broadcast like the CPU ops") {
  NF_NEEDS_DEVICE();
  NoGradGuard ng;
  using B = cuda::BinaryOp;
  struct Case {
    B op;
    std::function<Tensor(const Tensor&, const Tensor&)> cpu;
  };
  std::vector<Case> cases = {{B::Add, [](const Tensor& a, const Tensor& b) { return add(a, b); }},
                             {B::Sub, [](const Tensor& a, const Tensor& b) { return sub(a, b); }},
                             {B::Mul, [](const Tensor& a, const Tensor& b) { return mul(a, b); }},
                             {B::Div, [](const Tensor& a, const Tensor& b) { return div(a, b); }}};
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{64, 33}, {64, 33}}, {{4, 1, 5}, {3, 1}}, {{2, 3, 4, 5}, {5}}, {{7, 1}, {1, 9}}, {{}, {6, 2}}, {{3, 4}, {}}};
  for (DType dt : kFloats)
    for (const Case& c : cases)
      for (const auto& [sa, sb] : shapes) {
        CAPTURE(static_cast<int>(c.op));
        CAPTURE(shape_str(sa));
        CAPTURE(shape_str(sb));
        Tensor a = rnd(sa, dt, 3), b = add(rnd(sb, dt, 4), 3.0);  // b away from 0 for div
        Tensor want = c.cpu(a, b);
        const Shape s = want.shape();
        Tensor da = dev(a), db = dev(b), out = dempty(s, dt);
        cuda::binary(dt, c.op, 0, s, P(out), out.strides(), P(da), broadcast_strides(da, s), P(db),
                     broadcast_strides(db, s));
        assert_close(out, want, tol(dt));
      }
}

TEST_CASE("unary backward kernels match CPU autograd") {
  NF_NEEDS_DEVICE();
  using B = cuda::BinaryOp;
  struct Case {
    B op;
    double s;
    bool positive, use_output;
    std::function<Tensor(const Tensor&)> f;
  };
  std::vector<Case> cases = {
      {B::PowBackward, 2.5, true, false, [](const Tensor& x) { return pow(x, 2.5); }},
      {B::SqrtBackward, 0, true, true, [](const Tensor& x) { return sqrt(x); }},
      {B::RsqrtBackward, 0, true, true, [](const Tensor& x) { return rsqrt(x); }},
      {B::TanhBackward, 0, false, true, [](const Tensor& x) { return tanh(x); }},
      {B::SigmoidBackward, 0, false, true, [](const Tensor& x) { return sigmoid(x); }},
      {B::ReluBackward, 0, false, false, [](const Tensor& x) { return relu(x); }},
      {B::GeluBackward, 0, false, false, [](const Tensor& x) { return gelu(x); }},
  };
  for (DType dt : kFloats)
    for (const Case& c : cases) {
      CAPTURE(static_cast<int>(c.op));
      Tensor x = mul(rnd({50, 41}, dt, 5), 2.0);
      if (c.positive) x = add(mul(x, x), 0.1);
      Tensor g = rnd(x.shape(), dt, 6);
      Tensor want = cpu_grads([&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x}, g)[0];
      Tensor saved;
      {
        NoGradGuard ng;
        saved = c.use_output ? c.f(x) : x;
      }
      Tensor dg = dev(g), ds = dev(saved), out = dempty(x.shape(), dt);
      cuda::binary(dt, c.op, c.s, x.shape(), P(out), out.strides(), P(dg), dg.strides(), P(ds), ds.strides());
      assert_close(out, want, tol(dt));
    }
}

TEST_CASE("copy converts dtypes, follows strides and broadcasts; fill") {
  NF_NEEDS_DEVICE();
  NoGradGuard ng;
  Tensor x = rnd({6, 10, 4}, DType::F32, 7);
  Tensor d = dev(x);
  // A permuted view made contiguous.
  Tensor p = d.permute({2, 0, 1});
  Tensor out = dempty(p.shape(), DType::F32);
  cuda::copy(p.shape(), DType::F32, P(out), out.strides(), DType::F32, P(p), p.strides());
  assert_close(out, x.permute({2, 0, 1}).contiguous(), 0);
  // Every dtype pair.
  Tensor ints = ids_of({-3, 0, 1, 7, 2, 0}, {2, 3});
  const DType all[] = {DType::F32, DType::F64, DType::I64, DType::Bool};
  for (DType from : all)
    for (DType to : all) {
      CAPTURE(dtype_name(from));
      CAPTURE(dtype_name(to));
      Tensor src_cpu = ints.to(from);
      Tensor src = dev(src_cpu), dst = dempty(src.shape(), to);
      cuda::copy(src.shape(), to, P(dst), dst.strides(), from, P(src), src.strides());
      CHECK(host(dst).to(DType::F64).to_vector<double>() == src_cpu.to(to).to(DType::F64).to_vector<double>());
    }
  // Broadcast a row into a matrix.
  Tensor row = rnd({5}, DType::F64, 8);
  Tensor drow = dev(row), m = dempty({4, 5}, DType::F64);
  cuda::copy(m.shape(), DType::F64, P(m), m.strides(), DType::F64, P(drow), broadcast_strides(drow, m.shape()));
  assert_close(m, row.expand({4, 5}).contiguous(), 0);
  // fill
  for (DType dt : all) {
    Tensor f = dempty({3, 7}, dt);
    cuda::fill(dt, P(f), f.numel(), 1.0);
    assert_close(f.to(Device::CPU).to(DType::F64), ones({3, 7}, DType::F64), 0);
  }
}

TEST_CASE("masked_fill and where, forward and backward") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats) {
    Tensor a = rnd({4, 6, 6}, dt, 9), b = rnd({6, 6}, dt, 10);
    Tensor mask = causal_mask(6);  // (6, 6), broadcast over the batch
    Tensor da = dev(a), db = dev(b), dm = dev(mask);
    {
      NoGradGuard ng;
      Tensor out = dempty(a.shape(), dt);
      cuda::masked_fill(dt, a.shape(), P(out), out.strides(), P(da), da.strides(), P<bool>(dm),
                        broadcast_strides(dm, a.shape()), -1e9);
      assert_close(out, masked_fill(a, mask, -1e9), 0);
      Tensor w = dempty(a.shape(), dt);
      cuda::where(dt, a.shape(), P(w), w.strides(), P<bool>(dm), broadcast_strides(dm, a.shape()), P(da), da.strides(),
                  P(db), broadcast_strides(db, a.shape()));
      assert_close(w, where(mask, a, b), 0);
    }
    // where's backward: da = cond ? g : 0 (a null "b"), db = sum_to(cond ? 0 : g)
    Tensor g = rnd(a.shape(), dt, 11);
    std::vector<Tensor> want = cpu_grads([&](const std::vector<Tensor>& in) { return where(mask, in[0], in[1]); },
                                         {a, b}, g);
    Tensor dg = dev(g), ga = dempty(a.shape(), dt), gb_full = dempty(a.shape(), dt);
    const Shape bm = broadcast_strides(dm, a.shape());
    cuda::where(dt, a.shape(), P(ga), ga.strides(), P<bool>(dm), bm, P(dg), dg.strides(), nullptr, {});
    cuda::where(dt, a.shape(), P(gb_full), gb_full.strides(), P<bool>(dm), bm, nullptr, {}, P(dg), dg.strides());
    assert_close(ga, want[0], 0);
    Tensor gb = dempty({6, 6}, dt);
    cuda::sum(dt, a.shape(), P(gb), broadcast_strides(gb, a.shape()), P(gb_full), gb_full.strides());
    assert_close(gb, want[1], tol(dt));
  }
}

// ---- device: reductions --------------------------------------------------------------------------------
TEST_CASE("sum over any dims matches the CPU (both kernel strategies, strided input)") {
  NF_NEEDS_DEVICE();
  NoGradGuard ng;
  struct Case {
    Shape shape;
    std::vector<int64_t> dims;
    bool transpose;
  };
  std::vector<Case> cases = {
      {{8, 300}, {1}, false},          // rows (warp per row)
      {{5, 5000}, {1}, false},         // long rows (block per row)
      {{4096, 96}, {0}, false},        // columns: bias-gradient shape, chunked partials
      {{3000, 40}, {0}, false},        // few columns: a row group per output, strided
      {{6, 7, 8}, {0, 2}, false},      // non-adjacent dims
      {{6, 7, 8}, {0, 1, 2}, false},   // everything
      {{50, 70}, {1}, true},           // transposed input
      {{4, 9, 1, 5}, {1, 2}, false},   // a size-1 reduced dim
      {{1000, 1000}, {0}, false},      // big both ways
  };
  for (DType dt : kFloats)
    for (const Case& c : cases) {
      CAPTURE(shape_str(c.shape));
      Tensor x = rnd(c.shape, dt, 12);
      Tensor dx = dev(x);
      if (c.transpose) {
        x = x.t();
        dx = dx.t();
      }
      Tensor want = sum(x, c.dims, /*keepdim=*/true);
      Tensor out = dempty(want.shape(), dt);
      cuda::sum(dt, x.shape(), P(out), broadcast_strides(out, x.shape()), P(dx), dx.strides());
      assert_close(out, want, tol(dt) * 10);
    }
  // The row/column shortcuts and the empty reduction.
  Tensor m = rnd({123, 45}, DType::F64, 13), dm = dev(m);
  Tensor r = dempty({123}, DType::F64), c = dempty({45}, DType::F64);
  cuda::sum_rows(DType::F64, P(r), P(dm), 123, 45);
  cuda::sum_cols(DType::F64, P(c), P(dm), 123, 45);
  assert_close(r, sum(m, {1}), 1e-12);
  assert_close(c, sum(m, {0}), 1e-12);
  Tensor z = dempty({3, 0}, DType::F32), zo = dempty({3, 1}, DType::F32);
  cuda::sum(DType::F32, z.shape(), P(zo), broadcast_strides(zo, z.shape()), P(z), z.strides());
  assert_close(zo, zeros({3, 1}), 0);
}

TEST_CASE("sum of squares accumulates in double") {
  NF_NEEDS_DEVICE();
  Tensor a = rnd({1000, 37}, DType::F32, 14), b = rnd({77}, DType::F64, 15);
  Tensor acc = dev(zeros({1}, DType::F64));
  Tensor da = dev(a), db = dev(b);
  cuda::sum_squares_accumulate(DType::F32, P<double>(acc), P(da), a.numel());
  cuda::sum_squares_accumulate(DType::F64, P<double>(acc), P(db), b.numel());
  const double want = sum(mul(a.to(DType::F64), a.to(DType::F64))).item() + sum(mul(b, b)).item();
  CHECK(acc.item() == doctest::Approx(want).epsilon(1e-12));
}

TEST_CASE("max over the last dim: values, first argmax, NaN rule, backward") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats)
    for (int64_t n : {1, 7, 300, 2500}) {
      CAPTURE(n);
      Tensor x = rnd({33, n}, dt, 16);
      if (n >= 7) {  // ties and a NaN row
        std::vector<double> v = x.to_vector<double>();
        v[0 * n + 2] = v[0 * n + 5] = 100.0;
        v[1 * n + 3] = std::nan("");
        v[1 * n + 4] = std::nan("");
        v[2 * n + n - 1] = std::numeric_limits<double>::infinity();
        x = from_vector<double>(v, {33, n}).to(dt);
      }
      Tensor dx = dev(x), vals = dempty({33}, dt), idx = dempty({33}, DType::I64);
      cuda::max_lastdim(dt, P(vals), P<int64_t>(idx), P(dx), 33, n);
      assert_close(vals, max(x, -1), 0);
      CHECK(host(idx).to_vector<int64_t>() == argmax(x, -1).to_vector<int64_t>());
      Tensor g = rnd({33}, dt, 17);
      Tensor want = cpu_grads([](const std::vector<Tensor>& in) { return max(in[0], -1); }, {x}, g)[0];
      Tensor dg = dev(g), gx = dempty(x.shape(), dt);
      cuda::max_backward(dt, P(gx), P(dg), P<int64_t>(idx), 33, n);
      assert_close(gx, want, 0);
    }
}

TEST_CASE("cumsum along the last and a middle dim, forward and reverse") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats) {
    Tensor x = rnd({3, 40, 17}, dt, 18);
    Tensor dx = dev(x);
    Tensor o1 = dempty(x.shape(), dt), o2 = dempty(x.shape(), dt);
    cuda::cumsum(dt, P(o1), P(dx), 3 * 40, 17, 1, false);  // dim -1
    cuda::cumsum(dt, P(o2), P(dx), 3, 40, 17, false);      // dim 1
    NoGradGuard ng;
    assert_close(o1, cumsum(x, -1), 0);
    assert_close(o2, cumsum(x, 1), 0);
    // reverse = cumsum's backward
    Tensor g = rnd(x.shape(), dt, 19);
    Tensor want = cpu_grads([](const std::vector<Tensor>& in) { return cumsum(in[0], 1); }, {x}, g)[0];
    Tensor dg = dev(g), r = dempty(x.shape(), dt);
    cuda::cumsum(dt, P(r), P(dg), 3, 40, 17, true);
    assert_close(r, want, 0);
  }
}

// ---- device: nn ops --------------------------------------------------------------------------------------
TEST_CASE("softmax and log_softmax, forward and backward, short and long rows") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats)
    for (int64_t n : {1, 5, 64, 1024, 3001}) {
      CAPTURE(n);
      const int64_t rows = 19;
      Tensor x = mul(rnd({rows, n}, dt, 20), 3.0), g = rnd({rows, n}, dt, 21);
      Tensor dx = dev(x), dg = dev(g);
      Tensor y = dempty(x.shape(), dt), ly = dempty(x.shape(), dt);
      cuda::softmax_forward(dt, P(y), P(dx), rows, n);
      cuda::log_softmax_forward(dt, P(ly), P(dx), rows, n);
      {
        NoGradGuard ng;
        assert_close(y, softmax(x, -1), tol(dt));
        assert_close(ly, log_softmax(x, -1), tol(dt));
      }
      Tensor want = cpu_grads([](const std::vector<Tensor>& in) { return softmax(in[0], -1); }, {x}, g)[0];
      Tensor lwant = cpu_grads([](const std::vector<Tensor>& in) { return log_softmax(in[0], -1); }, {x}, g)[0];
      Tensor gx = dempty(x.shape(), dt), lgx = dempty(x.shape(), dt);
      cuda::softmax_backward(dt, P(gx), P(y), P(dg), rows, n, 1.0);
      cuda::log_softmax_backward(dt, P(lgx), P(ly), P(dg), rows, n);
      assert_close(gx, want, tol(dt));
      assert_close(lgx, lwant, tol(dt) * 10);
    }
}

TEST_CASE("causal_softmax: scale, mask with offset Tk - Tq, backward") {
  NF_NEEDS_DEVICE();
  struct Case {
    int64_t Tq, Tk;
  };
  for (DType dt : kFloats)
    for (Case c : {Case{16, 16}, Case{5, 12}, Case{1, 9}, Case{1100, 1100}}) {
      CAPTURE(c.Tq);
      CAPTURE(c.Tk);
      const int64_t B = c.Tq > 100 ? 1 : 6;
      const double scale = 0.3;
      Tensor x = rnd({B, c.Tq, c.Tk}, dt, 22), g = rnd({B, c.Tq, c.Tk}, dt, 23);
      Tensor dx = dev(x), dg = dev(g), y = dempty(x.shape(), dt), gx = dempty(x.shape(), dt);
      const int64_t rows = B * c.Tq;
      cuda::causal_softmax_forward(dt, P(y), P(dx), rows, c.Tq, c.Tk, scale);
      {
        NoGradGuard ng;
        assert_close(y, causal_softmax(x, scale), tol(dt));
      }
      Tensor want = cpu_grads([&](const std::vector<Tensor>& in) { return causal_softmax(in[0], scale); }, {x}, g)[0];
      cuda::causal_softmax_backward(dt, P(gx), P(y), P(dg), rows, c.Tq, c.Tk, scale);
      assert_close(gx, want, tol(dt));
    }
}

TEST_CASE("cross_entropy with ignore_index, forward and backward") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats)
    for (int64_t V : {3, 65, 3000}) {
      CAPTURE(V);
      const int64_t N = 37;
      Tensor logits = mul(rnd({N, V}, dt, 24), 2.0);
      std::vector<int64_t> t(N);
      Generator gen(25);
      for (int64_t i = 0; i < N; ++i) t[i] = i % 5 == 0 ? -1 : static_cast<int64_t>(gen.next_u64() % V);
      Tensor targets = ids_of(t, {N});
      Tensor dl = dev(logits), dt_ = dev(targets);
      Tensor loss = dempty({}, dt), lse = dempty({N}, dt), count = dempty({1}, DType::I64);
      cuda::cross_entropy_forward(dt, P(loss), P(lse), P<int64_t>(count), P(dl), P<int64_t>(dt_), N, V, -1);
      {
        NoGradGuard ng;
        assert_close(loss, cross_entropy(logits, targets, -1), tol(dt));
      }
      CHECK(host(count).to_vector<int64_t>()[0] == N - (N + 4) / 5);
      Tensor g = full({}, 1.7, dt);
      Tensor want = cpu_grads([&](const std::vector<Tensor>& in) { return cross_entropy(in[0], targets, -1); },
                              {logits}, g)[0];
      Tensor dgl = dev(g), dx = dempty({N, V}, dt);
      cuda::cross_entropy_backward(dt, P(dx), P(dgl), P(dl), P(lse), P<int64_t>(dt_), P<int64_t>(count), N, V, -1);
      assert_close(dx, want, tol(dt));
    }
  // Every row ignored: NaN loss, zero gradient.
  Tensor logits = rnd({4, 6}, DType::F32, 26), targets = ids_of({-1, -1, -1, -1}, {4});
  Tensor dl = dev(logits), dtg = dev(targets);
  Tensor loss = dempty({}, DType::F32), lse = dempty({4}, DType::F32), count = dempty({1}, DType::I64);
  cuda::cross_entropy_forward(DType::F32, P(loss), P(lse), P<int64_t>(count), P(dl), P<int64_t>(dtg), 4, 6, -1);
  CHECK(std::isnan(loss.item()));
  Tensor g = dev(ones({})), dx = dempty({4, 6}, DType::F32);
  cuda::cross_entropy_backward(DType::F32, P(dx), P(g), P(dl), P(lse), P<int64_t>(dtg), P<int64_t>(count), 4, 6, -1);
  assert_close(dx, zeros({4, 6}), 0);
}

TEST_CASE("first_invalid_id finds the first bad id") {
  NF_NEEDS_DEVICE();
  Tensor ok = dev(ids_of({0, 4, -1, 3}, {4})), bad = dev(ids_of({0, 4, 9, -2, 5}, {5}));
  int64_t v = 0;
  CHECK(cuda::first_invalid_id(P<int64_t>(ok), 4, 5, -1, &v) == -1);
  CHECK(cuda::first_invalid_id(P<int64_t>(bad), 5, 5, -1, &v) == 2);
  CHECK(v == 9);
  CHECK(cuda::first_invalid_id(P<int64_t>(ok), 4, 5, std::numeric_limits<int64_t>::min(), &v) == 2);
  CHECK(v == -1);
}

TEST_CASE("layer_norm and rms_norm, forward and backward, with and without affine parameters") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats)
    for (int64_t C : {48, 1500})
      for (bool affine : {true, false}) {
        CAPTURE(C);
        CAPTURE(affine);
        const int64_t R = 70;
        Tensor x = add(mul(rnd({R, C}, dt, 27), 2.0), 0.5), g = rnd({R, C}, dt, 28);
        Tensor w = affine ? add(rnd({C}, dt, 29), 1.0) : Tensor(), b = affine ? rnd({C}, dt, 30) : Tensor();
        Tensor dx = dev(x), dg = dev(g), dw = affine ? dev(w) : Tensor(), db = affine ? dev(b) : Tensor();
        auto ptr = [](const Tensor& t) -> const void* { return t.defined() ? t.raw_data() : nullptr; };
        // layer_norm
        Tensor y = dempty({R, C}, dt), mean = dempty({R}, dt), rstd = dempty({R}, dt);
        cuda::layer_norm_forward(dt, P(y), P(mean), P(rstd), P(dx), ptr(dw), ptr(db), R, C, 1e-5);
        std::vector<Tensor> in(affine ? 3 : 1);
        in[0] = x;
        if (affine) {
          in[1] = w;
          in[2] = b;
        }
        auto ln = [&](const std::vector<Tensor>& t) {
          return layer_norm(t[0], affine ? t[1] : Tensor(), affine ? t[2] : Tensor(), 1e-5);
        };
        {
          NoGradGuard ng;
          assert_close(y, ln(in), tol(dt));
        }
        std::vector<Tensor> want = cpu_grads(ln, in, g);
        Tensor gx = dempty({R, C}, dt), gw = dempty({C}, dt), gb = dempty({C}, dt);
        cuda::norm_backward(dt, true, P(gx), affine ? P(gw) : nullptr, affine ? P(gb) : nullptr, P(dg), P(dx), P(mean),
                            P(rstd), ptr(dw), R, C);
        assert_close(gx, want[0], tol(dt) * 5);
        if (affine) {
          assert_close(gw, want[1], tol(dt) * 5);
          assert_close(gb, want[2], tol(dt) * 5);
        }
        // rms_norm
        Tensor ry = dempty({R, C}, dt), rrstd = dempty({R}, dt);
        cuda::rms_norm_forward(dt, P(ry), P(rrstd), P(dx), ptr(dw), R, C, 1e-5);
        std::vector<Tensor> rin(affine ? 2 : 1);  // (not {x} + push_back: a GCC 12 -Warray-bounds false positive)
        rin[0] = x;
        if (affine) rin[1] = w;
        auto rms = [&](const std::vector<Tensor>& t) { return rms_norm(t[0], affine ? t[1] : Tensor(), 1e-5); };
        {
          NoGradGuard ng;
          assert_close(ry, rms(rin), tol(dt));
        }
        std::vector<Tensor> rwant = cpu_grads(rms, rin, g);
        Tensor rgx = dempty({R, C}, dt), rgw = dempty({C}, dt);
        cuda::norm_backward(dt, false, P(rgx), affine ? P(rgw) : nullptr, nullptr, P(dg), P(dx), nullptr, P(rrstd),
                            ptr(dw), R, C);
        assert_close(rgx, rwant[0], tol(dt) * 5);
        if (affine) assert_close(rgw, rwant[1], tol(dt) * 5);
      }
}

TEST_CASE("embedding forward and deterministic backward (exactly the CPU's sums)") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats) {
    const int64_t V = 300, C = 70, N = 2000;
    Tensor w = rnd({V, C}, dt, 31);
    std::vector<int64_t> ids(N);
    Generator gen(32);
    for (int64_t i = 0; i < N; ++i) ids[i] = i % 3 == 0 ? 7 : static_cast<int64_t>(gen.next_u64() % 50);  // many repeats
    Tensor idx = ids_of(ids, {40, 50});
    Tensor g = rnd({40, 50, C}, dt, 33);
    Tensor dw = dev(w), di = dev(idx), dg = dev(g);
    Tensor out = dempty({40, 50, C}, dt);
    cuda::embedding_forward(dt, P(out), P(dw), P<int64_t>(di), N, C);
    {
      NoGradGuard ng;
      assert_close(out, embedding(w, idx), 0);
    }
    Tensor want = cpu_grads([&](const std::vector<Tensor>& in) { return embedding(in[0], idx); }, {w}, g)[0];
    Tensor gw = dempty({V, C}, dt);
    cuda::embedding_backward(dt, P(gw), P(dg), P<int64_t>(di), N, V, C);
    assert_close(gw, want, 0);
    // Run twice: the same bits.
    Tensor gw2 = dempty({V, C}, dt);
    cuda::embedding_backward(dt, P(gw2), P(dg), P<int64_t>(di), N, V, C);
    assert_close(gw2, host(gw), 0);
  }
}

// ---- device: random numbers, dropout, AdamW ------------------------------------------------------------
TEST_CASE("rand, randn and dropout use the CPU's counters") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats) {
    const int64_t n = 100003;
    Generator cpu_gen(99);
    Tensor want_u = rand({n}, cpu_gen, dt);
    Tensor want_n = randn({n}, cpu_gen, dt);
    Generator dev_gen(99);
    Tensor u = dempty({n}, dt), z = dempty({n}, dt);
    cuda::rand_uniform(dt, P(u), n, dev_gen.seed(), dev_gen.reserve(n));
    if (dev_gen.counter() & 1) dev_gen.reserve(1);
    const uint64_t pair0 = dev_gen.reserve(2 * n) / 2;
    cuda::randn(dt, P(z), n, dev_gen.seed(), pair0);
    assert_close(u, want_u, 0);
    // Device log/cos may differ from glibc in the last ulp of a double.
    assert_close(z, want_n, dt == DType::F32 ? 1e-6 : 1e-14);
    CHECK(dev_gen.counter() == cpu_gen.counter());

    Tensor x = rnd({n}, dt, 34);
    Generator g1(5), g2(5);
    Tensor xr = x.clone();
    xr.requires_grad_(true);
    Tensor want = dropout(xr, 0.3, true, g1);
    Tensor gy = rnd({n}, dt, 35);
    want.backward(gy);
    Tensor dx = dev(x), out = dempty({n}, dt), mask = dempty({n}, dt);
    cuda::dropout(dt, P(out), P(mask), P(dx), n, 0.3, g2.seed(), g2.reserve(n));
    assert_close(out, want.detach(), 0);
    Tensor dgy = dev(gy), gx = dempty({n}, dt);
    cuda::binary(dt, cuda::BinaryOp::Mul, 0, {n}, P(gx), {1}, P(dgy), {1}, P(mask), {1});
    assert_close(gx, xr.grad(), 0);
  }
}

TEST_CASE("fused AdamW step matches optim/optim.cpp") {
  NF_NEEDS_DEVICE();
  for (DType dt : kFloats) {
    Tensor p = rnd({300, 17}, dt, 36);
    Tensor cpu_p = p.clone();
    cpu_p.requires_grad_(true);
    AdamW opt({ParamGroup{{cpu_p}, 0.1}}, 0.9, 0.95, 1e-8);
    Tensor dp = dev(p), m = dev(zeros(p.shape(), dt)), v = dev(zeros(p.shape(), dt));
    for (int step = 1; step <= 3; ++step) {
      Tensor g = rnd(p.shape(), dt, 40 + step);
      cpu_p.set_grad(g);
      opt.step(1e-3);
      Tensor dg = dev(g);
      const double bc1 = 1.0 - std::pow(0.9, step), bc2 = 1.0 - std::pow(0.95, step);
      cuda::adamw_step(dt, P(dp), P(dg), P(m), P(v), p.numel(), 1e-3, 0.9, 0.95, 1e-8, 0.1, bc1, bc2);
    }
    assert_close(dp, cpu_p.detach(), dt == DType::F32 ? 1e-6 : 1e-14);
    assert_close(m, opt.exp_avg()[0], tol(dt));
    assert_close(v, opt.exp_avg_sq()[0], tol(dt));
  }
}

// ---- device: cuBLAS ------------------------------------------------------------------------------------------
TEST_CASE("gemm: transposes, leading dims, broadcast and non-mergeable batches, beta") {
  NF_NEEDS_DEVICE();
  NoGradGuard ng;
  for (DType dt : kFloats) {
    CAPTURE(dtype_name(dt));
    const int64_t M = 37, K = 53, N = 29;
    // 2-D, each operand plain or a transposed view.
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        Tensor a = ta ? rnd({K, M}, dt, 50).t() : rnd({M, K}, dt, 50);
        Tensor b = tb ? rnd({N, K}, dt, 51).t() : rnd({K, N}, dt, 51);
        Tensor da = ta ? dev(a.t()).t() : dev(a), db = tb ? dev(b.t()).t() : dev(b);
        Tensor c = dempty({M, N}, dt);
        cuda::gemm(dt, M, N, K, 1.0, P(da), ta, ta ? da.stride(1) : da.stride(0), P(db), tb,
                   tb ? db.stride(1) : db.stride(0), 0.0, P(c), N);
        assert_close(c, matmul(a, b), gemm_tol(dt));
      }
    // A column slice: ld larger than the row (as a split of c_attn's output is).
    Tensor wide = rnd({M, 3 * K}, dt, 52), dwide = dev(wide);
    Tensor a_slice = dwide.narrow(1, K, K);
    Tensor b = rnd({K, N}, dt, 53), db = dev(b), c = dempty({M, N}, dt);
    cuda::gemm(dt, M, N, K, 1.0, P(a_slice), false, 3 * K, P(db), false, N, 0.0, P(c), N);
    assert_close(c, matmul(wide.narrow(1, K, K), b), gemm_tol(dt));
    // beta = 1 accumulates (linear's bias trick), alpha scales.
    Tensor a = rnd({M, K}, dt, 54), da = dev(a);
    Tensor c0 = rnd({M, N}, dt, 55), dc = dev(c0);
    cuda::gemm(dt, M, N, K, 0.5, P(da), false, K, P(db), false, N, 1.0, P(dc), N);
    assert_close(dc, add(c0, mul(matmul(a, b), 0.5)), gemm_tol(dt));
    // Attention-shaped batch: q (B, H, T, d) as a transposed view of (B, T, H, d); k the same;
    // scores = q @ kᵀ over batch dims (B, H) that do not merge.
    const int64_t B = 3, H = 4, T = 20, d = 8;
    Tensor q = rnd({B, T, H, d}, dt, 56), k = rnd({B, T, H, d}, dt, 57);
    Tensor dq = dev(q).transpose(1, 2), dk = dev(k).transpose(1, 2);  // (B, H, T, d) views
    Tensor s = dempty({B, H, T, T}, dt);
    const Shape bs = {B, H};
    cuda::gemm(dt, T, T, d, 1.0, P(dq), false, dq.stride(2), P(dk), true, dk.stride(2), 0.0, P(s), T, bs,
               {dq.stride(0), dq.stride(1)}, {dk.stride(0), dk.stride(1)}, {s.stride(0), s.stride(1)});
    assert_close(s, matmul(q.transpose(1, 2), k.transpose(1, 2).transpose(-1, -2)), gemm_tol(dt));
    // Broadcast B over the batch (stride 0), contiguous batch of A.
    Tensor ab = rnd({6, M, K}, dt, 58), dab = dev(ab), cb = dempty({6, M, N}, dt);
    cuda::gemm(dt, M, N, K, 1.0, P(dab), false, K, P(db), false, N, 0.0, P(cb), N, {6}, {M * K}, {0}, {M * N});
    assert_close(cb, matmul(ab, b), gemm_tol(dt));
  }
}

TEST_CASE("TF32 is off by default and can be switched on") {
  NF_NEEDS_DEVICE();
  if (std::getenv("NOISEFORMER_TF32") == nullptr) CHECK_FALSE(cuda::allow_tf32());
  const bool before = cuda::allow_tf32();
  const int64_t M = 256, K = 512, N = 256;
  Tensor a = rnd({M, K}, DType::F32, 60), b = rnd({K, N}, DType::F32, 61);
  Tensor da = dev(a), db = dev(b), c = dempty({M, N}, DType::F32);
  NoGradGuard ng;
  Tensor want = matmul(a, b);
  cuda::set_allow_tf32(false);
  cuda::gemm(DType::F32, M, N, K, 1.0, P(da), false, K, P(db), false, N, 0.0, P(c), N);
  const double fp32_err = worst_error(c, want);
  CHECK(fp32_err <= 1e-4);
  cuda::set_allow_tf32(true);
  cuda::gemm(DType::F32, M, N, K, 1.0, P(da), false, K, P(db), false, N, 0.0, P(c), N);
  const double tf32_err = worst_error(c, want);
  CHECK(tf32_err <= 5e-2);  // ~10-bit mantissa products
  MESSAGE("gemm 256x512x256 worst error: fp32 " << fp32_err << ", tf32 " << tf32_err);
  cuda::set_allow_tf32(before);
}

}  // TEST_SUITE

#endif  // NOISEFORMER_CUDA
