// Shape ops: concat, split, stack, and selecting with boolean masks (masked_fill, where,
// causal_mask; their loops are kernels of tensor/kernels/elementwise.h). concat copies each input
// into a narrow view of the output, so its backward is the same narrow views of the gradient;
// split *is* narrow views, differentiable through narrow.
#include <algorithm>
#include <string>
#include <vector>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/kernels/elementwise.h"
#include "tensor/strided.h"

namespace nf {
namespace {

std::string nth(size_t i) { return "tensor " + std::to_string(i); }

}  // namespace

// ---- concat / split / stack ---------------------------------------------------------------------------
// out = [t0 | t1 | ...] along dim.  Backward: d t_i = g.narrow(dim, offset_i, size_i) (a view).
Tensor concat(const std::vector<Tensor>& ts, int64_t dim) {
  const char* op = "concat";
  if (ts.empty()) op_error(op, "needs at least one tensor");
  for (size_t i = 0; i < ts.size(); ++i)
    if (!ts[i].defined()) op_error(op, nth(i) + " is undefined");
  const Tensor& t0 = ts[0];
  if (t0.dim() == 0) op_error(op, "cannot concatenate 0-d tensors (use stack)");
  dim = normalize_dim(op, dim, t0.dim());
  Shape os = t0.shape();
  os[dim] = 0;
  for (size_t i = 0; i < ts.size(); ++i) {
    const Tensor& t = ts[i];
    check_same_dtype(op, t0, t);
    check_same_device(op, t0, t);
    bool ok = t.dim() == t0.dim();
    for (int64_t d = 0; ok && d < t0.dim(); ++d) ok = d == dim || t.size(d) == t0.size(d);
    if (!ok)
      op_error(op, nth(i) + " of shape " + shape_str(t.shape()) + " does not match tensor 0 of shape " +
                       shape_str(t0.shape()) + " outside dim " + std::to_string(dim));
    os[dim] += t.size(dim);
  }
  Tensor out = empty(os, t0.dtype(), t0.device());
  std::vector<int64_t> offsets;
  int64_t off = 0;
  for (const Tensor& t : ts) {
    offsets.push_back(off);
    if (t.size(dim) > 0) out.narrow(dim, off, t.size(dim)).copy_(t.detach());
    off += t.size(dim);
  }
  if (needs_grad(ts)) {
    std::vector<int64_t> sizes;
    std::vector<bool> want;
    for (const Tensor& t : ts) {
      sizes.push_back(t.size(dim));
      want.push_back(t.requires_grad());
    }
    record(out, "concat", ts, [dim, offsets, sizes, want](const Tensor& g) {
      std::vector<Tensor> grads(sizes.size());
      for (size_t i = 0; i < sizes.size(); ++i)
        if (want[i]) grads[i] = g.narrow(dim, offsets[i], sizes[i]);
      return grads;
    });
  }
  return out;
}

std::vector<Tensor> split(const Tensor& a, std::vector<int64_t> sizes, int64_t dim) {
  const char* op = "split";
  if (!a.defined()) op_error(op, "undefined operand");
  if (a.dim() == 0) op_error(op, "cannot split a 0-d tensor");
  dim = normalize_dim(op, dim, a.dim());
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) op_error(op, "negative size in " + shape_str(sizes));
    total += s;
  }
  if (total != a.size(dim))
    op_error(op, "sizes " + shape_str(sizes) + " sum to " + std::to_string(total) + " but dim " +
                     std::to_string(dim) + " of shape " + shape_str(a.shape()) + " has size " +
                     std::to_string(a.size(dim)));
  std::vector<Tensor> parts;
  int64_t off = 0;
  for (int64_t s : sizes) {
    parts.push_back(a.narrow(dim, off, s));
    off += s;
  }
  return parts;
}

// Parts of `size` along dim; the last is smaller when size does not divide the dim.
std::vector<Tensor> split(const Tensor& a, int64_t size, int64_t dim) {
  const char* op = "split";
  if (!a.defined()) op_error(op, "undefined operand");
  if (a.dim() == 0) op_error(op, "cannot split a 0-d tensor");
  dim = normalize_dim(op, dim, a.dim());
  if (size <= 0) op_error(op, "split size must be positive, got " + std::to_string(size));
  const int64_t n = a.size(dim);
  std::vector<int64_t> sizes;
  for (int64_t off = 0; off < n; off += size) sizes.push_back(std::min(size, n - off));
  if (sizes.empty()) sizes.push_back(0);
  return split(a, sizes, dim);
}

