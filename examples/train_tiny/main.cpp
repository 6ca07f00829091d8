// Trains a tiny GPT for a few steps through noiseformer's C++ API and checks that the loss went
// down (docs/library.md). Exit status 0 only if it did: scripts/test.sh builds this against the
// installed package and runs it.
//
//   train_tiny [attention] [steps]      attention: base (default), symmetric, noise-v1, noise-v2,
//                                       diff, shared-diff, selective
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <noiseformer/noiseformer.h>

namespace {

const char* kText =
    "To be, or not to be, that is the question:\n"
    "Whether 'tis nobler in the mind to suffer\n"
    "The slings and arrows of outrageous fortune,\n"
    "Or to take arms against a sea of troubles\n"
    "And by opposing end them. To die - to sleep,\n"
    "No more; and by a sleep to say we end\n"
    "The heart-ache and the thousand natural shocks\n"
    "That flesh is heir to: 'tis a consummation\n"
    "Devoutly to be wish'd. To die, to sleep;\n"
    "To sleep, perchance to dream - ay, there's the rub.\n";

// A batch of token windows as the (B, T) int64 tensors GPT::forward takes.
struct Batch {
  nf::Tensor x, y;
};
Batch next_batch(nf::BatchSampler& sampler) {
  std::vector<int64_t> x, y;
  sampler.next(x, y);
  const nf::Shape shape{sampler.batch_size(), sampler.block_size()};
  return {nf::from_vector<int64_t>(x, shape), nf::from_vector<int64_t>(y, shape)};
}

// Mean loss over fixed batches, in eval mode and without recording a graph.
double eval_loss(nf::GPT& model, const std::vector<Batch>& batches) {
  nf::no_grad guard;
  model.eval();
  double sum = 0;
  for (const Batch& b : batches) sum += model.forward(b.x, b.y).loss.item();
  model.train();
  return sum / static_cast<double>(batches.size());
}

}  // namespace

int main(int argc, char** argv) {
  const std::string attention = argc > 1 ? argv[1] : "base";
  const int steps = argc > 2 ? std::atoi(argv[2]) : 60;
  std::printf("noiseformer %s, attention %s\n", NOISEFORMER_VERSION, attention.c_str());

  // Data: a character tokenizer over the built-in text, its tokens, a batch sampler.
  const nf::CharTokenizer tok = nf::CharTokenizer::from_text(kText);
  const std::vector<int> ids = tok.encode(kText);
  const nf::TokenData data(std::vector<uint16_t>(ids.begin(), ids.end()), "built-in text");

  // Model: a tiny GPT (2 layers, 2 heads, 32 channels, 32-token context).
  nf::GPTConfig cfg;
  cfg.vocab_size = tok.vocab_size();
  cfg.n_layer = 2;
  cfg.n_head = 2;
  cfg.n_embd = 32;
  cfg.block_size = 32;
  cfg.attention = attention;
  cfg.validate();
  nf::GPT model(cfg, /*seed=*/1337);
  std::printf("%lld parameters, vocabulary %d\n", static_cast<long long>(model.num_parameters()),
              tok.vocab_size());

  // AdamW with weight decay on the matrices only, as nanoGPT does.
  nf::AdamW opt({{model.decay_parameters(), 0.1}, {model.no_decay_parameters(), 0.0}});

  nf::BatchSampler eval_sampler(data, 8, cfg.block_size, nf::Sampling::Sequential, 0);
  std::vector<Batch> eval_batches;
  for (int i = 0; i < 4; i++) eval_batches.push_back(next_batch(eval_sampler));
  const double before = eval_loss(model, eval_batches);
  std::printf("loss before training: %.4f\n", before);

  nf::BatchSampler sampler(data, 8, cfg.block_size, nf::Sampling::Random, /*seed=*/1);
  const std::vector<nf::Tensor> params = model.parameters();
  for (int step = 0; step < steps; step++) {
    const Batch b = next_batch(sampler);
    nf::GPTOutput out = model.forward(b.x, b.y);  // logits and loss
    out.loss.backward();
    nf::clip_grad_norm(params, 1.0);
    opt.step(/*lr=*/3e-3);
    opt.zero_grad();
    if (step % 10 == 0 || step == steps - 1)
      std::printf("step %3d  loss %.4f\n", step, out.loss.item());
  }

  const double after = eval_loss(model, eval_batches);
  std::printf("loss after %d steps: %.4f\n", steps, after);

  // A checkpoint round trip: save_model writes safetensors (+ the tokenizer), load_model
  // rebuilds the GPT from the config stored in it.
  const std::string path = "train_tiny.safetensors";
  nf::save_model(path, model, tok.to_meta_json().dump());
  nf::LoadedModel loaded = nf::load_model(path);
  const double reloaded = eval_loss(*loaded.model, eval_batches);
  std::remove(path.c_str());
  std::printf("reloaded from %s: loss %.4f\n", path.c_str(), reloaded);

  // A few characters from the trained model (greedy, KV cache).
  nf::Generator sampler_rng(7);
  std::vector<int> sample;
  for (int64_t id : model.generate({ids[0]}, 40, /*temperature=*/0.0, /*top_k=*/0, sampler_rng))
    sample.push_back(static_cast<int>(id));
  std::printf("sample: %s\n", tok.decode(sample).c_str());

  if (std::abs(reloaded - after) > 1e-5) {
    std::printf("FAIL: the reloaded model's loss differs (%.6f vs %.6f)\n", reloaded, after);
    return 1;
  }
  if (!(after < 0.9 * before)) {
    std::printf("FAIL: the loss did not go down (%.4f -> %.4f)\n", before, after);
    return 1;
  }
  std::printf("OK: the loss went down from %.4f to %.4f\n", before, after);
  return 0;
}
