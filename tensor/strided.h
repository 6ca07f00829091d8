#pragma once
// Walking the elements of several same-shaped strided views at once: the loop every elementwise
// kernel, copy and broadcast is built on. Dimensions that are contiguous with each other in every
// operand are merged first ("coalesced"), so a contiguous tensor is one flat loop and a
// transposed or broadcast one is usually two.
#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace nf {

template <size_t N>
struct StridedLoop {
  std::vector<int64_t> shape;                   // coalesced shape
  std::array<std::vector<int64_t>, N> strides;  // per operand, coalesced

  StridedLoop(const Shape& full_shape, const std::array<Shape, N>& full_strides) {
    for (size_t d = 0; d < full_shape.size(); ++d) {
      if (full_shape[d] == 1) continue;  // size-1 dims carry no movement
      bool merge = !shape.empty();
      for (size_t k = 0; k < N && merge; ++k)
        merge = strides[k].back() == full_strides[k][d] * full_shape[d];
      if (merge) {
        shape.back() *= full_shape[d];
        for (size_t k = 0; k < N; ++k) strides[k].back() = full_strides[k][d];
      } else {
        shape.push_back(full_shape[d]);
        for (size_t k = 0; k < N; ++k) strides[k].push_back(full_strides[k][d]);
      }
    }
    if (shape.empty()) {  // a single element
      shape.push_back(1);
      for (size_t k = 0; k < N; ++k) strides[k].push_back(0);
    }
  }

  int64_t inner() const { return shape.back(); }
  int64_t rows() const {
    int64_t r = 1;
    for (size_t d = 0; d + 1 < shape.size(); ++d) r *= shape[d];
    return r;
  }
  // Element offsets of the first element of outer row `row`, for each operand.
  std::array<int64_t, N> row_offsets(int64_t row) const {
    std::array<int64_t, N> off{};
    for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d) {
      const int64_t i = row % shape[d];
      row /= shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += i * strides[k][d];
    }
    return off;
  }
  std::array<int64_t, N> inner_strides() const {
    std::array<int64_t, N> s{};
    for (size_t k = 0; k < N; ++k) s[k] = strides[k].back();
    return s;
  }

  // f(offsets, count, inner_strides) for each outer row; rows run in parallel when large
  // (never when `allow_parallel` is false, e.g. when rows accumulate into shared outputs).
  // The threshold, 128k elements (0.5 MB of float32), is where splitting a memory-bound loop
  // over two cores pays for waking the second thread (OMP_WAIT_POLICY=PASSIVE sleeps it) —
  // and fewer parallel regions also suffer less when the machine is shared.
  template <class F>
  void run(F&& f, bool allow_parallel = true) const {
    constexpr int64_t parallel_threshold = 1 << 17;
    const int64_t R = rows(), n = inner();
    const auto is = inner_strides();
    if (!allow_parallel) {
      for (int64_t r = 0; r < R; ++r) f(row_offsets(r), n, is);
    } else if (R == 1 && n >= 2 * parallel_threshold) {  // one long run: split it into chunks
      const int64_t chunk = parallel_threshold;
      const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static)
      for (int64_t c = 0; c < chunks; ++c) {
        std::array<int64_t, N> off{};
        for (size_t k = 0; k < N; ++k) off[k] = c * chunk * is[k];
        f(off, std::min(chunk, n - c * chunk), is);
      }
    } else if (R * n >= parallel_threshold && R > 1) {
#pragma omp parallel for schedule(static)
      for (int64_t r = 0; r < R; ++r) f(row_offsets(r), n, is);
    } else {
      for (int64_t r = 0; r < R; ++r) f(row_offsets(r), n, is);
    }
  }
};

// Strides of `t` seen through a broadcast to `shape` (0 where t has size 1 or no dim).
Shape broadcast_strides(const Tensor& t, const Shape& shape);
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b);

}  // namespace nf
