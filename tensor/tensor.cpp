// Tensor basics: shapes and strides, views, copies, factories and printing.
#include "tensor/tensor.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <iomanip>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "autograd/node.h"
#include "tensor/device_hooks.h"
#include "tensor/ops.h"
#include "tensor/strided.h"

namespace nf {

// ---- errors and checks ----------------------------------------------------------------------
void op_error(const char* op, const std::string& message) {
  throw std::invalid_argument(std::string(op) + ": " + message);
}
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  if (a.dtype() != b.dtype())
    op_error(op, std::string("dtype mismatch: ") + dtype_name(a.dtype()) + shape_str(a.shape()) +
                     " vs " + dtype_name(b.dtype()) + shape_str(b.shape()));
}
void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  if (a.device() != b.device())
    op_error(op, std::string("device mismatch: first operand on ") + device_name(a.device()) +
                     ", second on " + device_name(b.device()));
}
int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim) {
  const int64_t d = dim < 0 ? dim + ndim : dim;
  if (d < 0 || d >= std::max<int64_t>(ndim, 1))
    op_error(op, "dim " + std::to_string(dim) + " out of range for a " + std::to_string(ndim) +
                     "-d tensor");
  return d;
}

// ---- shapes ---------------------------------------------------------------------------------------
Shape contiguous_strides(const Shape& shape) {
  Shape s(shape.size());
  int64_t acc = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    s[d] = acc;
    acc *= shape[d];
  }
  return s;
}
int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}
std::string shape_str(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
Shape broadcast_shapes(const char* op, const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (da != db && da != 1 && db != 1)
      op_error(op, "shapes " + shape_str(a) + " and " + shape_str(b) + " cannot broadcast");
    out[i] = da == 1 ? db : da;
  }
  return out;
}
Shape broadcast_strides(const Tensor& t, const Shape& shape) {
  Shape s(shape.size(), 0);
  const size_t lead = shape.size() - t.shape().size();
  for (size_t i = 0; i < t.shape().size(); ++i)
    s[lead + i] = t.shape()[i] == 1 ? 0 : t.strides()[i];
  return s;
}

// ---- accessors -----------------------------------------------------------------------------------
int64_t Tensor::size(int64_t d) const { return shape()[normalize_dim("size", d, dim())]; }
int64_t Tensor::stride(int64_t d) const { return strides()[normalize_dim("stride", d, dim())]; }
int64_t Tensor::numel() const { return shape_numel(shape()); }
bool Tensor::is_contiguous() const {
  int64_t acc = 1;
  for (int64_t d = dim() - 1; d >= 0; --d) {
    if (shape()[d] != 1 && strides()[d] != acc) return false;
    acc *= shape()[d];
  }
  return true;
}
void* Tensor::raw_data() const {
  return static_cast<char*>(impl_->storage->data) + impl_->offset * dtype_size(dtype());
}
template <class T> T* Tensor::data() const {
  if (!defined()) throw std::invalid_argument("data: undefined tensor");
  if (dtype_of<T>::value != dtype())
    op_error("data", std::string("requested ") + dtype_name(dtype_of<T>::value) + " from a " +
                         dtype_name(dtype()) + " tensor");
  return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template double* Tensor::data<double>() const;
template int64_t* Tensor::data<int64_t>() const;
template bool* Tensor::data<bool>() const;

Tensor& Tensor::requires_grad_(bool on) {
  if (on && !is_floating(dtype()))
    op_error("requires_grad_", std::string("only floating tensors can require grad, got ") +
                                   dtype_name(dtype()));
  impl_->requires_grad = on;
  return *this;
}

void Tensor::backward(const Tensor& grad, bool retain_graph) const {
  run_backward(*this, grad, retain_graph);
}

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  return Tensor(impl);
}

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
namespace {
template <class D, class S>
void copy_kernel(const Tensor& dst, const Tensor& src) {
  D* d = static_cast<D*>(dst.raw_data());
  const S* s = static_cast<const S*>(src.raw_data());
  StridedLoop<2> loop(dst.shape(), {dst.strides(), broadcast_strides(src, dst.shape())});
  loop.run([&](std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> is) {
    D* dp = d + off[0];
    const S* sp = s + off[1];
    if (is[0] == 1 && is[1] == 1) {
      for (int64_t i = 0; i < n; ++i) dp[i] = static_cast<D>(sp[i]);
    } else {
      for (int64_t i = 0; i < n; ++i) dp[i * is[0]] = static_cast<D>(sp[i * is[1]]);
    }
  });
}

template <class D>
void copy_from(const Tensor& dst, const Tensor& src) {
  switch (src.dtype()) {
    case DType::F32: copy_kernel<D, float>(dst, src); break;
    case DType::F64: copy_kernel<D, double>(dst, src); break;
    case DType::I64: copy_kernel<D, int64_t>(dst, src); break;
    case DType::Bool: copy_kernel<D, bool>(dst, src); break;
  }
}

// Elementwise copy with conversion and broadcasting of src into dst (both on the CPU).
void strided_copy(const Tensor& dst, const Tensor& src) {
  switch (dst.dtype()) {
    case DType::F32: copy_from<float>(dst, src); break;
    case DType::F64: copy_from<double>(dst, src); break;
    case DType::I64: copy_from<int64_t>(dst, src); break;
    case DType::Bool: copy_from<bool>(dst, src); break;
  }
}
}  // namespace

