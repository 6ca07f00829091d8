// Device-generic tests: each is written once and run on every device present (support.h,
// for_each_device / on_cuda). The reference is always the CPU in float64; a device instance that
// cannot run here (no GPU, or a CPU-only build) is counted as skipped and the suite's CTest
// entry then shows as skipped, never as passed.
//
// Tolerances (worst |got − want| / (1 + |want|), support.h):
//   float32 against the float64 reference: 2e-5 for elementwise maths and row reductions,
//           1e-4 where a matmul or a whole model sums many products in another order;
//   float64 on another device against the CPU: 1e-10 (the same formulas, summed in another order).
#include <doctest/doctest.h>

#include <functional>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "io/checkpoint.h"
#include "optim/optim.h"
#include "train/trainer.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

namespace {

using Inputs = std::vector<Tensor>;
using Op = std::function<Tensor(const Inputs&)>;

struct OpCase {
  std::string name;
  Op op;
  std::vector<Shape> shapes;  // one float64 leaf per shape, N(0, 1) from the case's seed
  double f32_tolerance = 2e-5;
};

// The ops the models are made of, each on inputs that exercise broadcasting or odd sizes.
std::vector<OpCase> op_cases() {
  return {
      {"add/broadcast", [](const Inputs& x) { return add(x[0], x[1]); }, {{3, 5}, {5}}},
      {"mul/transposed", [](const Inputs& x) { return mul(x[0].t(), x[1]); }, {{4, 3}, {3, 4}}},
      {"div", [](const Inputs& x) { return div(x[0], add(exp(x[1]), 0.5)); }, {{7}, {7}}},
      {"gelu", [](const Inputs& x) { return gelu(x[0]); }, {{6, 9}}},
      {"tanh/sigmoid/relu", [](const Inputs& x) { return add(tanh(x[0]), mul(sigmoid(x[0]), relu(x[0]))); }, {{33}}},
      {"sqrt/rsqrt/log/pow",
       [](const Inputs& x) {
         Tensor p = add(exp(x[0]), 0.2);
         return add(add(sqrt(p), rsqrt(p)), add(log(p), pow(p, 1.5)));
       },
       {{17}}},
      {"sum/mean over dims", [](const Inputs& x) { return add(sum(x[0], {0, 2}), mean(x[0], {0, 2})); }, {{3, 4, 5}}},
      {"max/cumsum", [](const Inputs& x) { return add(max(x[0], -1), sum(cumsum(x[0], 1), {1})); }, {{4, 6}}},
      {"concat/split", [](const Inputs& x) { return concat(split(x[0], 2, 1), 0); }, {{3, 4}}},
      {"masked_fill/where",
       [](const Inputs& x) {
         Tensor m = causal_mask(4).to(x[0].device());
         return where(m, masked_fill(x[0], m, 0.5), x[1]);
       },
       {{4, 4}, {4, 4}}},
      {"matmul/batched", [](const Inputs& x) { return matmul(x[0], x[1].transpose(1, 2)); }, {{2, 3, 8}, {2, 5, 8}}, 1e-4},
      {"linear", [](const Inputs& x) { return linear(x[0], x[1], x[2]); }, {{4, 6}, {5, 6}, {5}}, 1e-4},
      {"softmax/log_softmax", [](const Inputs& x) { return add(softmax(x[0], -1), log_softmax(x[0], 0)); }, {{5, 7}}},
      {"causal_softmax", [](const Inputs& x) { return causal_softmax(x[0], 0.7); }, {{2, 5, 5}}},
      {"cross_entropy",
       [](const Inputs& x) {
         return cross_entropy(x[0], from_vector<int64_t>({2, -1, 0, 6}, {4}).to(x[0].device()), -1);
       },
       {{4, 7}}},
      {"layer_norm", [](const Inputs& x) { return layer_norm(x[0], x[1], x[2]); }, {{6, 10}, {10}, {10}}},
      {"rms_norm", [](const Inputs& x) { return rms_norm(x[0], x[1]); }, {{6, 10}, {10}}},
      {"embedding/repeated ids",
       [](const Inputs& x) { return embedding(x[0], from_vector<int64_t>({3, 1, 3, 0}, {2, 2}).to(x[0].device())); },
       {{5, 4}}},
      {"dropout", [](const Inputs& x) { Generator g(11); return dropout(x[0], 0.3, true, g); }, {{8, 9}}},
  };
}

struct OpRun {
  Tensor out;
  std::vector<Tensor> grads;
};

// The case on `device` in `dt`: y = op(x) and the gradients of Σ w ⊙ y (w fixed) for each input.
OpRun run_op(const OpCase& c, Device device, DType dt, uint64_t seed) {
  Inputs xs;
  for (size_t i = 0; i < c.shapes.size(); ++i) {
    Tensor v = gc_input(c.shapes[i], seed + i, false).to(dt).to(device);
    v.requires_grad_();
    xs.push_back(v);
  }
  OpRun r;
  r.out = c.op(xs);
  Generator wg(seed + 100);
  Tensor w = randn(r.out.shape(), wg, DType::F64).to(dt).to(device);
  sum(mul(r.out, w)).backward();
  for (const Tensor& x : xs) r.grads.push_back(x.grad());
  return r;
}

}  // namespace

