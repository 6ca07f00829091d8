// Reductions: sum and mean over any set of dims, max/argmax over one dim, cumsum. The loops are
// kernels of tensor/kernels/reduce.h (max and cumsum work on rows: the dim is moved last first).
#include <algorithm>
#include <numeric>

#include "autograd/dim_order.h"
#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/kernels/reduce.h"

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

// out = Σ of a over dims.  Backward: da = g broadcast back over the summed dims.
Tensor sum(const Tensor& a, std::vector<int64_t> dims, bool keepdim) {
  if (!is_floating(a.dtype())) op_error("sum", std::string("expected a floating tensor, got ") + dtype_name(a.dtype()));
  dims = normalize_dims("sum", dims, a.dim());
  const Shape kept = reduced_shape(a.shape(), dims, true);
  Tensor out = empty(kept, a.dtype(), a.device());
  kernels::sum(out, a, dims);
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
void check_floating(const char* op, const Tensor& a) {
  if (!is_floating(a.dtype())) op_error(op, std::string("expected a floating tensor, got ") + dtype_name(a.dtype()));
}
}  // namespace

// values = the maximum over dim, kept with the first index where it occurs (a NaN wins).
// Backward: the gradient of each maximum goes to that index; every other element gets 0.
Tensor max(const Tensor& a, int64_t dim, bool keepdim) {
  dim = normalize_dim("max", dim, a.dim());
  if (a.size(dim) == 0) op_error("max", "reduction over an empty dim of shape " + shape_str(a.shape()));
  check_floating("max", a);
  Tensor x = dim_last(a, dim);
  Shape rows_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor values = empty(rows_shape, a.dtype(), a.device()), indices = empty(rows_shape, DType::I64, a.device());
  kernels::max_lastdim(values, indices, x);
  const Shape out_shape = reduced_shape(a.shape(), {dim}, keepdim);
  Tensor out = values.view(out_shape);
  if (needs_grad({&a})) {
    Shape in_shape = a.shape();
    record(out, "max", {a}, [indices, in_shape, dim, rows_shape](const Tensor& g) {
      // Send each row's gradient to the position of its maximum.
      Shape perm_shape = rows_shape;
      perm_shape.push_back(in_shape[dim]);
      Tensor gx = empty(perm_shape, g.dtype(), g.device());
      kernels::max_backward(gx, g.contiguous(), indices);
      return std::vector<Tensor>{undo_dim_last(gx, dim)};
    });
  }
  return out;
}

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  dim = normalize_dim("argmax", dim, a.dim());
  if (a.size(dim) == 0) op_error("argmax", "reduction over an empty dim of shape " + shape_str(a.shape()));
  check_floating("argmax", a);
  Tensor x = dim_last(a, dim);
  Shape rows_shape(x.shape().begin(), x.shape().end() - 1);
  Tensor values = empty(rows_shape, a.dtype(), a.device()), indices = empty(rows_shape, DType::I64, a.device());
  kernels::max_lastdim(values, indices, x);
  return indices.view(reduced_shape(a.shape(), {dim}, keepdim));
}

namespace {
// Inclusive prefix sums along the last dim of a contiguous tensor (reverse: suffix sums).
Tensor scan_rows(const Tensor& x, bool reverse) {
  Tensor out = empty(x.shape(), x.dtype(), x.device());
  kernels::cumsum(out, x, reverse);
  return out;
}
}  // namespace

// out[i] = Σ_{j<=i} a[j] along dim.
Tensor cumsum(const Tensor& a, int64_t dim) {
  dim = normalize_dim("cumsum", dim, a.dim());
  check_floating("cumsum", a);
  Tensor out = undo_dim_last(scan_rows(dim_last(a, dim), false), dim);
  if (needs_grad({&a}))
    record(out, "cumsum", {a}, [dim](const Tensor& g) {
      // out[i] = sum_{j<=i} a[j]  =>  da[j] = sum_{i>=j} g[i]: a reversed cumsum
      return std::vector<Tensor>{undo_dim_last(scan_rows(dim_last(g, dim), true), dim)};
    });
  return out;
}

}  // namespace nf
