// Gradient checks of every tensor op, registered for `noiseformer gradcheck` and the tests.
// Each case is a float64 function of leaf inputs; several use broadcast shapes or
// non-contiguous (transposed / narrowed) inputs on purpose. Constants a case makes itself (ids,
// masks) go to its first input's device, so every case also runs under GradcheckDevice.
#include "autograd/gradcheck.h"
#include "autograd/ops.h"

namespace nf {

namespace {
// A leaf that is a transposed (non-contiguous) view: shape `shape`, strides swapped.
Tensor gc_transposed(Shape shape, uint64_t seed) {
  std::swap(shape[0], shape[1]);
  Tensor t = gc_input(shape, seed, false).t();
  t.requires_grad_();
  return t;
}
}  // namespace

void register_op_gradchecks(std::vector<GradcheckCase>& c) {
  using V = std::vector<Tensor>;
  auto check = [&c](std::string name, GradFn f, std::function<V()> make_inputs, GradcheckOptions opt = {}) {
    add_gradcheck(c, std::move(name), [f, make_inputs, opt] { return gradcheck(f, make_inputs(), opt); });
  };
  // ---- elementwise ----
  check("add/broadcast", [](const V& x) { return add(x[0], x[1]); },
        [] { return V{gc_input({3, 4}, 1), gc_input({4}, 2)}; });
  check("add/noncontiguous", [](const V& x) { return add(x[0], x[1]); },
        [] { return V{gc_transposed({3, 4}, 3), gc_input({3, 1}, 4)}; });
  check("add/scalar", [](const V& x) { return add(x[0], 2.5); }, [] { return V{gc_input({5}, 5)}; });
  check("sub/broadcast", [](const V& x) { return sub(x[0], x[1]); },
        [] { return V{gc_input({2, 1, 3}, 6), gc_input({4, 3}, 7)}; });
  check("rsub/scalar", [](const V& x) { return 1.5 - x[0]; }, [] { return V{gc_input({4}, 8)}; });
  check("mul/broadcast", [](const V& x) { return mul(x[0], x[1]); },
        [] { return V{gc_input({2, 3, 4}, 9), gc_input({3, 1}, 10)}; });
  check("mul/noncontiguous", [](const V& x) { return mul(x[0], x[1]); },
        [] { return V{gc_transposed({4, 3}, 11), gc_transposed({4, 3}, 12)}; });
  check("mul/scalar", [](const V& x) { return x[0] * -3.0; }, [] { return V{gc_input({4}, 13)}; });
  check("div/broadcast", [](const V& x) { return div(x[0], add(mul(x[1], x[1]), 0.5)); },
        [] { return V{gc_input({3, 4}, 14), gc_input({1, 4}, 15)}; });
  check("rdiv/scalar", [](const V& x) { return 2.0 / add(exp(x[0]), 0.1); }, [] { return V{gc_input({5}, 16)}; });
  check("neg", [](const V& x) { return neg(x[0]); }, [] { return V{gc_transposed({3, 2}, 17)}; });
  check("pow", [](const V& x) { return pow(add(exp(x[0]), 0.1), 2.7); }, [] { return V{gc_input({6}, 18)}; });
  check("exp", [](const V& x) { return exp(x[0]); }, [] { return V{gc_transposed({3, 4}, 19)}; });
  check("log", [](const V& x) { return log(add(exp(x[0]), 0.2)); }, [] { return V{gc_input({6}, 20)}; });
  check("sqrt", [](const V& x) { return sqrt(add(exp(x[0]), 0.2)); }, [] { return V{gc_input({6}, 21)}; });
  check("rsqrt", [](const V& x) { return rsqrt(add(exp(x[0]), 0.2)); }, [] { return V{gc_input({6}, 22)}; });
  check("tanh", [](const V& x) { return tanh(x[0]); }, [] { return V{gc_input({3, 5}, 23)}; });
  check("sigmoid", [](const V& x) { return sigmoid(x[0]); }, [] { return V{gc_transposed({3, 5}, 24)}; });
  check("relu", [](const V& x) { return relu(x[0]); }, [] { return V{gc_input({4, 5}, 25)}; });
  check("gelu", [](const V& x) { return gelu(x[0]); }, [] { return V{gc_transposed({4, 5}, 26)}; });
  // ---- views ----
  check("view/reshape", [](const V& x) { return mul(x[0].reshape({6, 2}), x[0].view({2, 6}).t()); },
        [] { return V{gc_input({3, 4}, 27)}; });
  check("permute", [](const V& x) { return mul(x[0].permute({2, 0, 1}), 2.0); }, [] { return V{gc_input({2, 3, 4}, 28)}; });
  check("narrow/select", [](const V& x) { return add(x[0].narrow(1, 1, 2), x[0].select(1, 0).unsqueeze(1)); },
        [] { return V{gc_input({3, 4}, 29)}; });
  check("expand", [](const V& x) { return mul(x[0].expand({3, 4}), x[1]); },
        [] { return V{gc_input({3, 1}, 30), gc_input({3, 4}, 31)}; });
  // ---- reductions ----
  check("sum/all", [](const V& x) { return sum(x[0]); }, [] { return V{gc_transposed({3, 4}, 32)}; });
  check("sum/dims_keepdim", [](const V& x) { return sum(x[0], {0, 2}, true); }, [] { return V{gc_input({2, 3, 4}, 33)}; });
  check("sum/last", [](const V& x) { return sum(x[0], {-1}); }, [] { return V{gc_input({3, 5}, 34)}; });
  check("mean/dims", [](const V& x) { return mean(x[0], {1}); }, [] { return V{gc_transposed({4, 3}, 35)}; });
  check("max/dim", [](const V& x) { return max(x[0], 1, false); }, [] { return V{gc_input({3, 5}, 36)}; });
  check("max/keepdim0", [](const V& x) { return max(x[0], 0, true); }, [] { return V{gc_transposed({4, 3}, 37)}; });
  check("cumsum", [](const V& x) { return cumsum(x[0], 1); }, [] { return V{gc_input({3, 5}, 38)}; });
  check("cumsum/dim0", [](const V& x) { return cumsum(x[0], 0); }, [] { return V{gc_transposed({4, 3}, 39)}; });
  // ---- matmul ----
  check("matmul/2d", [](const V& x) { return matmul(x[0], x[1]); }, [] { return V{gc_input({3, 4}, 40), gc_input({4, 5}, 41)}; });
  check("matmul/transposed", [](const V& x) { return matmul(x[0], x[1]); },
        [] { return V{gc_transposed({3, 4}, 42), gc_transposed({4, 2}, 43)}; });
  check("matmul/batched", [](const V& x) { return matmul(x[0], x[1].transpose(-1, -2)); },
        [] { return V{gc_input({2, 3, 4}, 44), gc_input({2, 5, 4}, 45)}; });
  check("matmul/batch_broadcast", [](const V& x) { return matmul(x[0], x[1]); },
        [] { return V{gc_input({2, 2, 3, 4}, 46), gc_input({1, 2, 4, 3}, 47)}; });
  check("matmul/nd_by_2d", [](const V& x) { return matmul(x[0], x[1]); },
        [] { return V{gc_input({2, 3, 4}, 48), gc_input({4, 2}, 49)}; });
  check("linear", [](const V& x) { return linear(x[0], x[1], x[2]); },
        [] { return V{gc_input({2, 3, 4}, 50), gc_input({5, 4}, 51), gc_input({5}, 52)}; });
  check("linear/nobias_noncontig", [](const V& x) { return linear(x[0].transpose(0, 1), x[1]); },
        [] { return V{gc_input({3, 2, 4}, 53), gc_transposed({5, 4}, 54)}; });
  // ---- softmax family ----
  check("softmax/dim-1", [](const V& x) { return softmax(x[0], -1); }, [] { return V{gc_input({3, 5}, 55)}; });
  check("softmax/dim0", [](const V& x) { return softmax(x[0], 0); }, [] { return V{gc_input({4, 3}, 56)}; });
  check("softmax/dim1_3d_noncontiguous", [](const V& x) { return softmax(x[0], 1); },
        [] { return V{gc_transposed({4, 3, 2}, 57)}; });
  check("softmax/masked", [](const V& x) { return softmax(masked_fill(x[0], causal_mask(4).to(x[0].device()), -1e30), -1); },
        [] { return V{gc_input({2, 4, 4}, 58)}; });
  check("log_softmax/dim-1", [](const V& x) { return log_softmax(x[0], -1); }, [] { return V{gc_input({3, 5}, 59)}; });
  check("log_softmax/dim0_noncontiguous", [](const V& x) { return log_softmax(x[0], 0); },
        [] { return V{gc_transposed({4, 3}, 60)}; });
  check("causal_softmax/square", [](const V& x) { return causal_softmax(x[0], 0.7); }, [] { return V{gc_input({2, 4, 4}, 61)}; });
  check("causal_softmax/tq_lt_tk", [](const V& x) { return causal_softmax(x[0], 0.5); }, [] { return V{gc_input({2, 3, 5}, 62)}; });
  check("causal_softmax/noncontiguous", [](const V& x) { return causal_softmax(x[0].transpose(-1, -2), 1.3); },
        [] { return V{gc_input({2, 4, 4}, 63)}; });
  check("causal_softmax/single_query", [](const V& x) { return causal_softmax(x[0], 2.0); }, [] { return V{gc_input({3, 1, 4}, 64)}; });
  // ---- cross-entropy ----
  check("cross_entropy", [](const V& x) { return cross_entropy(x[0], from_vector<int64_t>({2, 0, 4, 4}, {4}).to(x[0].device())); },
        [] { return V{gc_input({4, 5}, 65)}; });
  check("cross_entropy/ignore_index",
        [](const V& x) { return cross_entropy(x[0], from_vector<int64_t>({2, -100, 0, -100, 3}, {5}).to(x[0].device()), -100); },
        [] { return V{gc_input({5, 4}, 66)}; });
  check("cross_entropy/noncontiguous", [](const V& x) { return cross_entropy(x[0], from_vector<int64_t>({1, 3, 0}, {3}).to(x[0].device()), 3); },
        [] { return V{gc_transposed({3, 4}, 67)}; });
  // ---- normalisations ----
  check("layer_norm/weight_bias", [](const V& x) { return layer_norm(x[0], x[1], x[2], 1e-5); },
        [] { return V{gc_input({2, 3, 5}, 68), gc_input({5}, 69), gc_input({5}, 70)}; });
  check("layer_norm/no_affine", [](const V& x) { return layer_norm(x[0], Tensor(), Tensor(), 1e-5); },
        [] { return V{gc_input({4, 6}, 71)}; });
  check("layer_norm/weight_only_noncontiguous", [](const V& x) { return layer_norm(x[0], x[1], Tensor(), 1e-3); },
        [] { return V{gc_transposed({3, 5}, 72), gc_input({5}, 73)}; });
  check("layer_norm/large_rows", [](const V& x) { return layer_norm(x[0], x[1], x[2], 1e-5); },
        [] { return V{gc_input({70, 3}, 74), gc_input({3}, 75), gc_input({3}, 76)}; });
  check("rms_norm/weight", [](const V& x) { return rms_norm(x[0], x[1], 1e-5); },
        [] { return V{gc_input({2, 3, 5}, 77), gc_input({5}, 78)}; });
  check("rms_norm/no_weight_noncontiguous", [](const V& x) { return rms_norm(x[0], Tensor(), 1e-5); },
        [] { return V{gc_transposed({4, 6}, 79)}; });
  // ---- embedding / dropout ----
  check("embedding/repeated_ids", [](const V& x) { return embedding(x[0], from_vector<int64_t>({3, 1, 3, 0, 3, 1}, {2, 3}).to(x[0].device())); },
        [] { return V{gc_input({5, 4}, 80)}; });
  check("embedding/noncontiguous", [](const V& x) { return embedding(x[0], from_vector<int64_t>({2, 2, 0}, {3}).to(x[0].device())); },
        [] { return V{gc_transposed({3, 4}, 81)}; });
  check("dropout", [](const V& x) { Generator gen(1234); return dropout(x[0], 0.4, true, gen); },
        [] { return V{gc_input({4, 5}, 82)}; });
  check("dropout/noncontiguous", [](const V& x) { Generator gen(99); return dropout(x[0], 0.25, true, gen); },
        [] { return V{gc_transposed({5, 4}, 83)}; });
  check("dropout/eval_identity", [](const V& x) { Generator gen(5); return mul(dropout(x[0], 0.5, false, gen), 2.0); },
        [] { return V{gc_input({6}, 84)}; });
  // ---- shape ----
  check("concat/dim0", [](const V& x) { return concat({x[0], x[1]}, 0); },
        [] { return V{gc_input({2, 3}, 85), gc_input({1, 3}, 86)}; });
  check("concat/dim-1_noncontiguous", [](const V& x) { return concat({x[0], x[1], x[2]}, -1); },
        [] { return V{gc_transposed({3, 2}, 87), gc_input({3, 4}, 88), gc_input({3, 1}, 89)}; });
  check("split/sizes", [](const V& x) {
          std::vector<Tensor> p = split(x[0], {1, 3, 2}, 1);
          return concat({mul(p[0], 2.0), exp(p[1]), mul(p[2], p[2])}, 1);
        }, [] { return V{gc_input({3, 6}, 90)}; });
  check("split/size", [](const V& x) {
          std::vector<Tensor> p = split(x[0], 2, 0);  // parts of 2, 2, 1
          return add(mul(p[0], p[1]), p[2]);
        }, [] { return V{gc_transposed({5, 3}, 91)}; });
  check("stack/dim0", [](const V& x) { return stack({x[0], x[1]}, 0); },
        [] { return V{gc_input({2, 3}, 92), gc_input({2, 3}, 93)}; });
  check("stack/dim-1_noncontiguous", [](const V& x) { return stack({x[0], mul(x[1], x[1]), x[0]}, -1); },
        [] { return V{gc_transposed({3, 4}, 94), gc_input({3, 4}, 95)}; });
  check("masked_fill/broadcast", [](const V& x) {
          return masked_fill(x[0], from_vector<int64_t>({1, 0, 0, 1}, {4}).to(DType::Bool).to(x[0].device()), -2.0);
        }, [] { return V{gc_input({3, 4}, 96)}; });
  check("masked_fill/noncontiguous", [](const V& x) { return masked_fill(x[0], causal_mask(4).to(x[0].device()), 0.5); },
        [] { return V{gc_transposed({4, 4}, 97)}; });
  check("where/broadcast", [](const V& x) {
          return where(from_vector<int64_t>({1, 0, 1, 0, 0, 1}, {2, 1, 3}).to(DType::Bool).to(x[0].device()), x[0], x[1]);
        }, [] { return V{gc_input({4, 1}, 98), gc_input({2, 4, 3}, 99)}; });
  check("where/noncontiguous", [](const V& x) { return where(causal_mask(3).to(x[0].device()), x[0], x[1]); },
        [] { return V{gc_transposed({3, 3}, 100), gc_input({3}, 101)}; });
}

}  // namespace nf
