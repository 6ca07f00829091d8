#pragma once
// Tensor: a view (shape, strides, offset, dtype) onto a shared Storage, plus the autograd
// fields. Copying a Tensor copies a handle, like torch::Tensor: both handles see the same data.
//
//   storage  [ . . . . . . . . . . . . ]      one block of memory
//   view      offset=2, shape=(2,3), strides=(4,1)  -> elements 2,3,4 and 6,7,8
//
// See docs/tensor.md for strides, views and broadcasting; docs/autograd.md for grad_fn.
//
// The tensor holds only what the graph hangs on (requires_grad, grad, a grad_fn pointer to an
// autograd Node it never looks inside). The methods marked [autograd] record into that graph and
// are defined in autograd/tensor_methods.cpp; code in tensor/ never calls them.
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tensor/dtype.h"
#include "tensor/storage.h"

namespace nf {

using Shape = std::vector<int64_t>;
struct Node;  // autograd/node.h
class Tensor;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements, not bytes
  int64_t offset = 0;
  DType dtype = DType::F32;
  // autograd: a leaf the user marked, or the output of a recorded op
  bool requires_grad = false;
  std::shared_ptr<TensorImpl> grad;  // accumulated gradient of a leaf (same shape)
  std::shared_ptr<Node> grad_fn;     // the op that produced this tensor (null for leaves)
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  const Shape& shape() const { return impl_->shape; }
  const Shape& strides() const { return impl_->strides; }
  int64_t offset() const { return impl_->offset; }
  int64_t dim() const { return static_cast<int64_t>(impl_->shape.size()); }
  int64_t size(int64_t d) const;  // negative d counts from the end
  int64_t stride(int64_t d) const;
  int64_t numel() const;
  DType dtype() const { return impl_->dtype; }
  Device device() const { return impl_->storage->device; }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return impl_->storage; }
  TensorImpl* impl() const { return impl_.get(); }
  // Handles sharing this tensor's TensorImpl (the engine accumulates in place only when 1).
  long use_count() const { return impl_.use_count(); }
  bool same(const Tensor& o) const { return impl_ == o.impl_; }

  // Host pointer to the first element of the view, for CPU code: T must match the dtype and
  // the tensor must live on the CPU (both checked; a GPU tensor's memory is read with
  // to(Device::CPU), or by a kernel through tensor/kernels/).
  template <class T> T* data() const;
  void* raw_data() const;  // the same, untyped
  // The first element's address in the memory of the tensor's own device (a device pointer for
  // a CUDA tensor). Only a kernel of that device may dereference it (tensor/kernels/route.h).
  void* device_data() const;

  // ---- autograd --------------------------------------------------------------------------
  bool requires_grad() const { return impl_->requires_grad; }
  Tensor& requires_grad_(bool on = true);
  Tensor grad() const { return Tensor(impl_->grad); }
  void set_grad(const Tensor& g) { impl_->grad = g.impl_; }
  void zero_grad() { impl_->grad.reset(); }
  const std::shared_ptr<Node>& grad_fn() const { return impl_->grad_fn; }
  bool is_leaf() const { return impl_->grad_fn == nullptr; }
  // [autograd] Back-propagates from this tensor: a scalar, or any shape with `grad` given (same shape).
  void backward(const Tensor& grad = Tensor(), bool retain_graph = false) const;
  // Same data, no history, requires_grad off: stops gradients (and breaks closure cycles).
  Tensor detach() const;

  // ---- [autograd] views: no copy; differentiable ---------------------------------------------
  Tensor view(Shape shape) const;     // needs compatible strides (throws otherwise); -1 infers
  Tensor reshape(Shape shape) const;  // view when possible, else a contiguous copy
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const { return transpose(0, 1); }
  Tensor permute(Shape dims) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;  // narrow + drop the dim
  Tensor expand(Shape shape) const;                  // broadcast with stride 0, -1 keeps a size
  Tensor unsqueeze(int64_t dim) const;
  Tensor squeeze(int64_t dim) const;
  Tensor flatten() const { return reshape({-1}); }

  // ---- [autograd] copies --------------------------------------------------------------------
  Tensor contiguous() const;  // this tensor if already contiguous
  Tensor clone() const;       // always a fresh contiguous copy (differentiable)
  Tensor to(DType t) const;   // dtype conversion (differentiable between float types)
  Tensor to(Device d) const;

  // ---- reading values ----------------------------------------------------------------------
  double item() const;  // a one-element tensor's value
  template <class T> std::vector<T> to_vector() const;  // elements in row-major order
  std::string to_string(int max_per_dim = 6) const;  // [autograd]: names the grad_fn

  // ---- in-place, never recorded (optimizers, gradient accumulation, initialisation) -----
  Tensor& copy_(const Tensor& src);  // shapes must match (src broadcast allowed)
  Tensor& fill_(double v);
  Tensor& add_(const Tensor& other, double alpha = 1.0);  // [autograd]
  Tensor& mul_(double s);                                  // [autograd]

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// ---- factories -----------------------------------------------------------------------------
Shape contiguous_strides(const Shape& shape);
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);

Tensor empty(Shape shape, DType dtype = DType::F32, Device device = Device::CPU);
Tensor zeros(Shape shape, DType dtype = DType::F32, Device device = Device::CPU);
Tensor ones(Shape shape, DType dtype = DType::F32, Device device = Device::CPU);
Tensor full(Shape shape, double value, DType dtype = DType::F32, Device device = Device::CPU);
Tensor arange(int64_t n, DType dtype = DType::I64);
Tensor scalar_tensor(double v, DType dtype = DType::F32);
template <class T> Tensor from_vector(const std::vector<T>& values, Shape shape);
// A contiguous copy of t with the given dtype on the given device (t itself when it already is
// one). Never recorded: the tensor layer's own conversion, under the differentiable to().
Tensor converted(const Tensor& t, DType dtype, Device device);

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// Raises std::invalid_argument("<op>: <message>") — every op names itself in its errors.
[[noreturn]] void op_error(const char* op, const std::string& message);
// Helpers that ops use to validate inputs with messages naming the op and the shapes.
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
int64_t normalize_dim(const char* op, int64_t dim, int64_t ndim);

}  // namespace nf