TEST_SUITE("devices") {
  TEST_CASE("ops agree on every device: forward and backward, float32 and float64, against the CPU in float64") {
    for_each_device([](Device device) {
      uint64_t seed = 1;
      for (const OpCase& c : op_cases()) {
        seed += 10;
        const OpRun want = run_op(c, Device::CPU, DType::F64, seed);
        for (DType dt : {DType::F32, DType::F64}) {
          if (device == Device::CPU && dt == DType::F64) continue;  // that is the reference itself
          const std::string where = std::string(device_name(device)) + " " + dtype_name(dt);
          CAPTURE(c.name);
          CAPTURE(where);
          const OpRun got = run_op(c, device, dt, seed);
          CHECK(got.out.device() == device);
          CHECK(got.out.dtype() == dt);
          const double tol = dt == DType::F32 ? c.f32_tolerance : 1e-10;
          assert_close(got.out.to(DType::F64), want.out, tol);
          for (size_t i = 0; i < want.grads.size(); ++i) {
            CAPTURE(i);
            REQUIRE(got.grads[i].defined());
            CHECK(got.grads[i].device() == device);
            assert_close(got.grads[i].to(DType::F64), want.grads[i], tol);
          }
        }
      }
    });
  }

  TEST_CASE("every op's float64 gradient check passes on CUDA too") {
    on_cuda([](Device device) {
      std::vector<GradcheckCase> cases;
      register_op_gradchecks(cases);
      GradcheckDevice on(device);
      for (const GradcheckCase& c : cases) {
        CAPTURE(c.name);
        const GradcheckResult r = c.run();
        CHECK_MESSAGE(r.passed, r.message);
      }
    });
  }

  TEST_CASE("a tiny GPT of every attention: the loss and one step's gradients agree between the CPU and CUDA") {
    on_cuda([](Device device) {
      for (const std::string& attention : kAttentions) {
        for (DType dt : {DType::F32, DType::F64}) {
          const std::string type = dtype_name(dt);
          CAPTURE(attention);
          CAPTURE(type);
          GPTConfig cfg = tiny_gpt(attention, 16, 8, 2, 11);
          cfg.dropout = 0.1;  // the same counter-based masks on both devices
          GPT cpu(cfg, 5), gpu(cfg, 5);
          perturb(cpu, 0.2, 9);
          perturb(gpu, 0.2, 9);
          cpu.to(dt);
          gpu.to(dt);
          gpu.to(device);
          const std::vector<int64_t> x = random_ids(2 * 8, 11, 3), y = random_ids(2 * 8, 11, 4);
          const Tensor l_cpu = cpu.forward(ids(x, 2, 8), ids(y, 2, 8)).loss;
          const Tensor l_gpu = gpu.forward(ids(x, 2, 8).to(device), ids(y, 2, 8).to(device)).loss;
          l_cpu.backward();
          l_gpu.backward();
          const double tol = dt == DType::F32 ? 1e-4 : 1e-10;
          assert_close(l_gpu.to(Device::CPU), l_cpu, tol);
          const auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
          for (size_t i = 0; i < pc.size(); ++i) {
            CAPTURE(pc[i].first);
            CHECK(pg[i].second.device() == device);
            assert_close(pg[i].second.grad().to(Device::CPU), pc[i].second.grad(), tol);
          }
        }
      }
    });
  }

  TEST_CASE("AdamW, gradient clipping and accumulation on the device take the CPU's step") {
    on_cuda([](Device device) {
      const Tensor start = gc_input({4, 6}, 21, false);
      const Tensor g1 = gc_input({4, 6}, 22, false), g2 = gc_input({4, 6}, 23, false);
      auto step = [&](Device d) {
        Tensor w = start.to(d).detach();
        w.requires_grad_();
        AdamW opt({{{w}, 0.1}}, 0.9, 0.99);
        for (int k = 0; k < 3; ++k) {
          w.set_grad(g1.to(d));
          w.grad().add_(g2.to(d), 0.5);  // a second micro-batch accumulated in place
          clip_grad_norm({w}, 1.0);
          opt.step(1e-2);
        }
        return w.detach().to(Device::CPU);
      };
      assert_close(step(device), step(Device::CPU), 1e-12);
    });
  }

  TEST_CASE("host code cannot read device memory; mixed devices name both") {
    on_cuda([](Device device) {
      const Tensor d = ones({3}).to(device);
      CHECK(contains(error_of([&] { d.data<float>(); }), "lives on cuda"));
      CHECK(contains(error_of([&] { add(d, ones({3})); }), "cuda"));
      CHECK(contains(error_of([&] { add(d, ones({3})); }), "cpu"));
      CHECK(d.to(Device::CPU).to_vector<float>() == std::vector<float>{1, 1, 1});
      CHECK(d.contiguous().device() == device);
      CHECK(d.clone().device() == device);
      CHECK(d.to(DType::F64).device() == device);
      CHECK(zeros({2}, DType::F32, device).device() == device);
    });
  }

  TEST_CASE("training with --device cuda logs the CPU's losses, and resumes onto the device") {
    on_cuda([](Device) {
      TempDir tmp;
      const std::string data = fixture_data(tmp, 4242, 4000);
      auto run = [&](const std::string& device, const std::string& out, int64_t iters, bool resume) {
        TrainOptions o;
        o.data_dir = data;
        o.out_dir = tmp.file(out);
        o.model = tiny_gpt("noise-v2", 16, 16);
        o.model.dropout = 0.1;
        o.batch_size = 4;
        o.max_iters = iters;
        o.eval_interval = 3;
        o.eval_iters = 2;
        o.lr_decay_iters = 6;
        o.seed = 99;
        o.quiet = true;
        o.device = device;
        o.resume = resume;
        return run_training(o);
      };
      const TrainResult cpu = run("cpu", "cpu", 6, false);
      run("cuda", "gpu", 3, false);
      const TrainResult gpu = run("cuda", "gpu", 6, true);
      CHECK(gpu.iterations == cpu.iterations);
      CHECK(gpu.final_train_loss == doctest::Approx(cpu.final_train_loss).epsilon(1e-4));
      CHECK(gpu.final_val_loss == doctest::Approx(cpu.final_val_loss).epsilon(1e-4));
    });
  }

  TEST_CASE("a checkpoint written from the device loads back onto it with the same weights") {
    on_cuda([](Device device) {
      TempDir tmp;
      GPT m(tiny_gpt("noise-v2", 16, 8), 3);
      perturb(m, 0.1, 4);
      const auto want = m.named_parameters();
      std::vector<std::vector<float>> values;
      for (const auto& p : want) values.push_back(p.second.to_vector<float>());
      m.to(device);
      save_model(tmp.file("c.safetensors"), m, "", "id");
      LoadedModel lm = load_model(tmp.file("c.safetensors"));
      lm.model->to(device);
      const auto got = lm.model->named_parameters();
      REQUIRE(got.size() == want.size());
      for (size_t i = 0; i < got.size(); ++i) {
        CAPTURE(got[i].first);
        CHECK(got[i].second.device() == device);
        CHECK(got[i].second.to_vector<float>() == values[i]);
      }
    });
  }
}