// out = concat of every t.unsqueeze(dim): a new dim of size ts.size() (differentiable through both).
Tensor stack(const std::vector<Tensor>& ts, int64_t dim) {
  const char* op = "stack";
  if (ts.empty()) op_error(op, "needs at least one tensor");
  for (size_t i = 0; i < ts.size(); ++i) {
    if (!ts[i].defined()) op_error(op, nth(i) + " is undefined");
    if (ts[i].shape() != ts[0].shape())
      op_error(op, nth(i) + " has shape " + shape_str(ts[i].shape()) + " but tensor 0 has shape " +
                       shape_str(ts[0].shape()));
  }
  const int64_t nd = ts[0].dim() + 1;
  dim = normalize_dim(op, dim, nd);
  std::vector<Tensor> parts;
  for (const Tensor& t : ts) parts.push_back(t.unsqueeze(dim));
  return concat(parts, dim);
}

// ---- masks ------------------------------------------------------------------------------------------------
namespace {

void check_mask(const char* op, const Tensor& mask, const char* what) {
  if (!mask.defined()) op_error(op, std::string(what) + " is undefined");
  if (mask.dtype() != DType::Bool)
    op_error(op, std::string(what) + " must be bool, got " + dtype_name(mask.dtype()) + shape_str(mask.shape()));
}

// A mask selects on its input's device.
void check_mask_device(const char* op, const Tensor& mask, const char* what, const Tensor& input) {
  if (mask.device() != input.device())
    op_error(op, std::string(what) + " is on " + device_name(mask.device()) + " but the input is on " +
                     device_name(input.device()));
}

void check_floating(const char* op, const Tensor& a) {
  if (!is_floating(a.dtype())) op_error(op, std::string("expected a floating tensor, got ") + dtype_name(a.dtype()));
}

// out = mask ? value : a, over a's shape (mask broadcast to it).
Tensor masked_fill_forward(const Tensor& a, const Tensor& mask, double value) {
  Tensor out = empty(a.shape(), a.dtype(), a.device());
  kernels::masked_fill(out, a, mask, value);
  return out;
}

// out = (cond == when) ? g : 0 over g's shape (cond broadcast to it): where's backward.
Tensor keep_where(const Tensor& g, const Tensor& cond, bool when) {
  Tensor out = empty(g.shape(), g.dtype(), g.device());
  kernels::keep_where(out, g, cond, when);
  return out;
}

}  // namespace

// out = mask ? value : a.  Backward: da = mask ? 0 : g (the filled positions do not depend on a).
Tensor masked_fill(const Tensor& a, const Tensor& mask, double value) {
  const char* op = "masked_fill";
  if (!a.defined()) op_error(op, "input is undefined");
  check_mask(op, mask, "mask");
  check_mask_device(op, mask, "mask", a);
  if (broadcast_shapes(op, a.shape(), mask.shape()) != a.shape())
    op_error(op, "mask " + shape_str(mask.shape()) + " does not broadcast to the input shape " +
                     shape_str(a.shape()));
  check_floating(op, a);
  Tensor out = masked_fill_forward(a.detach(), mask, value);
  if (needs_grad({&a})) {
    Tensor m = mask.detach();
    record(out, "masked_fill", {a}, [m](const Tensor& g) {
      return std::vector<Tensor>{masked_fill_forward(g, m, 0.0)};
    });
  }
  return out;
}

// out = cond ? a : b over the broadcast of all three.
// Backward: da = sum_to(cond ? g : 0, a.shape),  db = sum_to(cond ? 0 : g, b.shape).
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  const char* op = "where";
  check_mask(op, cond, "condition");
  if (!a.defined() || !b.defined()) op_error(op, "undefined operand");
  check_same_dtype(op, a, b);
  check_same_device(op, a, b);
  check_mask_device(op, cond, "condition", a);
  const Shape shape = broadcast_shapes(op, broadcast_shapes(op, cond.shape(), a.shape()), b.shape());
  check_floating(op, a);
  Tensor out = empty(shape, a.dtype(), a.device());
  kernels::where(out, cond, a, b);
  if (needs_grad({&a, &b})) {
    Tensor c = cond.detach();
    Shape sa = a.shape(), sb = b.shape();
    const bool ga = a.requires_grad(), gb = b.requires_grad();
    record(out, "where", {a, b}, [c, sa, sb, ga, gb](const Tensor& g) {
      return std::vector<Tensor>{ga ? sum_to(keep_where(g, c, true), sa) : Tensor(),
                                 gb ? sum_to(keep_where(g, c, false), sb) : Tensor()};
    });
  }
  return out;
}

// mask[i, j] = j > i: true where query i must not see key j (a later position).
Tensor causal_mask(int64_t T) {
  if (T < 0) op_error("causal_mask", "negative size " + std::to_string(T));
  Tensor m = empty({T, T}, DType::Bool);
  kernels::fill_causal_mask(m);
  return m;
}

}  // namespace nf
