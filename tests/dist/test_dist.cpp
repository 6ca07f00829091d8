// Data parallelism's parts that need no second process (dist/, train/draw_plan.h): the engine's
// gradient-ready hook, the bucketed reducer over a stand-in communicator, the plan of random
// draws, errors agreed by one rank, and what a build without MPI does when started by mpirun.
// The collective behaviour itself is tests/dist/test_mpi.cpp (the mpi suite, under mpirun).
#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "dist/collective.h"
#include "dist/grad_reducer.h"
#include "dist/world.h"
#include "models/gpt.h"
#include "optim/optim.h"
#include "train/draw_plan.h"
#include "train/step.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

// Stands in for `ranks` ranks that all hold this rank's values: a sum is the buffer times
// `ranks`, done at once. Records the size of every buffer started, in order, and whether each
// start came while a backward pass was running.
class EchoCommunicator final : public Communicator {
 public:
  explicit EchoCommunicator(int ranks) : ranks_(ranks) {}
  int rank() const override { return 0; }
  int size() const override { return ranks_; }
  const char* name() const override { return "echo"; }
  void allreduce_sum(double* data, size_t n) override {
    for (size_t i = 0; i < n; ++i) data[i] *= ranks_;
  }
  void broadcast(std::string&, int) override {}
  Device buffer_device() const override { return Device::CPU; }
  int start_allreduce_sum(float* data, size_t n) override {
    for (size_t i = 0; i < n; ++i) data[i] *= static_cast<float>(ranks_);
    started.push_back(n);
    return static_cast<int>(started.size() - 1);
  }
  void wait(int) override {}
  void copy(float* dst, const float* src, size_t n) override { std::copy(src, src + n, dst); }
  void zero(float* dst, size_t n) override { std::fill(dst, dst + n, 0.0f); }
  std::vector<size_t> started;

 private:
  int ranks_;
};

}  // namespace

