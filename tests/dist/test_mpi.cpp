// Data-parallel training across ranks (docs/distributed.md), run by CTest under
// `mpirun -np 2` (the mpi suite, registered only in a build with MPI). Every test case is
// collective: all ranks run it. The reference runs of one process are made by rank 0 alone,
// through a SoloCommunicator, while the other ranks wait for it in their next collective call.
#ifdef NOISEFORMER_MPI
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "dist/collective.h"
#include "dist/grad_reducer.h"
#include "dist/world.h"
#include "io/checkpoint.h"
#include "train/eval_scope.h"
#include "train/step.h"
#include "train/trainer.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;
namespace fs = std::filesystem;

namespace {

// A directory every rank sees: rank 0's TempDir, its path sent to the others. Removed when rank 0
// leaves the scope, after every rank is done with it.
struct SharedDir {
  Communicator& comm;
  std::unique_ptr<TempDir> own;
  std::string path;
  explicit SharedDir(Communicator& c) : comm(c) {
    if (comm.rank() == 0) {
      own = std::make_unique<TempDir>();
      path = own->str();
    }
    comm.broadcast(path, 0);
  }
  ~SharedDir() {
    double done = 1;
    comm.allreduce_sum(&done, 1);  // a barrier
  }
  std::string file(const std::string& name) const { return (fs::path(path) / name).string(); }
};

// Rank 0 runs f alone; every rank then learns whether it threw (and its message).
void on_rank0(Communicator& comm, const std::function<void()>& f) {
  std::exception_ptr failure;
  if (comm.rank() == 0) {
    try {
      f();
    } catch (...) {
      failure = std::current_exception();
    }
  }
  agree(comm, failure);
}

TrainOptions run_options(const std::string& data, const std::string& out, const std::string& attention) {
  TrainOptions o;
  o.data_dir = data;
  o.out_dir = out;
  o.model = tiny_gpt(attention, 16, 16);
  o.model.dropout = 0.1;  // dropout masks (and noise-v2's noise) must be drawn as one process draws them
  o.batch_size = 3;
  o.max_iters = 6;
  o.eval_interval = 3;
  o.eval_iters = 3;  // not a multiple of the ranks: rank 0 evaluates one batch more
  o.warmup_iters = 2;
  o.lr_decay_iters = 6;
  o.lr = 1e-2;
  o.min_lr = 1e-3;
  o.seed = 99;
  o.quiet = true;
  o.bucket_mb = 0.002;  // a few KiB: several buckets even for this tiny model
  return o;
}

// log.jsonl's lines (rank 0 reads them).
std::vector<nlohmann::json> read_log(const std::string& path) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line))
    if (!line.empty()) out.push_back(nlohmann::json::parse(line));
  return out;
}

// Per iteration its loss; per evaluation its train and val losses.
struct Curves {
  std::map<int64_t, double> loss, train_loss, val_loss;
};
Curves curves(const std::string& run_dir) {
  Curves c;
  for (const auto& j : read_log(run_dir + "/log.jsonl")) {
    const int64_t it = j.at("iter").get<int64_t>();
    if (j.contains("loss")) c.loss[it] = j.at("loss").get<double>();
    if (j.contains("val_loss")) {
      c.train_loss[it] = j.at("train_loss").get<double>();
      c.val_loss[it] = j.at("val_loss").get<double>();
    }
  }
  return c;
}

// The largest |a − b| / |b| over the curve (b the reference); both must have the same points.
double worst_relative(const std::map<int64_t, double>& a, const std::map<int64_t, double>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (const auto& [it, want] : b) {
    REQUIRE(a.count(it));
    worst = std::max(worst, std::fabs(a.at(it) - want) / std::max(std::fabs(want), 1e-30));
  }
  return worst;
}

// Weights whose gradient is zero in exact arithmetic, by the softmax's invariance to adding a
// constant to a row of scores: the key part of c_attn's bias (it adds q·b_k to every score of a
// query's row) and the noise mean μ (added to every score). Their computed gradient is rounding
// residue (~1e-9), which AdamW's m/√v scales up to steps of size ~lr whose signs are set by the
// rounding — so any two summation orders (two ranks against one process, or two thread counts)
// move them differently. They are compared only when the optimizer is SGD.
bool rounding_driven(const std::string& name, size_t k, int64_t n_embd) {
  if (ends_with(name, "noise_mu")) return true;
  return ends_with(name, "attn.c_attn.bias") && k >= static_cast<size_t>(n_embd) && k < static_cast<size_t>(2 * n_embd);
}

// Over every parameter: max |a − b| over the tensor, relative to the tensor's largest |b| (at
// least 1e-3: a tensor still at about zero, such as μ under SGD, has no scale of its own);
// with `skip_rounding_driven`, the elements above are left out.
double worst_weight_difference(const std::string& ckpt_a, const std::string& ckpt_b, bool skip_rounding_driven) {
  const auto a = load_model(ckpt_a), b = load_model(ckpt_b);
  const auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
  const int64_t C = a.model->config().n_embd;
  REQUIRE(pa.size() == pb.size());
  double worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    REQUIRE(pa[i].first == pb[i].first);
    const std::vector<double> x = values(pa[i].second), y = values(pb[i].second);
    double scale = 0, diff = 0;
    for (size_t k = 0; k < x.size(); ++k) {
      if (skip_rounding_driven && rounding_driven(pa[i].first, k, C)) continue;
      scale = std::max(scale, std::fabs(y[k]));
      diff = std::max(diff, std::fabs(x[k] - y[k]));
    }
    if (diff > 0) worst = std::max(worst, diff / std::max(scale, 1e-3));
  }
  return worst;
}

}  // namespace

