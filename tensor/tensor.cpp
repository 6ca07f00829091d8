// Tensor basics: shapes and strides, element access, copies between layouts, dtypes and
// devices, and factories. The methods that record into the autograd graph (views, clone, to,
// backward) and in-place arithmetic are defined in autograd/tensor_methods.cpp.
#include "tensor/tensor.h"

#include <cmath>
#include <cstring>
#include <functional>
#include <iomanip>
#include <numeric>
#include <sstream>
#include <stdexcept>

#include "tensor/device_hooks.h"
#include "tensor/kernels/copy.h"
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
  // Checked: a product that wraps (a size of 2^62 times a few) would make a tiny allocation that
  // every later loop then overruns.
  int64_t n = 1;
  for (int64_t s : shape) {
    if (s < 0) op_error("shape", "negative size in " + shape_str(shape));
    if (__builtin_mul_overflow(n, s, &n))
      op_error("shape", shape_str(shape) + " has more elements than a 64-bit count can hold");
  }
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
void* Tensor::device_data() const {
  if (!defined()) throw std::invalid_argument("device_data: undefined tensor");
  return static_cast<char*>(impl_->storage->data) + impl_->offset * dtype_size(dtype());
}
void* Tensor::raw_data() const {
  if (defined() && device() != Device::CPU)
    op_error("data", std::string("the tensor lives on ") + device_name(device()) +
                         "; host code cannot read its memory (move it with .to(Device::CPU))");
  return device_data();
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

Tensor Tensor::detach() const {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = impl_->storage;
  impl->shape = impl_->shape;
  impl->strides = impl_->strides;
  impl->offset = impl_->offset;
  impl->dtype = impl_->dtype;
  return Tensor(impl);
}

// ---- copies ----------------------------------------------------------------------------------------
Tensor& Tensor::copy_(const Tensor& src) {
  broadcast_shapes("copy_", shape(), src.shape());
  if (broadcast_shapes("copy_", shape(), src.shape()) != shape())
    op_error("copy_", "cannot copy " + shape_str(src.shape()) + " into " + shape_str(shape()));
  if (device() == src.device()) {
    kernels::copy(*this, src);
  } else {
    if (!is_contiguous() || !src.is_contiguous() || dtype() != src.dtype() ||
        src.shape() != shape())
      op_error("copy_", "cross-device copies need equal shapes and dtypes, contiguous");
    const size_t n = numel() * dtype_size(dtype());
    if (device() == Device::CPU) device_hooks().copy_to_host(raw_data(), src.device_data(), n);
    else device_hooks().copy_to_device(device_data(), src.raw_data(), n);
  }
  return *this;
}

Tensor& Tensor::fill_(double v) {
  kernels::fill(*this, v);
  return *this;
}

Tensor converted(const Tensor& t, DType dtype, Device device) {
  Tensor src = t;
  if (src.device() != device) {  // copy_ moves contiguous bytes of one dtype between devices
    Tensor moved = empty(src.shape(), src.dtype(), device);
    moved.copy_(src);
    src = moved;
  }
  if (src.dtype() == dtype && src.is_contiguous()) return src;
  Tensor out = empty(src.shape(), dtype, src.device());
  out.copy_(src);
  return out;
}

// ---- reading values -------------------------------------------------------------------------------
double Tensor::item() const {
  if (numel() != 1) op_error("item", "needs one element, got shape " + shape_str(shape()));
  Tensor c = converted(*this, DType::F64, Device::CPU);
  return *c.data<double>();
}

template <class T> std::vector<T> Tensor::to_vector() const {
  Tensor c = converted(*this, dtype_of<T>::value, Device::CPU);
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
  int64_t nbytes = 0;
  if (__builtin_mul_overflow(shape_numel(shape), static_cast<int64_t>(dtype_size(dtype)), &nbytes))
    op_error("empty", shape_str(shape) + " of " + dtype_name(dtype) + " needs more bytes than a 64-bit size can hold");
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = Storage::allocate(static_cast<size_t>(nbytes), device);
  impl->strides = contiguous_strides(shape);
  impl->shape = std::move(shape);
  impl->dtype = dtype;
  return Tensor(impl);
}

Tensor full(Shape shape, double value, DType dtype, Device device) {
  Tensor t = empty(std::move(shape), dtype, device);
  kernels::fill(t, value);
  return t;
}
Tensor zeros(Shape shape, DType dtype, Device device) { return full(std::move(shape), 0.0, dtype, device); }
Tensor ones(Shape shape, DType dtype, Device device) { return full(std::move(shape), 1.0, dtype, device); }
Tensor scalar_tensor(double v, DType dtype) { return full({}, v, dtype); }

Tensor arange(int64_t n, DType dtype) {
  std::vector<double> v(n);
  std::iota(v.begin(), v.end(), 0.0);
  return converted(from_vector<double>(v, {n}), dtype, Device::CPU);
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

}  // namespace nf
