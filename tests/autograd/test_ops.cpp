// The differentiable ops (autograd/ops_*.cpp): numpy broadcasting and the errors that name the op
// and the shapes; forward values of the nn and shape ops against hand-computed numbers and
// against the same maths composed from simpler ops; fused backward kernels against the composed
// graphs on inputs large enough to take the multi-threaded paths; and the errors each op raises.
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

Tensor mask_of(const std::vector<int64_t>& v, Shape shape) { return i64(v, std::move(shape)).to(DType::Bool); }

// Gradients of sum(w ⊙ f(x)) with respect to each input, with a fixed random w.
std::vector<Tensor> grads_of(const std::function<Tensor(const std::vector<Tensor>&)>& f, std::vector<Tensor> inputs) {
  for (Tensor& t : inputs) t.zero_grad();
  Tensor y = f(inputs);
  Generator g(77);
  sum(mul(y, randn(y.shape(), g, y.dtype()))).backward();
  std::vector<Tensor> out;
  for (Tensor& t : inputs) out.push_back(t.grad());
  return out;
}

}  // namespace

TEST_SUITE("autograd") {
  // ---- broadcasting and errors ---------------------------------------------------------------------
  TEST_CASE("broadcasting follows numpy rules") {
    Tensor a = iota({2, 1}), b = iota({1, 3});
    Tensor c = add(a, b);
    CHECK(c.shape() == Shape{2, 3});
    CHECK(values(c) == std::vector<double>{0, 1, 2, 1, 2, 3});
    CHECK(add(iota({4, 1, 3}), iota({2, 1})).shape() == Shape{4, 2, 3});
    CHECK(mul(iota({2, 3}), iota({3})).shape() == Shape{2, 3});
    CHECK(values(mul(iota({2, 3}), f32({2}, {}))) == std::vector<double>{0, 2, 4, 6, 8, 10});
  }

  TEST_CASE("a failed broadcast names the op and both shapes") {
    const std::string msg = error_of([] { add(zeros({2, 3}), zeros({4})); });
    CHECK(contains(msg, "add"));
    CHECK(contains(msg, "[2, 3]"));
    CHECK(contains(msg, "[4]"));
    CHECK(contains(error_of([] { mul(zeros({2, 3}), zeros({3, 2})); }), "mul"));
    CHECK(contains(error_of([] { matmul(zeros({2, 3}), zeros({2, 3})); }), "matmul"));
  }

  TEST_CASE("dtype mismatches and out-of-range dims throw naming the op") {
    std::string msg = error_of([] { add(zeros({2}), zeros({2}, DType::F64)); });
    CHECK(contains(msg, "add"));
    CHECK(contains(msg, "float32"));
    CHECK(contains(msg, "float64"));
    CHECK(contains(error_of([] { matmul(zeros({2, 2}), zeros({2, 2}, DType::F64)); }), "matmul"));
    CHECK(contains(error_of([] { exp(zeros({2}, DType::I64)); }), "exp"));
    Tensor a = zeros({2, 3});
    CHECK(contains(error_of([&] { sum(a, {2}); }), "sum"));
    CHECK(contains(error_of([&] { a.transpose(0, 5); }), "transpose"));
    CHECK(contains(error_of([&] { a.narrow(1, 2, 2); }), "narrow"));
    CHECK(contains(error_of([&] { a.narrow(3, 0, 1); }), "narrow"));
    CHECK(contains(error_of([&] { a.select(0, 2); }), "select"));
    CHECK(contains(error_of([&] { a.permute({0, 0}); }), "permute"));
    CHECK(contains(error_of([&] { a.expand({4, 3}); }), "expand"));
    CHECK(contains(error_of([&] { softmax(a, 2); }), "softmax"));
    CHECK(contains(error_of([&] { a.view({4, 2}); }), "view"));
    CHECK(a.select(0, -1).shape() == Shape{3});  // negative indices count from the end
  }

  // ---- softmax family --------------------------------------------------------------------------------
  TEST_CASE("softmax: hand values, rows sum to 1, stable for large inputs") {
    Tensor y = softmax(f64({1, 2, 3, 0, 0, 0}, {2, 3}), -1);
    const double e = std::exp(1.0), s = 1 + e + e * e;
    std::vector<double> v = values(y);
    CHECK(v[0] == doctest::Approx(1 / s));
    CHECK(v[1] == doctest::Approx(e / s));
    CHECK(v[2] == doctest::Approx(e * e / s));
    CHECK(v[3] == doctest::Approx(1.0 / 3));
    Tensor big = softmax(f32({1000, 1001, -1e30f, 1000}, {4}));
    std::vector<double> b = values(big);
    CHECK(b[2] == 0.0);
    CHECK(b[1] == doctest::Approx(std::exp(1.0) / (2 + std::exp(1.0))));
    Generator g(1);
    Tensor r = softmax(mul(randn({37, 53}, g), 10.0), 1);
    for (double row : values(sum(r, {1}))) CHECK(row == doctest::Approx(1.0).epsilon(1e-5));
  }

  TEST_CASE("softmax and log_softmax over dim 0 equal the last-dim op on the transpose") {
    Generator g(2);
    Tensor x = randn({5, 4, 3}, g, DType::F64);
    assert_close(softmax(x, 0), softmax(x.transpose(0, 2), -1).transpose(0, 2).contiguous(), 1e-14);
    assert_close(log_softmax(x, 1), log_softmax(x.transpose(1, 2), -1).transpose(1, 2).contiguous(), 1e-14);
    assert_close(log_softmax(x, -1), log(softmax(x, -1)), 1e-12);
    CHECK(softmax(f64({3}, {}), 0).item() == 1.0);  // a 0-d tensor is one row of one
  }

  TEST_CASE("softmax and log_softmax: fused backward equals the composed graph (multi-threaded sizes)") {
    Generator g(3);
    Tensor x = randn({64, 3, 300}, g, DType::F64).requires_grad_();
    for (int64_t dim : {-1, 1}) {
      auto fused = grads_of([dim](const std::vector<Tensor>& v) { return softmax(v[0], dim); }, {x});
      auto composed = grads_of([dim](const std::vector<Tensor>& v) {
        Tensor e = exp(v[0]);
        return div(e, sum(e, {dim}, true));
      }, {x});
      assert_close(fused[0], composed[0], 1e-12);
      auto lfused = grads_of([dim](const std::vector<Tensor>& v) { return log_softmax(v[0], dim); }, {x});
      auto lcomposed = grads_of([dim](const std::vector<Tensor>& v) {
        return sub(v[0], log(sum(exp(v[0]), {dim}, true)));
      }, {x});
      assert_close(lfused[0], lcomposed[0], 1e-12);
    }
  }

  TEST_CASE("causal_softmax: masked entries are exactly 0 and rows sum to 1") {
    Generator g(4);
    Tensor a = causal_softmax(randn({2, 3, 5, 5}, g), 0.3);
    std::vector<double> v = values(a);
    for (int64_t r = 0; r < 2 * 3 * 5; ++r) {
      const int64_t i = r % 5;
      double s = 0;
      for (int64_t j = 0; j < 5; ++j) {
        if (j > i) CHECK(v[r * 5 + j] == 0.0);
        else CHECK(v[r * 5 + j] > 0.0);
        s += v[r * 5 + j];
      }
      CHECK(s == doctest::Approx(1.0).epsilon(1e-6));
    }
    CHECK(values(causal_softmax(f32({7}, {1, 1}), 1.0)) == std::vector<double>{1.0});
  }

  TEST_CASE("causal_softmax equals masked_fill + softmax, values and gradients") {
    Generator g(5);
    const double scale = 0.125;
    auto reference = [scale](const Tensor& s) {
      const int64_t Tq = s.size(-2), Tk = s.size(-1);
      // query i sees key j iff j <= i + (Tk - Tq)
      std::vector<int64_t> m(Tq * Tk);
      for (int64_t i = 0; i < Tq; ++i)
        for (int64_t j = 0; j < Tk; ++j) m[i * Tk + j] = j > i + (Tk - Tq);
      return softmax(masked_fill(mul(s, scale), mask_of(m, {Tq, Tk}), -std::numeric_limits<double>::infinity()), -1);
    };
    for (Shape shape : {Shape{2, 4, 6, 6}, Shape{2, 4, 3, 7}, Shape{8, 4, 64, 64}}) {
      CAPTURE(shape_str(shape));
      Tensor s = randn(shape, g, DType::F64).requires_grad_();
      assert_close(causal_softmax(s, scale), reference(s), 1e-14);
      auto fused = grads_of([scale](const std::vector<Tensor>& v) { return causal_softmax(v[0], scale); }, {s});
      auto composed = grads_of([&](const std::vector<Tensor>& v) { return reference(v[0]); }, {s});
      assert_close(fused[0], composed[0], 1e-12);
    }
    Tensor s32 = randn({2, 5, 5}, g);
    assert_close(causal_softmax(s32, scale), reference(s32), 1e-6);  // float32 too
    CHECK(contains(error_of([&] { causal_softmax(randn({4, 3}, g), 1.0); }), "causal_softmax"));
    CHECK(contains(error_of([&] { causal_softmax(randn({4}, g), 1.0); }), "causal_softmax"));
  }

  // ---- cross-entropy --------------------------------------------------------------------------------------
  TEST_CASE("cross_entropy of uniform logits is log V") {
    for (int64_t V : {2, 65, 1000}) {
      Tensor logits = full({7, V}, 3.5);
      Tensor targets = i64({0, 1, 1, 0, 1, 0, 1}, {7});
      CHECK(cross_entropy(logits, targets).item() == doctest::Approx(std::log(double(V))).epsilon(1e-6));
    }
  }

  TEST_CASE("cross_entropy equals the composed log_softmax + gather, with ignored targets") {
    Generator g(6);
    const int64_t N = 300, V = 257;
    Tensor logits = mul(randn({N, V}, g, DType::F64), 3.0).requires_grad_();
    std::vector<int64_t> t(N);
    int64_t kept = 0;
    for (int64_t r = 0; r < N; ++r) {
      t[r] = r % 7 == 3 ? -1 : (r * 31) % V;
      kept += t[r] != -1;
    }
    Tensor targets = i64(t, {N});
    // Reference: -mean over kept rows of log_softmax(x)[r, t_r], as one-hot ⊙ log_softmax.
    std::vector<double> onehot(N * V, 0.0);
    for (int64_t r = 0; r < N; ++r)
      if (t[r] != -1) onehot[r * V + t[r]] = 1.0;
    Tensor picker = f64(onehot, {N, V});
    auto reference = [&](const Tensor& x) { return mul(sum(mul(log_softmax(x, -1), picker)), -1.0 / kept); };
    Tensor loss = cross_entropy(logits, targets, -1);
    CHECK(loss.dim() == 0);
    CHECK(loss.item() == doctest::Approx(reference(logits).item()).epsilon(1e-12));
    loss.backward();
    Tensor fused = logits.grad();
    logits.zero_grad();
    reference(logits).backward();
    assert_close(fused, logits.grad(), 1e-14);
    // Ignored rows get no gradient; kept rows' gradients sum to 0 ((softmax − onehot)/count).
    std::vector<double> gv = values(fused);
    double row3 = 0, row0 = 0;
    for (int64_t j = 0; j < V; ++j) {
      row3 += std::fabs(gv[3 * V + j]);
      row0 += gv[j];
    }
    CHECK(row3 == 0.0);
    CHECK(std::fabs(row0) < 1e-15);
  }

  TEST_CASE("cross_entropy: hand value, float32, thread-count independence, and errors") {
    // logits [0, ln 3]: softmax = [1/4, 3/4]; loss of target 0 = ln 4, of target 1 = ln 4/3.
    Tensor x = f32({0, float(std::log(3.0)), 0, float(std::log(3.0))}, {2, 2});
    CHECK(cross_entropy(x, i64({0, 1}, {2})).item() == doctest::Approx((std::log(4.0) + std::log(4.0 / 3)) / 2));
    CHECK(cross_entropy(x, i64({0, 5}, {2}), 5).item() == doctest::Approx(std::log(4.0)));
    CHECK(std::isnan(cross_entropy(x, i64({5, 5}, {2}), 5).item()));  // nothing to average
    Generator g(7);
    Tensor big = randn({512, 100}, g);
    std::vector<int64_t> t(512);
    for (int64_t r = 0; r < 512; ++r) t[r] = (r * 13) % 100;
    double one, many;
    {
      Threads th(1);
      one = cross_entropy(big, i64(t, {512})).item();
    }
    {
      Threads th(4);
      many = cross_entropy(big, i64(t, {512})).item();
    }
    CHECK(one == many);
    const std::string msg = error_of([&] { cross_entropy(x, i64({0, 7}, {2})); });
    CHECK(contains(msg, "cross_entropy"));
    CHECK(contains(msg, "7"));
    CHECK(contains(msg, "V = 2"));
    CHECK(contains(error_of([&] { cross_entropy(x, i64({0, -3}, {2})); }), "-3"));
    // Leading dims beyond N are accepted: logits (B, T, V) with targets (B, T) = the flattened op.
    Tensor l3 = randn({2, 3, 5}, g, DType::F64);
    Tensor t3 = i64({0, 4, 2, 1, 3, 3}, {2, 3});
    CHECK(cross_entropy(l3, t3).item() == doctest::Approx(cross_entropy(l3.reshape({6, 5}), t3.reshape({6})).item()));
    CHECK(contains(error_of([&] { cross_entropy(x, i64({0, 1, 1}, {3})); }), "cross_entropy"));
    CHECK(contains(error_of([&] { cross_entropy(x, f32({0, 1}, {2})); }), "int64"));
  }

  // ---- normalisations ------------------------------------------------------------------------------------
  TEST_CASE("layer_norm output has mean 0 and variance 1 per row, then weight and bias apply") {
    Generator g(8);
    Tensor x = add(mul(randn({6, 40}, g, DType::F64), 5.0), 3.0);
    Tensor y = layer_norm(x, Tensor(), Tensor(), 1e-5);
    std::vector<double> m = values(mean(y, {1})), var = values(mean(mul(y, y), {1}));
    for (int64_t r = 0; r < 6; ++r) {
      CHECK(std::fabs(m[r]) < 1e-12);
      CHECK(var[r] == doctest::Approx(1.0).epsilon(1e-5));
    }
    Tensor w = randn({40}, g, DType::F64), b = randn({40}, g, DType::F64);
    assert_close(layer_norm(x, w, b, 1e-5), add(mul(y, w), b), 1e-14);
    assert_close(layer_norm(x, w, Tensor(), 1e-5), mul(y, w), 1e-14);
    assert_close(layer_norm(x, Tensor(), b, 1e-5), add(y, b), 1e-14);
    // Hand value: [1, 3] -> mean 2, var 1 -> [-1, 1] / sqrt(1 + eps)
    std::vector<double> h = values(layer_norm(f64({1, 3}, {2}), Tensor(), Tensor(), 0.0));
    CHECK(h == std::vector<double>{-1, 1});
  }

  TEST_CASE("layer_norm and rms_norm: fused backward equals the composed graph (multi-threaded sizes)") {
    Generator g(9);
    Tensor x = randn({4, 130, 96}, g, DType::F64).requires_grad_();
    Tensor w = randn({96}, g, DType::F64).requires_grad_(), b = randn({96}, g, DType::F64).requires_grad_();
    auto ln_ref = [](const std::vector<Tensor>& v) {
      Tensor c = sub(v[0], mean(v[0], {-1}, true));
      Tensor var = mean(mul(c, c), {-1}, true);
      return add(mul(mul(c, rsqrt(add(var, 1e-5))), v[1]), v[2]);
    };
    auto ln = [](const std::vector<Tensor>& v) { return layer_norm(v[0], v[1], v[2], 1e-5); };
    assert_close(ln({x, w, b}), ln_ref({x, w, b}), 1e-12);
    auto fused = grads_of(ln, {x, w, b}), composed = grads_of(ln_ref, {x, w, b});
    for (int k = 0; k < 3; ++k) assert_close(fused[k], composed[k], 1e-10);
    auto rms_ref = [](const std::vector<Tensor>& v) {
      return mul(mul(v[0], rsqrt(add(mean(mul(v[0], v[0]), {-1}, true), 1e-5))), v[1]);
    };
    auto rms = [](const std::vector<Tensor>& v) { return rms_norm(v[0], v[1], 1e-5); };
    assert_close(rms({x, w}), rms_ref({x, w}), 1e-12);
    auto rf = grads_of(rms, {x, w}), rc = grads_of(rms_ref, {x, w});
    for (int k = 0; k < 2; ++k) assert_close(rf[k], rc[k], 1e-10);
    // dweight does not depend on the thread count.
    std::vector<double> one, many;
    {
      Threads th(1);
      one = values(grads_of(ln, {x, w, b})[1]);
    }
    {
      Threads th(4);
      many = values(grads_of(ln, {x, w, b})[1]);
    }
    CHECK(one == many);
  }

  TEST_CASE("rms_norm: mean square 1 per row; hand value") {
    Generator g(10);
    Tensor y = rms_norm(mul(randn({5, 64}, g, DType::F64), 4.0), Tensor(), 1e-8);
    for (double ms : values(mean(mul(y, y), {1}))) CHECK(ms == doctest::Approx(1.0).epsilon(1e-6));
    // [3, 4]: rms = sqrt(12.5)
    std::vector<double> h = values(rms_norm(f64({3, 4}, {2}), f64({1, 2}, {2}), 0.0));
    CHECK(h[0] == doctest::Approx(3 / std::sqrt(12.5)));
    CHECK(h[1] == doctest::Approx(8 / std::sqrt(12.5)));
  }

  TEST_CASE("norm errors name the op and the shapes") {
    Tensor x = zeros({2, 4});
    std::string msg = error_of([&] { layer_norm(x, zeros({3}), Tensor()); });
    CHECK(contains(msg, "layer_norm"));
    CHECK(contains(msg, "[3]"));
    CHECK(contains(msg, "[2, 4]"));
    CHECK(contains(error_of([&] { layer_norm(x, zeros({4}), zeros({4}, DType::F64)); }), "layer_norm"));
    CHECK(contains(error_of([&] { rms_norm(x, zeros({5})); }), "rms_norm"));
  }

  // ---- embedding ------------------------------------------------------------------------------------------
  TEST_CASE("embedding picks rows; backward scatter-adds repeated ids") {
    Tensor W = arange(12, DType::F64).reshape({4, 3}).requires_grad_();
    Tensor ids = i64({3, 0, 3, 1}, {2, 2});
    Tensor e = embedding(W, ids);
    CHECK(e.shape() == Shape{2, 2, 3});
    CHECK(values(e) == std::vector<double>{9, 10, 11, 0, 1, 2, 9, 10, 11, 3, 4, 5});
    sum(e).backward();
    CHECK(values(W.grad()) == std::vector<double>{1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 2, 2});
    // Large enough for the parallel paths: counts of each id land in its row.
    const int64_t V = 500, C = 64, N = 4000;
    Tensor W2 = zeros({V, C}, DType::F64).requires_grad_();
    std::vector<int64_t> id(N);
    std::vector<double> count(V, 0.0);
    for (int64_t i = 0; i < N; ++i) {
      id[i] = (i * i + 7 * i) % V;
      count[id[i]] += 1;
    }
    sum(embedding(W2, i64(id, {N}))).backward();
    std::vector<double> gw = values(W2.grad());
    bool ok = true;
    for (int64_t v = 0; v < V; ++v)
      for (int64_t c = 0; c < C; ++c) ok = ok && gw[v * C + c] == count[v];
    CHECK(ok);
  }

  TEST_CASE("embedding errors: out-of-range id names the id and V") {
    Tensor W = zeros({4, 3});
    const std::string msg = error_of([&] { embedding(W, i64({1, 4}, {2})); });
    CHECK(contains(msg, "embedding"));
    CHECK(contains(msg, "id 4"));
    CHECK(contains(msg, "V = 4"));
    CHECK(contains(error_of([&] { embedding(W, i64({-1}, {1})); }), "-1"));
    CHECK(contains(error_of([&] { embedding(W, f32({1}, {1})); }), "int64"));
  }

  // ---- dropout -------------------------------------------------------------------------------------------
  TEST_CASE("dropout: identity when p == 0 or not training") {
    Generator g(11);
    Tensor x = ones({10});
    CHECK(dropout(x, 0.0, true, g).same(x));
    CHECK(dropout(x, 0.5, false, g).same(x));
    CHECK(g.counter() == 0);  // nothing drawn
    CHECK(values(dropout(x, 1.0, true, g)) == std::vector<double>(10, 0.0));
    CHECK(contains(error_of([&] { dropout(x, 1.5, true, g); }), "dropout"));
  }

  TEST_CASE("dropout: rate, scale, reproducibility, thread independence, backward") {
    const double p = 0.3;
    const int64_t n = 200000;
    Generator g(12);
    Tensor x = ones({n}, DType::F64).requires_grad_();
    Tensor y = dropout(x, p, true, g);
    std::vector<double> v = values(y);
    int64_t zeros_seen = 0;
    bool scaled = true;
    for (double e : v) {
      if (e == 0) ++zeros_seen;
      else scaled = scaled && std::fabs(e - 1 / (1 - p)) < 1e-12;
    }
    CHECK(scaled);
    CHECK(double(zeros_seen) / n == doctest::Approx(p).epsilon(0.02));
    sum(y).backward();
    CHECK(values(x.grad()) == v);  // d/dx (x ⊙ m) = m, and x = 1
    Generator g2(12);
    CHECK(values(dropout(x, p, true, g2)) == v);  // same seed, same mask
    CHECK(values(dropout(x, p, true, g2)) != v);  // the generator advanced
    std::vector<double> one;
    {
      Threads th(1);
      Generator g3(12);
      one = values(dropout(x, p, true, g3));
    }
    CHECK(one == v);
  }

  // ---- shape ops -------------------------------------------------------------------------------------------
  TEST_CASE("concat, split and stack") {
    Tensor a = arange(6, DType::F32).reshape({2, 3}), b = full({2, 1}, 9.0);
    Tensor c = concat({a, b}, 1);
    CHECK(c.shape() == Shape{2, 4});
    CHECK(values(c) == std::vector<double>{0, 1, 2, 9, 3, 4, 5, 9});
    CHECK(values(concat({a, a.narrow(0, 1, 1)}, 0)) == std::vector<double>{0, 1, 2, 3, 4, 5, 3, 4, 5});
    CHECK(values(concat({a.t(), b.t()}, 0)) == std::vector<double>{0, 3, 1, 4, 2, 5, 9, 9});
    CHECK(concat({i64({1, 2}, {2}), i64({3}, {1})}, 0).to_vector<int64_t>() == std::vector<int64_t>{1, 2, 3});
    std::vector<Tensor> parts = split(c, {1, 3}, -1);
    REQUIRE(parts.size() == 2);
    CHECK(parts[1].shape() == Shape{2, 3});
    CHECK(bool(parts[1].storage() == c.storage()));  // views
    CHECK(values(parts[1]) == std::vector<double>{1, 2, 9, 4, 5, 9});
    std::vector<Tensor> eq = split(arange(7, DType::F32), 3, 0);
    REQUIRE(eq.size() == 3);
    CHECK(eq[2].shape() == Shape{1});
    CHECK(values(eq[1]) == std::vector<double>{3, 4, 5});
    Tensor s = stack({a, mul(a, 10.0)}, 0);
    CHECK(s.shape() == Shape{2, 2, 3});
    CHECK(values(s.select(0, 1)) == std::vector<double>{0, 10, 20, 30, 40, 50});
    Tensor s2 = stack({a, mul(a, 10.0)}, -1);
    CHECK(s2.shape() == Shape{2, 3, 2});
    CHECK(values(s2.select(0, 0)) == std::vector<double>{0, 0, 1, 10, 2, 20});
  }

  TEST_CASE("shape op errors name the op and the shapes") {
    std::string msg = error_of([] { concat({zeros({2, 3}), zeros({3})}, 0); });
    CHECK(contains(msg, "concat"));
    CHECK(contains(msg, "[2, 3]"));
    CHECK(contains(msg, "[3]"));
    msg = error_of([] { concat({zeros({2, 3}), zeros({2, 4})}, 0); });
    CHECK(contains(msg, "concat"));
    CHECK(contains(msg, "[2, 4]"));
    CHECK(contains(error_of([] { concat({zeros({2}), zeros({2}, DType::F64)}, 0); }), "concat"));
    CHECK(contains(error_of([] { concat({}, 0); }), "concat"));
    CHECK(contains(error_of([] { concat({zeros({2})}, 1); }), "concat"));
    msg = error_of([] { split(zeros({2, 5}), {2, 2}, 1); });
    CHECK(contains(msg, "split"));
    CHECK(contains(msg, "[2, 5]"));
    CHECK(contains(error_of([] { split(zeros({4}), 0, 0); }), "split"));
    msg = error_of([] { stack({zeros({2, 3}), zeros({3, 2})}, 0); });
    CHECK(contains(msg, "stack"));
    CHECK(contains(msg, "[3, 2]"));
    CHECK(contains(error_of([] { stack({zeros({2})}, 3); }), "stack"));
  }

  TEST_CASE("masked_fill, where and causal_mask") {
    Tensor m = causal_mask(3);
    CHECK(m.dtype() == DType::Bool);
    CHECK(values(m) == std::vector<double>{0, 1, 1, 0, 0, 1, 0, 0, 0});
    Tensor a = arange(6, DType::F32).reshape({2, 3});
    CHECK(values(masked_fill(a, mask_of({1, 0, 1}, {3}), -5.0)) == std::vector<double>{-5, 1, -5, -5, 4, -5});
    CHECK(values(masked_fill(a.t(), mask_of({0, 1}, {2}), 7.0)) == std::vector<double>{0, 7, 1, 7, 2, 7});
    Tensor w = where(mask_of({1, 0}, {2, 1}), a, full({3}, -1.0));
    CHECK(w.shape() == Shape{2, 3});
    CHECK(values(w) == std::vector<double>{0, 1, 2, -1, -1, -1});
    Tensor w2 = where(mask_of({1, 0, 1}, {3}), full({2, 1}, 1.0), full({1}, 0.0));
    CHECK(values(w2) == std::vector<double>{1, 0, 1, 1, 0, 1});
    // Gradients: zero where filled; split between a and b by the condition (summed over broadcast).
    Tensor x = ones({2, 3}, DType::F64).requires_grad_();
    sum(masked_fill(x, mask_of({1, 0, 0}, {3}), 3.0)).backward();
    CHECK(values(x.grad()) == std::vector<double>{0, 1, 1, 0, 1, 1});
    Tensor p = ones({2, 3}, DType::F64).requires_grad_(), q = ones({3}, DType::F64).requires_grad_();
    sum(where(mask_of({1, 0, 1, 1, 0, 0}, {2, 3}), p, q)).backward();
    CHECK(values(p.grad()) == std::vector<double>{1, 0, 1, 1, 0, 0});
    CHECK(values(q.grad()) == std::vector<double>{0, 2, 1});
  }

  TEST_CASE("masked_fill and where errors") {
    Tensor a = zeros({2, 3});
    CHECK(contains(error_of([&] { masked_fill(a, i64({1, 0, 1}, {3}), 0.0); }), "bool"));
    std::string msg = error_of([&] { masked_fill(a, mask_of({1, 0}, {2}), 0.0); });
    CHECK(contains(msg, "masked_fill"));
    CHECK(contains(msg, "[2, 3]"));
    CHECK(contains(error_of([&] { masked_fill(a, causal_mask(2).unsqueeze(0).expand({2, 2, 2}), 0.0); }), "masked_fill"));
    CHECK(contains(error_of([&] { where(a, a, a); }), "where"));
    CHECK(contains(error_of([&] { where(mask_of({1, 0}, {2}), a, a); }), "where"));
    CHECK(contains(error_of([&] { where(mask_of({1}, {1}), a, zeros({3}, DType::F64)); }), "where"));
  }
}
