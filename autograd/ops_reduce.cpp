// Reductions: sum and mean over any set of dims, max/argmax over one dim, cumsum.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "autograd/dim_order.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/strided.h"

namespace nf {
namespace {

std::vector<int64_t> normalize_dims(const char* op, std::vector<int64_t> dims, int64_t ndim) {
  for (int64_t& d : dims) d = normalize_dim(op, d, ndim);
  std::sort(dims.begin(), dims.end());
  if (std::adjacent_find(dims.begin(), dims.end()) != dims.end()) op_error(op, "repeated dim");
  return dims;
}

// Shape after reducing `dims` (kept as size 1 when keepdim).
Shape reduced_shape(const Shape& in, const std::vector<int64_t>& dims, bool keepdim) {
  Shape out;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
    const bool r = std::find(dims.begin(), dims.end(), d) != dims.end();
    if (!r) out.push_back(in[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

}  // namespace

Tensor sum(const Tensor& a, std::vector<int64_t> dims, bool keepdim) {
  if (!is_floating(a.dtype())) op_error("sum", std::string("expected a floating tensor, got ") + dtype_name(a.dtype()));
  dims = normalize_dims("sum", dims, a.dim());
  const Shape kept = reduced_shape(a.shape(), dims, true);
  Tensor out = zeros(kept, a.dtype(), a.device());
  // Reading a through strides with the output's strides set to 0 on reduced dims accumulates
  // every input element into its output slot. Trailing reductions run row-parallel.
  // Leading reductions (bias gradients: sum over rows of a (R, C) gradient) run column-parallel.
  const bool trailing = !dims.empty() && dims.front() == a.dim() - static_cast<int64_t>(dims.size()) && a.is_contiguous();
  const bool leading = !dims.empty() && !trailing && dims.back() == static_cast<int64_t>(dims.size()) - 1 &&
                       a.is_contiguous();
  dispatch_float(a.dtype(), "sum", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* pa = a.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
    if (leading) {
      // out[j] = Σ_r a[r, j]: each column block is summed over rows in row order by one thread
      // (the result does not depend on the thread count); rows stream through contiguously.
      const int64_t cols = out.numel(), rows = a.numel() / std::max<int64_t>(cols, 1);
      constexpr int64_t kColBlock = 256;
      const int64_t blocks = (cols + kColBlock - 1) / kColBlock;
#pragma omp parallel for schedule(static) if (a.numel() > (1 << 16) && blocks > 1)
      for (int64_t blk = 0; blk < blocks; ++blk) {
        const int64_t j0 = blk * kColBlock, nj = std::min(kColBlock, cols - j0);
        scalar_t* y = po + j0;
        for (int64_t r = 0; r < rows; ++r) {
          const scalar_t* x = pa + r * cols + j0;
#pragma omp simd
          for (int64_t j = 0; j < nj; ++j) y[j] += x[j];
        }
      }
    } else if (trailing) {
      const int64_t rows = out.numel(), n = a.numel() / std::max<int64_t>(rows, 1);
#pragma omp parallel for schedule(static) if (a.numel() > (1 << 16))
      for (int64_t r = 0; r < rows; ++r) {
        const scalar_t* x = pa + r * n;
        scalar_t acc = 0;
#pragma omp simd reduction(+ : acc)
        for (int64_t i = 0; i < n; ++i) acc += x[i];
        po[r] = acc;
      }
    } else {
      StridedLoop<2> loop(a.shape(), {broadcast_strides(out, a.shape()), a.strides()});
      loop.run([&](std::array<int64_t, 2> o, int64_t n, std::array<int64_t, 2> s) {
        scalar_t* y = po + o[0];
        const scalar_t* x = pa + o[1];
        if (s[0] == 0) {
          scalar_t acc = 0;
          for (int64_t i = 0; i < n; ++i) acc += x[i * s[1]];
          *y += acc;
        } else {
          for (int64_t i = 0; i < n; ++i) y[i * s[0]] += x[i * s[1]];
        }
      }, /*allow_parallel=*/false);  // rows may share output slots
    }
  });
  Tensor result = keepdim ? out : out.view(reduced_shape(a.shape(), dims, false));
  if (needs_grad({&a})) {
    Shape in_shape = a.shape();
    record(result, "sum", {a}, [in_shape, kept](const Tensor& g) {
      return std::vector<Tensor>{g.reshape(kept).expand(in_shape).contiguous()};
    });
  }
  return result;
}

Tensor sum(const Tensor& a) {
  std::vector<int64_t> all(a.dim());
  std::iota(all.begin(), all.end(), 0);
  return sum(a, all, false);
}

Tensor mean(const Tensor& a, std::vector<int64_t> dims, bool keepdim) {
  dims = normalize_dims("mean", dims, a.dim());
  int64_t n = 1;
  for (int64_t d : dims) n *= a.shape()[d];
  return mul(sum(a, dims, keepdim), 1.0 / static_cast<double>(n));
}

Tensor mean(const Tensor& a) { return mul(sum(a), 1.0 / static_cast<double>(a.numel())); }

namespace {
// Row-wise max over the last dim of a contiguous tensor: values and int64 indices.
void max_rows(const Tensor& x, Tensor& values, Tensor& indices) {
  const int64_t n = x.size(-1), rows = x.numel() / n;
  int64_t* pi = indices.data<int64_t>();
  dispatch_float(x.dtype(), "max", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* pv = values.data<scalar_t>();
    for (int64_t r = 0; r < rows; ++r) {
      const scalar_t* row = px + r * n;
      int64_t best = 0;
      for (int64_t i = 1; i < n; ++i)
        if (row[i] > row[best] || (std::isnan(row[i]) && !std::isnan(row[best]))) best = i;
      pv[r] = row[best];
      pi[r] = best;
    }
  });
}
}  // namespace

Tensor max(const Tensor& a, int64_t dim, bool keepdim) {
  dim = normalize_dim("max", dim, a.dim());
  if (a.size(dim) == 0) op_error("max", "reduction over an empty dim of shape " + shape_str(a.shape()));
  Tensor x = dim_last(a, dim);
  Shape rows_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor values = empty(rows_shape, a.dtype()), indices = empty(rows_shape, DType::I64);
  max_rows(x, values, indices);
  const Shape out_shape = reduced_shape(a.shape(), {dim}, keepdim);
  Tensor out = values.view(out_shape);
  if (needs_grad({&a})) {
    Shape in_shape = a.shape();
    record(out, "max", {a}, [indices, in_shape, dim, rows_shape](const Tensor& g) {
      // Send each row's gradient to the position of its maximum.
      Shape perm_shape = rows_shape;
      perm_shape.push_back(in_shape[dim]);
      Tensor gx = zeros(perm_shape, g.dtype());
      Tensor gc = g.contiguous();
      const int64_t n = in_shape[dim], rows = indices.numel();
      const int64_t* pi = indices.data<int64_t>();
      dispatch_float(g.dtype(), "max_backward", [&](auto zero_) { using scalar_t = decltype(zero_);
        const scalar_t* pg = gc.data<scalar_t>();
        scalar_t* px = gx.data<scalar_t>();
        for (int64_t r = 0; r < rows; ++r) px[r * n + pi[r]] = pg[r];
      });
      return std::vector<Tensor>{undo_dim_last(gx, dim)};
    });
  }
  return out;
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  dim = normalize_dim("argmax", dim, a.dim());
  Tensor x = dim_last(a, dim);
  Shape rows_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor values = empty(rows_shape, a.dtype()), indices = empty(rows_shape, DType::I64);
  max_rows(x, values, indices);
  return indices.view(reduced_shape(a.shape(), {dim}, keepdim));
}

namespace {
// Inclusive prefix sums along the last dim of a contiguous tensor (reverse: suffix sums).
Tensor scan_rows(const Tensor& x, bool reverse) {
  Tensor out = empty(x.shape(), x.dtype());
  const int64_t n = x.dim() ? x.size(-1) : 1, rows = x.numel() / std::max<int64_t>(n, 1);
  dispatch_float(x.dtype(), "cumsum", [&](auto zero_) { using scalar_t = decltype(zero_);
    const scalar_t* px = x.data<scalar_t>();
    scalar_t* po = out.data<scalar_t>();
#pragma omp parallel for schedule(static) if (x.numel() > (1 << 16))
    for (int64_t r = 0; r < rows; ++r) {
      scalar_t acc = 0;
      if (!reverse) {
        for (int64_t i = 0; i < n; ++i) po[r * n + i] = acc += px[r * n + i];
      } else {
        for (int64_t i = n - 1; i >= 0; --i) po[r * n + i] = acc += px[r * n + i];
      }
    }
  });
  return out;
}
}  // namespace

Tensor cumsum(const Tensor& a, int64_t dim) {
  dim = normalize_dim("cumsum", dim, a.dim());
  Tensor out = undo_dim_last(scan_rows(dim_last(a, dim), false), dim);
  if (needs_grad({&a}))
    record(out, "cumsum", {a}, [dim](const Tensor& g) {
      // out[i] = sum_{j<=i} a[j]  =>  da[j] = sum_{i>=j} g[i]: a reversed cumsum
      return std::vector<Tensor>{undo_dim_last(scan_rows(dim_last(g, dim), true), dim)};
    });
  return out;
}

}  // namespace nf
