#pragma once
// Evaluation through the KV cache, token by token, so that selective attention's context
// pruning is real: each layer holds at most its budget of cached entries, evicting the most
// masked one (docs/selective.md). Reports the loss and the attention memory actually held.
#include <vector>

#include "models/gpt.h"
#include "data/dataset.h"

namespace nf {

struct KVEvalResult {
  double loss = 0;
  int64_t tokens = 0, windows = 0;
  int64_t peak_entries = 0;       // most cached entries any layer held at once
  int64_t peak_bytes = 0;         // Σ over layers of peak entries × bytes per entry (K and V)
  int64_t full_cache_bytes = 0;   // the same with no pruning: block_size entries per layer
};

// The same non-overlapping windows as `eval` (the first max_windows of them if > 0), each
// decoded from an empty cache with `budget` entries per layer (0 = unlimited).
KVEvalResult evaluate_windows_cached(GPT& model, const TokenData& data, const std::vector<int64_t>& budget,
                                     int64_t max_windows = 0);

}  // namespace nf
