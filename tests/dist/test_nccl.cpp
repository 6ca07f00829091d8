// The gradient reducer over NCCL, on device buffers (dist/nccl_communicator.h): the same buckets,
// flags and sums as over MPI on the host. Run by scripts/gpu-check.sh under mpirun with one rank
// per GPU (the nccl suite; compiled only in a CUDA build with MPI and NCCL). Without a GPU each
// case says so and returns.
#ifdef NOISEFORMER_NCCL
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "dist/grad_reducer.h"
#include "dist/world.h"
#include "tensor/kernels/cuda/cuda_backend.h"
#include "tests/support.h"

using namespace nf;
using namespace nf::test;

TEST_SUITE("nccl") {
  TEST_CASE("GradReducer over NCCL gives the sums MPI gives, bit for bit up to two ranks, twice in a row") {
    if (!cuda::available()) {
      MESSAGE("no CUDA device: skipping");
      return;
    }
    Communicator& job = world();
    Communicator& gpu = gradient_communicator(job, Device::CUDA);
    CHECK(std::string(gpu.name()) == "nccl");
    CHECK(gpu.size() == job.size());
    const std::vector<Shape> shapes = {{7}, {30, 10}, {1}, {5, 3}};
    for (int round = 0; round < 2; ++round) {
      CAPTURE(round);
      std::vector<Tensor> host, device;
      for (size_t i = 0; i < shapes.size(); ++i) {
        Tensor p = leaf(shapes[i], 100 + i, DType::F32);
        Tensor d = p.to(Device::CUDA);
        // Parameter 2 has no gradient on any rank (it stays without one); parameter 3 has one on
        // every rank but 0 (rank 0's share counts as zeros).
        const bool has = i != 2 && !(i == 3 && job.rank() == 0 && job.size() > 1);
        if (has) {
          Tensor g = leaf(shapes[i], 1000 * (round + 1) + 10 * job.rank() + i, DType::F32);
          p.set_grad(g);
          d.set_grad(g.to(Device::CUDA));
        }
        host.push_back(p);
        device.push_back(d);
      }
      GradReducer on_host(host, job, 64), on_device(device, gpu, 64);  // a few buckets
      CHECK(on_device.bucket_count() == on_host.bucket_count());
      on_host.begin();
      on_host.finish();
      on_device.begin();
      on_device.finish();
      for (size_t i = 0; i < shapes.size(); ++i) {
        CAPTURE(i);
        REQUIRE(host[i].grad().defined() == device[i].grad().defined());
        if (!host[i].grad().defined()) continue;
        const std::vector<double> want = values(host[i].grad()), got = values(device[i].grad().to(Device::CPU));
        if (job.size() <= 2) {
          CHECK(got == want);  // a + b is the same float whoever adds it
        } else {
          CHECK(worst_error(got, want) < 1e-6);
        }
      }
    }
  }
}
#endif  // NOISEFORMER_NCCL
