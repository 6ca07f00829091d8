#include "train/kv_eval.h"

#include <algorithm>
#include <stdexcept>

#include "train/eval_scope.h"

namespace nf {

KVEvalResult evaluate_windows_cached(GPT& model, const TokenData& data, const std::vector<int64_t>& budget,
                                     int64_t max_windows) {
  EvalScope scope(model);
  const int64_t T = model.config().block_size;
  std::vector<int64_t> starts = eval_windows(data.size(), T);
  if (starts.empty())
    throw std::runtime_error(data.name() + ": fewer than block_size+1 = " + std::to_string(T + 1) + " tokens");
  if (max_windows > 0 && static_cast<int64_t>(starts.size()) > max_windows) starts.resize(max_windows);
  KVEvalResult r;
  double total = 0;
  std::vector<int64_t> x(T), y(T);
  const Device device = model.device();
  for (int64_t o : starts) {
    fill_window(data, o, T, x.data(), y.data());
    GPTCache cache = model.make_cache(budget);
    for (int64_t t = 0; t < T; ++t) {
      Tensor logits = model.forward_step(full({1, 1}, static_cast<double>(x[t]), DType::I64, device), cache);  // (1, V)
      total += cross_entropy(logits, full({1}, static_cast<double>(y[t]), DType::I64, device)).item();
    }
    int64_t bytes = 0, full_bytes = 0;
    for (const LayerCache& lc : cache.layers) {
      r.peak_entries = std::max(r.peak_entries, lc.peak);
      bytes += lc.peak * lc.bytes_per_entry;
      full_bytes += T * lc.bytes_per_entry;
    }
    r.peak_bytes = std::max(r.peak_bytes, bytes);
    r.full_cache_bytes = full_bytes;
    r.tokens += T;
    ++r.windows;
  }
  r.loss = total / static_cast<double>(r.tokens);
  return r;
}

}  // namespace nf
