// A program in a project that builds noiseformer with add_subdirectory (examples/subproject):
// d/dx sum(tanh(x W)) through noiseformer's autograd, printed with the library's version.
#include <cstdio>

#include <noiseformer/noiseformer.h>

int main() {
  nf::Generator gen(1);
  nf::Tensor x = nf::randn({2, 3}, gen).requires_grad_();
  nf::Tensor w = nf::randn({3, 4}, gen);
  nf::Tensor loss = nf::sum(nf::tanh(nf::matmul(x, w)));
  loss.backward();
  std::printf("noiseformer %s\nloss %.4f\ndloss/dx = %s\n", NOISEFORMER_VERSION, loss.item(),
              x.grad().to_string().c_str());
  return 0;
}