Tensor& Tensor::copy_(const Tensor& src) {
  broadcast_shapes("copy_", shape(), src.shape());
  if (broadcast_shapes("copy_", shape(), src.shape()) != shape())
    op_error("copy_", "cannot copy " + shape_str(src.shape()) + " into " + shape_str(shape()));
  if (device() == Device::CPU && src.device() == Device::CPU) {
    strided_copy(*this, src);
  } else {
    if (!is_contiguous() || !src.is_contiguous() || dtype() != src.dtype() ||
        src.shape() != shape())
      op_error("copy_", "cross-device copies need equal shapes and dtypes, contiguous");
    const size_t n = numel() * dtype_size(dtype());
    if (device() == Device::CPU) device_hooks().copy_to_host(raw_data(), src.raw_data(), n);
    else if (src.device() == Device::CPU) device_hooks().copy_to_device(raw_data(), src.raw_data(), n);
    else op_error("copy_", "device-to-device copies go through the backend's own ops");
  }
  return *this;
}

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

Tensor& Tensor::fill_(double v) {
  Tensor src = full({}, v, dtype());
  return copy_(src);
}

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
// one strided loop dst[i] += alpha * src[i] (src broadcast to dst). When src shares dst's
// storage (it may overlap with another layout), src is read fully first through a copy.
Tensor& Tensor::add_(const Tensor& other, double alpha) {
  NoGradGuard guard;
  if (broadcast_shapes("add_", shape(), other.shape()) != shape())
    op_error("add_", "cannot add " + shape_str(other.shape()) + " into " + shape_str(shape()));
  check_same_dtype("add_", *this, other);
  check_same_device("add_", *this, other);
  if (device() != Device::CPU || !is_floating(dtype()) || !distinct_slots(*this)) {
    Tensor o = alpha == 1.0 ? other : mul(other, alpha);
    return copy_(add(*this, o));  // add() reads *this fully before copy_ writes it
  }
  const Tensor src = other.storage() == storage() ? other.clone() : other;
  dispatch_float(dtype(), "add_", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* pd = data<scalar_t>();
    const scalar_t* ps = src.data<scalar_t>();
    const scalar_t al = static_cast<scalar_t>(alpha);
    StridedLoop<2> loop(shape(), {strides(), broadcast_strides(src, shape())});
    loop.run([&](std::array<int64_t, 2> o, int64_t n, std::array<int64_t, 2> st) {
      scalar_t* y = pd + o[0];
      const scalar_t* x = ps + o[1];
      if (st[0] == 1 && st[1] == 1) {
        if (alpha == 1.0) {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) y[i] += x[i];
        } else {
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) y[i] += al * x[i];
        }
      } else {
        for (int64_t i = 0; i < n; ++i) y[i * st[0]] += al * x[i * st[1]];
      }
    });
  });
  return *this;
}

