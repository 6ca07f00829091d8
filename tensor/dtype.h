#pragma once
// Element types and devices a Tensor can have, plus the dispatch macro that turns a runtime
// dtype into a C++ type for the kernels.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace nf {

enum class DType : uint8_t { F32, F64, I64, Bool };
enum class Device : uint8_t { CPU, CUDA };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I64: return 8;
    case DType::Bool: return 1;
  }
  return 0;
}
inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::I64: return "int64";
    case DType::Bool: return "bool";
  }
  return "?";
}
inline const char* device_name(Device d) { return d == Device::CPU ? "cpu" : "cuda"; }
inline bool is_floating(DType t) { return t == DType::F32 || t == DType::F64; }

template <class T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::F32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::F64; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::I64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

}  // namespace nf

namespace nf {
// Runs `f` with a zero of the C++ type matching a floating dtype, so kernels are written once:
//   dispatch_float(x.dtype(), "exp", [&](auto zero) { using scalar_t = decltype(zero); ... });
// (A lambda rather than a macro, so `#pragma omp` may appear inside the body.)
template <class F>
void dispatch_float(DType dt, const char* op, F&& f) {
  switch (dt) {
    case DType::F32: f(float{}); break;
    case DType::F64: f(double{}); break;
    default:
      throw std::invalid_argument(std::string(op) + ": expected a floating tensor, got " + dtype_name(dt));
  }
}
}  // namespace nf