TEST_SUITE("dist") {
  TEST_CASE("the gradient-ready hook reports each leaf once, after its last use, with its whole gradient") {
    Tensor a = leaf({3}, 1, DType::F32), b = leaf({3}, 2, DType::F32), unused = leaf({2}, 3, DType::F32);
    // a is read twice (a·b, then + a at the end of the forward, so first in backward).
    Tensor y = sum(add(mul(a, b), a));
    std::vector<std::string> order;
    std::map<std::string, std::vector<double>> at_report;
    {
      GradReadyHook hook([&](const Tensor& t) {
        const std::string name = t.same(a) ? "a" : t.same(b) ? "b" : "other";
        order.push_back(name);
        at_report[name] = values(t.grad());
      });
      y.backward();
    }
    CHECK(order.size() == 2);  // `unused` is not in the graph: never reported
    CHECK(at_report["a"] == values(a.grad()));  // already final when reported
    CHECK(at_report["b"] == values(b.grad()));
    // Without a hook nothing is reported.
    Tensor z = sum(mul(a, a));
    a.zero_grad();
    z.backward();
    CHECK(order.size() == 2);
  }

  TEST_CASE("GradReducer: reverse-order buckets, started in index order, during backward; sums written back") {
    // p0 (6 floats) and p1 (4 floats), buckets of one parameter each: bucket 0 = {p1}, bucket 1 = {p0}.
    Tensor p0 = leaf({6}, 4, DType::F32), p1 = leaf({4}, 5, DType::F32);
    EchoCommunicator comm(3);
    GradReducer reducer({p0, p1}, comm, 1);
    REQUIRE(reducer.bucket_count() == 2);
    CHECK(reducer.bucket_params(0) == std::vector<size_t>{1});
    CHECK(reducer.bucket_params(1) == std::vector<size_t>{0});
    // p1 is used first in the forward pass, so p0's gradient is final first: bucket 1 is ready
    // before bucket 0 but must not start before it.
    Tensor x = leaf({4}, 6, DType::F32);
    Tensor y = add(sum(mul(x, p1)), sum(mul(p0, p0)));
    reducer.begin();
    y.backward();
    const std::vector<double> g0 = values(p0.grad()), g1 = values(p1.grad());
    CHECK(comm.started == std::vector<size_t>{4 + 1, 6 + 1});  // p1's bucket, then p0's (+1 flag each)
    reducer.finish();
    CHECK(reducer.timing().started_in_backward == 2);
    // (the echo multiplies in float32)
    for (size_t i = 0; i < g0.size(); ++i) CHECK(values(p0.grad())[i] == static_cast<float>(3 * g0[i]));
    for (size_t i = 0; i < g1.size(); ++i) CHECK(values(p1.grad())[i] == static_cast<float>(3 * g1[i]));
  }

  TEST_CASE("GradReducer: a parameter no rank's backward reached keeps no gradient; finish() starts every bucket") {
    Tensor p0 = leaf({2}, 7, DType::F32), p1 = leaf({3}, 8, DType::F32);
    EchoCommunicator comm(2);
    GradReducer reducer({p0, p1}, comm, 1 << 20);  // one bucket
    REQUIRE(reducer.bucket_count() == 1);
    reducer.begin();
    sum(mul(p0, p0)).backward();  // p1 takes no part
    CHECK(comm.started.empty());  // p1's gradient is not final: the bucket waits
    reducer.finish();
    CHECK(comm.started == std::vector<size_t>{2 + 3 + 2});  // two gradients, two flags
    CHECK_FALSE(p1.grad().defined());  // the optimizer leaves it alone, as in one process
    CHECK(values(p0.grad()) == std::vector<double>{2 * 2 * values(p0)[0], 2 * 2 * values(p0)[1]});
    CHECK(reducer.timing().started_in_backward == 0);
    // Refused: a parameter listed twice, a float64 one.
    CHECK(contains(error_of([&] { GradReducer r({p0, p0}, comm, 8); }), "listed twice"));
    CHECK(contains(error_of([&] { GradReducer r({leaf({2}, 9, DType::F64)}, comm, 8); }), "not float32"));
  }

  TEST_CASE("a GPT's buckets start while backward still runs (overlap), and one rank's reducer changes nothing") {
    GPTConfig c = tiny_gpt("base", 16, 8, 2, 11, 3);
    const std::vector<int64_t> xs = random_ids(2 * 8, 11, 1), ys = random_ids(2 * 8, 11, 2);
    // One step of 2 micro-batches, plain or through a reducer over `comm`.
    auto run = [&](Communicator* comm) {
      GPT m(c, 3);
      AdamW opt({{m.parameters(), 0.1}}, 0.9, 0.99);
      StepOptions so{2, 1.0, 1e-2};
      std::unique_ptr<GradReducer> own;
      if (comm) {
        own = std::make_unique<GradReducer>(m.parameters(), *comm, 4096);
        so.reducer = own.get();
      }
      train_step(m, opt, so, [&](int64_t micro) {
        return m.forward(ids(xs, 2, 8), ids(micro == 0 ? ys : xs, 2, 8)).loss;
      });
      if (own) {
        CHECK(own->bucket_count() > 2);
        // Every bucket but the one holding the embeddings (the last gradients to be final)
        // started before backward ended.
        CHECK(own->timing().started_in_backward >= static_cast<int>(own->bucket_count()) - 1);
      }
      return values(param(m, "transformer.h.0.attn.c_attn.weight"));
    };
    SoloCommunicator solo;
    CHECK(run(&solo) == run(nullptr));  // bit for bit
  }

  TEST_CASE("DrawPlan: micro-batch m starts where m sequential passes would have left the generator") {
    Generator gen(11);
    // A pass draws 3 uniforms, then normals (which start on an even counter), then 1 uniform:
    // its length depends on the parity it starts at.
    auto pass = [&] {
      rand({3}, gen);
      randn({2}, gen);
      rand({1}, gen);
    };
    for (uint64_t c0 : {uint64_t(0), uint64_t(5)}) {
      CAPTURE(c0);
      gen.set_state(11, c0);
      std::vector<uint64_t> sequential{c0};
      for (int m = 0; m < 5; ++m) {
        pass();
        sequential.push_back(gen.counter());
      }
      gen.set_state(11, 1234);
      DrawPlan plan(gen, pass);
      for (int m = 0; m <= 5; ++m) CHECK(plan.start(c0, m) == sequential[static_cast<size_t>(m)]);
      CHECK(gen.counter() == 1234);  // the probes put the generator back
      CHECK_NOTHROW(plan.check(sequential[1], sequential[2]));
      CHECK(contains(error_of([&] { plan.check(sequential[1], sequential[2] + 1); }), "depend on its data"));
    }
  }

  TEST_CASE("agree with one process rethrows the exception itself; fail_together throws runtime_error") {
    SoloCommunicator solo;
    CHECK_NOTHROW(agree(solo, nullptr));
    CHECK_THROWS_AS(agree(solo, std::make_exception_ptr(std::invalid_argument("bad flag"))), std::invalid_argument);
    CHECK(contains(error_of([&] { fail_together(solo, "diverged"); }), "diverged"));
    CHECK_THROWS_AS(fail_together(solo, "x"), std::runtime_error);
    CHECK(describe(std::make_exception_ptr(std::bad_alloc())).rfind("out of memory", 0) == 0);
  }

  TEST_CASE("launched_ranks/launched_rank read the launcher's environment; without MPI several ranks are refused") {
    const char* saved = std::getenv("OMPI_COMM_WORLD_SIZE");
    const std::string keep = saved ? saved : "";
    setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
    CHECK(launched_ranks() == 3);
    const char* saved_rank = std::getenv("OMPI_COMM_WORLD_RANK");
    const std::string keep_rank = saved_rank ? saved_rank : "";
    setenv("OMPI_COMM_WORLD_RANK", "2", 1);
    CHECK(launched_rank() == 2);
    if (saved_rank) setenv("OMPI_COMM_WORLD_RANK", keep_rank.c_str(), 1);
    else unsetenv("OMPI_COMM_WORLD_RANK");
#ifndef NOISEFORMER_MPI
    // Each rank would otherwise train alone and overwrite the others' files.
    if (!world_if_started()) CHECK(contains(error_of([] { world(); }), "built without MPI"));
#endif
    setenv("OMPI_COMM_WORLD_SIZE", "x", 1);
    CHECK(launched_ranks() == (std::getenv("PMI_SIZE") ? launched_ranks() : 1));
    if (saved) setenv("OMPI_COMM_WORLD_SIZE", keep.c_str(), 1);
    else unsetenv("OMPI_COMM_WORLD_SIZE");
  }
}
