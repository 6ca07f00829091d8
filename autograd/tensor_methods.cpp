// The Tensor methods that take part in autograd, beside the graph they record into: views
// (view, reshape, permute, transpose, narrow, select, expand, unsqueeze, squeeze), the
// differentiable copies (contiguous, clone, to), backward(), and the in-place arithmetic that
// optimizers and the engine use (add_, mul_; never recorded, they run under no_grad). Each view
// is a new shape and strides over the same storage and records the op that undoes it.
// tensor/tensor.h declares them with the rest of Tensor, as torch::Tensor declares methods that
// its autograd layer implements; tensor/ itself never calls them.
#include <algorithm>
#include <functional>
#include <iomanip>
#include <numeric>
#include <sstream>

#include "autograd/node.h"
#include "autograd/ops.h"
#include "tensor/kernels/elementwise.h"
#include "tensor/strided.h"
#include "tensor/tensor.h"

namespace nf {

// ---- views ------------------------------------------------------------------------------------------
namespace {
Tensor make_view(const Tensor& base, Shape shape, Shape strides, int64_t offset) {
  Tensor v = base.detach();
  v.impl()->shape = std::move(shape);
  v.impl()->strides = std::move(strides);
  v.impl()->offset = offset;
  return v;
}

Shape infer_shape(const char* op, Shape shape, int64_t numel, const Shape& from) {
  int64_t known = 1, infer = -1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) op_error(op, "only one dimension can be -1 in " + shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else if (shape[i] < 0) {
      op_error(op, "negative size in " + shape_str(shape));
    } else {
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || numel % known != 0)
      op_error(op, "cannot infer -1 in " + shape_str(shape) + " from " + shape_str(from));
    shape[infer] = numel / known;
  }
  if (shape_numel(shape) != numel)
    op_error(op, "shape " + shape_str(shape) + " is invalid for input of shape " + shape_str(from));
  return shape;
}

// Strides for viewing `t` as `shape` without copying, if its memory layout allows it
// (the same rule as PyTorch's view): empty result when impossible.
bool view_strides(const Tensor& t, const Shape& shape, Shape& out) {
  if (t.is_contiguous()) {
    out = contiguous_strides(shape);
    return true;
  }
  // Walk old dims from the back in chunks that are contiguous among themselves; each chunk
  // must be covered exactly by a run of new dims (PyTorch's rule for view()).
  const Shape& os = t.shape();
  const Shape& ost = t.strides();
  out.assign(shape.size(), 0);
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(os.size()) - 1; d >= 0; --d) {
    tensor_numel *= os[d];
    if (d == 0 || (os[d - 1] != 1 && ost[d - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        out[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = ost[d - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}
}  // namespace

Tensor Tensor::view(Shape shape) const {
  shape = infer_shape("view", std::move(shape), numel(), this->shape());
  Shape st;
  if (!view_strides(*this, shape, st))
    op_error("view", "cannot view a non-contiguous tensor of shape " + shape_str(this->shape()) +
                         " strides " + shape_str(strides()) + " as " + shape_str(shape) +
                         " (use reshape)");
  Tensor out = make_view(*this, shape, st, offset());
  if (needs_grad({this})) {
    Shape in_shape = this->shape();
    record(out, "view", {*this}, [in_shape](const Tensor& g) {
      return std::vector<Tensor>{g.reshape(in_shape)};
    });
  }
  return out;
}

Tensor Tensor::reshape(Shape shape) const {
  shape = infer_shape("reshape", std::move(shape), numel(), this->shape());
  Shape st;
  if (view_strides(*this, shape, st)) return view(shape);
  return contiguous().view(shape);
}

Tensor Tensor::permute(Shape dims) const {
  if (static_cast<int64_t>(dims.size()) != dim())
    op_error("permute", "got " + std::to_string(dims.size()) + " dims for a tensor of shape " +
                            shape_str(shape()));
  Shape ns(dims.size()), nst(dims.size()), inverse(dims.size(), -1);
  for (size_t i = 0; i < dims.size(); ++i) {
    const int64_t d = normalize_dim("permute", dims[i], dim());
    if (inverse[d] != -1) op_error("permute", "repeated dim in " + shape_str(dims));
    inverse[d] = static_cast<int64_t>(i);
    ns[i] = shape()[d];
    nst[i] = strides()[d];
  }
  Tensor out = make_view(*this, ns, nst, offset());
  if (needs_grad({this}))
    record(out, "permute", {*this}, [inverse](const Tensor& g) {
      return std::vector<Tensor>{g.permute(inverse)};
    });
  return out;
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = normalize_dim("transpose", d0, dim());
  d1 = normalize_dim("transpose", d1, dim());
  Shape dims(dim());
  std::iota(dims.begin(), dims.end(), 0);
  std::swap(dims[d0], dims[d1]);
  return permute(dims);
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  d = normalize_dim("narrow", d, dim());
  if (start < 0) start += shape()[d];
  if (start < 0 || length < 0 || start + length > shape()[d])
    op_error("narrow", "range [" + std::to_string(start) + ", " + std::to_string(start + length) +
                           ") out of bounds for dim " + std::to_string(d) + " of shape " +
                           shape_str(shape()));
  Shape ns = shape();
  ns[d] = length;
  Tensor out = make_view(*this, ns, strides(), offset() + start * strides()[d]);
  if (needs_grad({this})) {
    Shape in_shape = shape();
    record(out, "narrow", {*this}, [in_shape, d, start, length](const Tensor& g) {
      Tensor full = zeros(in_shape, g.dtype(), g.device());
      full.narrow(d, start, length).copy_(g);
      return std::vector<Tensor>{full};
    });
    // The engine's shortcut (autograd/node.h): the parts of a split add straight into one buffer.
    out.grad_fn()->backward_into = [d, start, length](Tensor& input_grad, const Tensor& g) {
      input_grad.narrow(d, start, length).add_(g);
    };
  }
  return out;
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = normalize_dim("select", d, dim());
  if (index < 0) index += shape()[d];
  if (index < 0 || index >= shape()[d])
    op_error("select", "index " + std::to_string(index) + " out of range for dim " +
                           std::to_string(d) + " of shape " + shape_str(shape()));
  return narrow(d, index, 1).squeeze(d);
}

Tensor Tensor::expand(Shape shape) const {
  if (shape.size() < this->shape().size())
    op_error("expand", "cannot expand " + shape_str(this->shape()) + " to fewer dims " +
                           shape_str(shape));
  const size_t lead = shape.size() - dim();
  Shape st(shape.size(), 0);
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      if (shape[i] < 0) op_error("expand", "-1 not allowed for a new leading dim");
      continue;
    }
    const int64_t have = this->shape()[i - lead];
    if (shape[i] == -1) shape[i] = have;
    if (have == shape[i]) st[i] = strides()[i - lead];
    else if (have != 1)
      op_error("expand", "cannot expand " + shape_str(this->shape()) + " to " + shape_str(shape));
  }
  Tensor out = make_view(*this, shape, st, offset());
  if (needs_grad({this})) {
    Shape in_shape = this->shape();
    record(out, "expand", {*this}, [in_shape](const Tensor& g) {
      return std::vector<Tensor>{sum_to(g, in_shape)};
    });
  }
  return out;
}

Tensor Tensor::unsqueeze(int64_t d) const {
  d = d < 0 ? d + dim() + 1 : d;
  if (d < 0 || d > dim()) op_error("unsqueeze", "dim out of range for shape " + shape_str(shape()));
  Shape ns = shape();
  ns.insert(ns.begin() + d, 1);
  return view(ns);
}

Tensor Tensor::squeeze(int64_t d) const {
  d = normalize_dim("squeeze", d, dim());
  if (shape()[d] != 1) return *this;
  Shape ns = shape();
  ns.erase(ns.begin() + d);
  Shape nst = strides();
  nst.erase(nst.begin() + d);
  Tensor out = make_view(*this, ns, nst, offset());
  if (needs_grad({this})) {
    Shape in_shape = shape();
    record(out, "squeeze", {*this}, [in_shape](const Tensor& g) {
      return std::vector<Tensor>{g.reshape(in_shape)};
    });
  }
  return out;
}

// ---- copies ----------------------------------------------------------------------------------------
Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = empty(shape(), dtype(), device());
  out.copy_(*this);
  if (needs_grad({this}))
    record(out, "clone", {*this}, [](const Tensor& g) { return std::vector<Tensor>{g}; });
  return out;
}

Tensor Tensor::to(DType t) const {
  if (t == dtype()) return *this;
  Tensor out = empty(shape(), t, device());
  out.copy_(*this);
  if (is_floating(t) && needs_grad({this})) {
    DType from = dtype();
    record(out, "to_dtype", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  }
  return out;
}

Tensor Tensor::to(Device d) const {
  if (d == device()) return *this;
  Tensor src = contiguous();
  Tensor out = empty(shape(), dtype(), d);
  out.copy_(src);
  if (needs_grad({this})) {
    Device from = device();
    record(out, "to_device", {*this}, [from](const Tensor& g) { return std::vector<Tensor>{g.to(from)}; });
  }
  return out;
}

// ---- in place, never recorded ----------------------------------------------------------------------
namespace {
// True when every element of t has its own memory slot (no stride-0 dims of size > 1): writes
// through t from several threads never collide.
bool distinct_slots(const Tensor& t) {
  for (int64_t d = 0; d < t.dim(); ++d)
    if (t.shape()[d] > 1 && t.strides()[d] == 0) return false;
  return true;
}
}  // namespace

// In place, without temporaries (optimizers and gradient accumulation call these every step):
// dst += alpha * src (src broadcast to dst) and dst *= s, as kernels on dst's device
// (tensor/kernels/elementwise.h). When src shares dst's storage (it may overlap with another
// layout), src is read fully first through a copy. A dst whose elements share memory slots (an
// expanded view) is written out of place: add() reads all of dst before copy_ writes it.
Tensor& Tensor::add_(const Tensor& other, double alpha) {
  NoGradGuard guard;
  if (broadcast_shapes("add_", shape(), other.shape()) != shape())
    op_error("add_", "cannot add " + shape_str(other.shape()) + " into " + shape_str(shape()));
  check_same_dtype("add_", *this, other);
  check_same_device("add_", *this, other);
  if (!is_floating(dtype()) || !distinct_slots(*this)) {
    Tensor o = alpha == 1.0 ? other : mul(other, alpha);
    return copy_(add(*this, o));
  }
  const Tensor src = other.storage() == storage() ? other.clone() : other;
  kernels::add_(*this, src, alpha);
  return *this;
}

Tensor& Tensor::mul_(double s) {
  NoGradGuard guard;
  if (!is_floating(dtype()) || !distinct_slots(*this)) return copy_(mul(*this, s));
  kernels::scale_(*this, s);
  return *this;
}

// ---- backward and printing ---------------------------------------------------------------------------
void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward(*this, grad, retain_graph);
}

// ---- printing --------------------------------------------------------------------------------------
std::string Tensor::to_string(int max_per_dim) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  std::vector<double> v = to_vector<double>();
  const Shape& sh = shape();
  std::function<void(size_t, int64_t, int)> rec = [&](size_t d, int64_t base, int indent) {
    if (d == sh.size()) {
      os << std::setprecision(5) << v[base];
      return;
    }
    const int64_t n = sh[d];
    int64_t inner = 1;
    for (size_t k = d + 1; k < sh.size(); ++k) inner *= sh[k];
    os << "[";
    for (int64_t i = 0; i < n; ++i) {
      if (n > max_per_dim && i == max_per_dim / 2) {
        os << "...";
        i = n - max_per_dim / 2 - 1;
        if (i + 1 < n) os << (d + 1 == sh.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
        continue;
      }
      rec(d + 1, base + i * inner, indent + 1);
      if (i + 1 < n) os << (d + 1 == sh.size() ? ", " : ",\n" + std::string(indent + 1, ' '));
    }
    os << "]";
  };
  os << "tensor(";
  rec(0, 0, 7);
  os << ", shape=" << shape_str(sh) << ", dtype=" << dtype_name(dtype());
  if (device() != Device::CPU) os << ", device=" << device_name(device());
  if (requires_grad()) os << (grad_fn() ? ", grad_fn=" + grad_fn()->name : ", requires_grad");
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.to_string(); }

}  // namespace nf
