#pragma once
// Where each micro-batch's random draws start in the model's generator, so that a rank computing
// micro-batch m by itself draws exactly the dropout masks and noise that one process computing
// micro-batches 0, 1, …, m−1 before it would have drawn for m (docs/distributed.md).
//
// The generator is counter-based (tensor/random.h): a forward pass reserves a run of counters,
// and how many depends only on the shapes and mode — and on the counter's parity, since normal
// draws start on an even counter. So the plan measures the draws of one forward pass (a probe on
// a batch of the right shape, the generator put back afterwards) for each parity it meets, and
// the start of micro-batch m is the start of m−1 plus its draws. check() verifies every real pass
// drew what the plan said: a model whose draws depended on the data would stop with an error
// instead of silently training on other numbers than one process would.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>

#include "tensor/random.h"

namespace nf {

class DrawPlan {
 public:
  // probe(): one forward pass of a micro-batch's shape, in the mode being planned (train or eval).
  DrawPlan(Generator& gen, std::function<void()> probe) : gen_(gen), probe_(std::move(probe)) {}

  // The counter micro-batch m starts at when micro-batch 0 starts at c0.
  uint64_t start(uint64_t c0, int64_t m);
  // Throws std::logic_error unless a pass that started at `from` ended at `to`, as planned.
  void check(uint64_t from, uint64_t to);

 private:
  uint64_t draws(uint64_t from);  // of one pass starting at `from` (probed once per parity)

  Generator& gen_;
  std::function<void()> probe_;
  std::array<std::optional<uint64_t>, 2> per_parity_;
};

}  // namespace nf
