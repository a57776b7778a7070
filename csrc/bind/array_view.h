// One description of an array argument, whether it came from NumPy (CPU module) or from any
// object exposing __cuda_array_interface__ such as a CuPy array (CUDA module), and the argument
// checks every binding runs on it. Kernels never trust Python: each check raises a Python
// exception that names the offending argument.
#pragma once
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ember::bind {
namespace py = pybind11;

enum class DType { f16, f32, f64, i32, i64, u8, b8, other };

const char* dtype_name(DType d);
DType dtype_from_typestr(const std::string& typestr);  // NumPy array-interface typestr, e.g. "<f4"

struct ArrayView {
  std::string name;                // the Python argument's name, for error messages
  void* data = nullptr;
  DType dtype = DType::other;
  int64_t itemsize = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;    // in elements
  bool readonly = false;

  int64_t ndim() const { return static_cast<int64_t>(shape.size()); }
  int64_t numel() const;
  int64_t size(int64_t dim) const;  // negative dims count from the end
  bool contiguous() const;          // C order (size-1 dimensions may have any stride)

  template <class T>
  T* ptr() const { return static_cast<T*>(data); }
};

// NumPy argument (CPU module): raises TypeError for anything that is not a numpy.ndarray.
ArrayView numpy_view(py::handle obj, const char* name);
// Device argument (CUDA module): reads __cuda_array_interface__; TypeError otherwise.
ArrayView cuda_view(py::handle obj, const char* name);

// ---- checks (each raises ValueError/TypeError naming the argument) ----------------------------
void require_contiguous(const ArrayView& a);
void require_writable(const ArrayView& a);
void require_ndim(const ArrayView& a, int64_t ndim);
void require_ndim_between(const ArrayView& a, int64_t lo, int64_t hi);
void require_shape(const ArrayView& a, const std::vector<int64_t>& shape);
void require_dtype(const ArrayView& a, DType dtype);
void require_float(const ArrayView& a);                       // float32 or float64
void require_same_dtype(const ArrayView& a, const ArrayView& b);
void require(bool condition, const std::string& message);     // ValueError(message) if false
std::string shape_str(const std::vector<int64_t>& shape);

// Calls fn(float{}) or fn(double{}) by the array's dtype; TypeError for other dtypes.
template <class Fn>
void dispatch_float(const ArrayView& a, Fn&& fn) {
  switch (a.dtype) {
    case DType::f32: fn(float{}); return;
    case DType::f64: fn(double{}); return;
    default:
      throw py::type_error("argument '" + a.name + "' must be float32 or float64, got " +
                           dtype_name(a.dtype));
  }
}

// An optional array argument (None allowed). Returns nullptr-data view when None.
template <class ViewFn>
ArrayView optional_view(ViewFn&& view, py::handle obj, const char* name) {
  if (obj.is_none()) {
    ArrayView empty;
    empty.name = name;
    return empty;
  }
  return view(obj, name);
}

}  // namespace ember::bind