TEST_SUITE("mpi") {
  TEST_CASE("W ranks x A micro-batches == 1 process x W*A within 1e-5: losses, evaluations, weights") {
    Communicator& comm = world();
    REQUIRE(comm.size() >= 2);
    const Threads one_thread(1);
    SharedDir dir(comm);
    TempDir mine;  // each rank prepares its own copy of the data (as on separate machines)
    const std::string data = fixture_data(mine, 4242, 4000);
    struct Case {
      std::string attention, optimizer;
      int64_t A;
    };
    for (const Case& c : {Case{"base", "adamw", 1}, Case{"base", "adamw", 2}, Case{"noise-v2", "adamw", 2},
                          Case{"base", "sgd", 2}, Case{"noise-v2", "sgd", 1}}) {
      CAPTURE(c.attention);
      CAPTURE(c.optimizer);
      CAPTURE(c.A);
      const std::string name = c.attention + "-" + c.optimizer + "-" + std::to_string(c.A);
      TrainOptions o = run_options(data, dir.file("ranks-" + name), c.attention);
      o.optimizer = c.optimizer;
      o.grad_accum = c.A;
      run_training(o, comm);
      on_rank0(comm, [&] {
        SoloCommunicator solo;
        TrainOptions ref = run_options(data, dir.file("one-" + name), c.attention);
        ref.optimizer = c.optimizer;
        ref.grad_accum = c.A * comm.size();
        run_training(ref, solo);
        const Curves a = curves(dir.file("ranks-" + name)), b = curves(dir.file("one-" + name));
        CHECK(a.loss.size() == 6);
        // The same micro-batches and draws; only the order of float32 gradient additions differs
        // (rank r adds its own micro-batches first; the tied embedding's pieces likewise).
        CHECK(worst_relative(a.loss, b.loss) < 1e-5);
        CHECK(worst_relative(a.train_loss, b.train_loss) < 1e-5);
        CHECK(worst_relative(a.val_loss, b.val_loss) < 1e-5);
        CHECK(worst_weight_difference(dir.file("ranks-" + name + "/ckpt.safetensors"),
                                      dir.file("one-" + name + "/ckpt.safetensors"), c.optimizer == "adamw") < 1e-5);
        // The log says what communicating cost; one process's log has no such keys.
        const auto log = read_log(dir.file("ranks-" + name + "/log.jsonl"));
        CHECK(log.front().contains("comm_ms"));
        CHECK(log.front().contains("comm_wait_ms"));
        CHECK_FALSE(read_log(dir.file("one-" + name + "/log.jsonl")).front().contains("comm_ms"));
      });
    }
  }

  TEST_CASE("--resume under mpirun continues exactly; one process can resume a W-rank run") {
    Communicator& comm = world();
    const Threads one_thread(1);
    SharedDir dir(comm);
    TempDir mine;
    const std::string data = fixture_data(mine, 4242, 4000);
    TrainOptions whole = run_options(data, dir.file("whole"), "noise-v1");
    run_training(whole, comm);
    // The same run stopped after its first save (iteration 3), then resumed by the ranks.
    TrainOptions first = run_options(data, dir.file("halves"), "noise-v1");
    first.max_iters = 3;
    first.given = {"max_iters"};
    run_training(first, comm);
    TrainOptions rest;
    rest.data_dir = data;
    rest.out_dir = dir.file("halves");
    rest.resume = true;
    rest.quiet = true;
    rest.max_iters = 6;
    rest.given = {"max_iters"};
    run_training(rest, comm);
    // And stopped at 3 again, resumed by one process: the run's W micro-batches are all its own.
    TrainOptions first_again = first;
    first_again.out_dir = dir.file("solo-rest");
    run_training(first_again, comm);
    on_rank0(comm, [&] {
      SoloCommunicator solo;
      TrainOptions solo_rest = rest;
      solo_rest.out_dir = dir.file("solo-rest");
      run_training(solo_rest, solo);
      const Curves w = curves(dir.file("whole"));
      CHECK(curves(dir.file("halves")).loss == w.loss);
      CHECK(curves(dir.file("halves")).val_loss == w.val_loss);
      CHECK(worst_weight_difference(dir.file("halves/ckpt.safetensors"), dir.file("whole/ckpt.safetensors"), false) == 0);
      // One process takes both micro-batches of each step: the same run within rounding.
      CHECK(worst_relative(curves(dir.file("solo-rest")).loss, w.loss) < 1e-5);
      CHECK(worst_weight_difference(dir.file("solo-rest/ckpt.safetensors"), dir.file("whole/ckpt.safetensors"), true) <
            1e-5);
    });
  }

  TEST_CASE("a rank that fails stops every rank with its message (set-up, settings, a step): no hang") {
    Communicator& comm = world();
    const Threads one_thread(1);
    SharedDir dir(comm);
    TempDir mine;
    const std::string data = fixture_data(mine, 4242, 4000);
    const int last = comm.size() - 1;
    // Set-up: the last rank's data directory is missing.
    TrainOptions o = run_options(comm.rank() == last ? mine.file("nowhere") : data, dir.file("a"), "base");
    std::string error = error_of([&] { run_training(o, comm); });
    CHECK(contains(error, "rank " + std::to_string(last) + ": "));
    CHECK(contains(error, "nowhere/meta.json: missing"));
    CHECK_THROWS_AS(run_training(o, comm), CollectiveError);
    // Settings: the last rank was given another learning rate.
    TrainOptions p = run_options(data, dir.file("b"), "base");
    if (comm.rank() == last) p.lr = 0.5;
    error = error_of([&] { run_training(p, comm); });
    CHECK(contains(error, "rank " + std::to_string(last) + ": the settings differ from rank 0's: --lr 0.5 here, 0.01 on rank 0"));
    // A step: the last rank's forward pass throws in its last micro-batch, before its backward,
    // so it has started none of its buckets while the others have started all of theirs.
    GPT m(tiny_gpt("base", 16, 8), 1);
    AdamW opt({{m.parameters(), 0.0}}, 0.9, 0.99);
    GradReducer reducer(m.parameters(), comm, 1024);
    StepOptions so{2 * comm.size(), 1.0, 1e-3};
    so.reducer = &reducer;
    const std::vector<int64_t> xs = random_ids(16, 11, 3);
    error = error_of([&] {
      train_step(m, opt, so, [&](int64_t micro) {
        if (comm.rank() == last && micro + comm.size() >= so.grad_accum) throw std::runtime_error("disk on fire");
        return m.forward(ids(xs, 2, 8), ids(xs, 2, 8)).loss;
      });
    });
    CHECK(error == "rank " + std::to_string(last) + ": disk on fire");
    // The communicator is still usable: the ranks are in step.
    double one = 1;
    comm.allreduce_sum(&one, 1);
    CHECK(one == comm.size());
  }

  TEST_CASE("GradReducer over MPI: the sums of every rank's gradients, on every rank, buckets overlapping backward") {
    Communicator& comm = world();
    GPT m(tiny_gpt("base", 16, 8, 2, 11, 3), 1);
    const std::vector<int64_t> xs = random_ids(16, 11, 10 + comm.rank()), ys = random_ids(16, 11, 20 + comm.rank());
    // Each rank's own gradient, for reference.
    m.forward(ids(xs, 2, 8), ids(ys, 2, 8)).loss.backward();
    std::vector<std::vector<double>> own;
    for (const Tensor& p : m.parameters()) own.push_back(values(p.grad()));
    for (Tensor p : m.parameters()) p.zero_grad();
    GradReducer reducer(m.parameters(), comm, 4096);
    reducer.begin();
    m.forward(ids(xs, 2, 8), ids(ys, 2, 8)).loss.backward();
    reducer.finish();
    CHECK(reducer.timing().started_in_backward >= static_cast<int>(reducer.bucket_count()) - 1);
    // The sum over ranks, from each rank's own gradients sent as doubles.
    size_t k = 0;
    double worst = 0;
    for (const Tensor& p : m.parameters()) {
      std::vector<double> want = own[k++];
      comm.allreduce_sum(want.data(), want.size());
      const std::vector<double> got = values(p.grad());
      for (size_t i = 0; i < got.size(); ++i) worst = std::max(worst, std::fabs(got[i] - want[i]) / (1 + std::fabs(want[i])));
    }
    CHECK(worst < 1e-6);  // float32 sums against double ones
  }

  TEST_CASE("the loss estimate shared out over the ranks equals one process's, noise drawn at eval") {
    Communicator& comm = world();
    const Threads one_thread(1);
    GPTConfig c = tiny_gpt("noise-v2", 16, 8);
    c.noise_at_eval = "sample";  // evaluation draws from the model's generator too
    GPT a(c, 5), b(c, 5);
    std::vector<uint16_t> toks(500);
    for (size_t i = 0; i < toks.size(); ++i) toks[i] = static_cast<uint16_t>((i * 7 + i / 3) % 11);
    TokenData data(toks, "mem");
    const double one = estimate_loss(a, data, 2, 5, 17);
    auto probe = [&b] {
      EvalScope scope(b);
      const std::vector<int64_t> zeros(16, 0);
      b.forward(ids(zeros, 2, 8), ids(zeros, 2, 8));
    };
    DrawPlan plan(b.rng, probe);
    const double shared = estimate_loss(b, data, 2, 5, 17, comm, plan);
    CHECK(shared == one);
    CHECK(b.rng.counter() == a.rng.counter());  // the generator ends where one process's does
    CHECK(a.rng.counter() > 0);
  }
}
#endif  // NOISEFORMER_MPI