Tensor& Tensor::mul_(double s) {
  NoGradGuard guard;
  if (device() != Device::CPU || !is_floating(dtype()) || !distinct_slots(*this)) return copy_(mul(*this, s));
  dispatch_float(dtype(), "mul_", [&](auto zero_) { using scalar_t = decltype(zero_);
    scalar_t* pd = data<scalar_t>();
    const scalar_t sc = static_cast<scalar_t>(s);
    StridedLoop<1> loop(shape(), {strides()});
    loop.run([&](std::array<int64_t, 1> o, int64_t n, std::array<int64_t, 1> st) {
      scalar_t* y = pd + o[0];
      if (st[0] == 1) {
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) y[i] *= sc;
      } else {
        for (int64_t i = 0; i < n; ++i) y[i * st[0]] *= sc;
      }
    });
  });
  return *this;
}

// ---- reading values -------------------------------------------------------------------------------
double Tensor::item() const {
  if (numel() != 1) op_error("item", "needs one element, got shape " + shape_str(shape()));
  Tensor c = to(Device::CPU).to(DType::F64).contiguous();
  return *c.data<double>();
}

template <class T> std::vector<T> Tensor::to_vector() const {
  NoGradGuard guard;
  Tensor c = to(Device::CPU).to(dtype_of<T>::value).contiguous();
  const T* p = c.data<T>();
  return std::vector<T>(p, p + numel());
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;

// ---- factories --------------------------------------------------------------------------------------
Tensor empty(Shape shape, DType dtype, Device device) {
  for (int64_t s : shape)
    if (s < 0) op_error("empty", "negative size in " + shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(shape_numel(shape) * dtype_size(dtype), device);
  impl->strides = contiguous_strides(shape);
  impl->shape = std::move(shape);
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor full(Shape shape, double value, DType dtype, Device device) {
  Tensor t = empty(shape, dtype, Device::CPU);
  const int64_t n = t.numel();
  auto fill = [n](auto* p, auto v) {
    constexpr int64_t chunk = 1 << 16;  // large fills (gradient buffers) use every thread
    const int64_t chunks = (n + chunk - 1) / chunk;
#pragma omp parallel for schedule(static) if (chunks > 2)
    for (int64_t c = 0; c < chunks; ++c) std::fill(p + c * chunk, p + std::min(n, (c + 1) * chunk), v);
  };
  switch (dtype) {
    case DType::F32: fill(t.data<float>(), static_cast<float>(value)); break;
    case DType::F64: fill(t.data<double>(), value); break;
    case DType::I64: fill(t.data<int64_t>(), static_cast<int64_t>(value)); break;
    case DType::Bool: fill(t.data<bool>(), value != 0.0); break;
  }
  return device == Device::CPU ? t : t.to(device);
}
Tensor zeros(Shape shape, DType dtype, Device device) { return full(std::move(shape), 0.0, dtype, device); }
Tensor ones(Shape shape, DType dtype, Device device) { return full(std::move(shape), 1.0, dtype, device); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), t.dtype(), t.device()); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), t.dtype(), t.device()); }
Tensor scalar_tensor(double v, DType dtype) { return full({}, v, dtype); }

Tensor arange(int64_t n, DType dtype) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  return from_vector<double>(v, {n}).to(dtype);
}

template <class T> Tensor from_vector(const std::vector<T>& values, Shape shape) {
  if (shape_numel(shape) != static_cast<int64_t>(values.size()))
    op_error("from_vector", std::to_string(values.size()) + " values for shape " + shape_str(shape));
  Tensor t = empty(shape, dtype_of<T>::value);
  std::copy(values.begin(), values.end(), t.data<T>());
  return t;
}
template Tensor from_vector<float>(const std::vector<float>&, Shape);
template Tensor from_vector<double>(const std::vector<double>&, Shape);
template Tensor from_vector<int64_t>(const std::vector<int64_t>&, Shape);

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
