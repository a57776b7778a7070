// Argument checks shared by the fused-kernel bindings (norm, softmax_xent, rnn_cell, attention,
// optim, elementwise), built on array_view.h. Every failed check raises a Python exception that
// names the argument. The helpers live in their own namespace because every binding header is
// included into the same module source; a binding opens it with `using namespace kernel_args;`.
#pragma once
#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "bind/array_view.h"

namespace ember::bind::kernel_args {

// A C-contiguous array with the dtype of `like` and exactly `shape`.
inline void require_array(const ArrayView& a, const ArrayView& like,
                          const std::vector<int64_t>& shape) {
  require_same_dtype(like, a);
  require_shape(a, shape);
  require_contiguous(a);
}

// The same, for an array the kernel writes.
inline void require_output(const ArrayView& a, const ArrayView& like,
                           const std::vector<int64_t>& shape) {
  require_array(a, like, shape);
  require_writable(a);
}

// An argument that may be None. ptr<T>() is nullptr when it is, which is how kernels are told.
struct OptionalArray {
  ArrayView view;
  bool present = false;

  template <class T>
  T* ptr() const {
    return present ? view.template ptr<T>() : nullptr;
  }
};

// None, or an array satisfying require_array (require_output when `writable`).
template <class Backend>
OptionalArray optional_array(py::handle obj, const char* name, const ArrayView& like,
                             const std::vector<int64_t>& shape, bool writable = false) {
  OptionalArray a;
  a.view.name = name;
  if (obj.is_none()) return a;
  a.view = Backend::view(obj, name);
  a.present = true;
  if (writable)
    require_output(a.view, like, shape);
  else
    require_array(a.view, like, shape);
  return a;
}

// A required array argument viewed and checked by require_array / require_output.
template <class Backend>
ArrayView input_array(py::handle obj, const char* name, const ArrayView& like,
                      const std::vector<int64_t>& shape) {
  ArrayView a = Backend::view(obj, name);
  require_array(a, like, shape);
  return a;
}
template <class Backend>
ArrayView output_array(py::handle obj, const char* name, const ArrayView& like,
                       const std::vector<int64_t>& shape) {
  ArrayView a = input_array<Backend>(obj, name, like, shape);
  require_writable(a);
  return a;
}

// None, or an array the kernel writes (a gradient that may not be needed).
template <class Backend>
OptionalArray optional_output(py::handle obj, const char* name, const ArrayView& like,
                              const std::vector<int64_t>& shape) {
  return optional_array<Backend>(obj, name, like, shape, /*writable=*/true);
}

// Typed data pointers for the kernel call: in_ptr<T>(a) reads, out_ptr<T>(a) writes; nullptr
// for None.
template <class T>
const T* in_ptr(const ArrayView& a) {
  return a.ptr<const T>();
}
template <class T>
T* out_ptr(const ArrayView& a) {
  return a.ptr<T>();
}
template <class T>
const T* in_ptr(const OptionalArray& a) {
  return a.template ptr<const T>();
}
template <class T>
T* out_ptr(const OptionalArray& a) {
  return a.template ptr<T>();
}

// Calls fn(ctx, tag) with the backend's context and tag a float or double by the dtype of `like`
// (TypeError for other dtypes); the kernel call inside reads `using T = decltype(tag);`.
template <class Backend, class Fn>
void run_float(const ArrayView& like, Fn&& fn) {
  auto ctx = Backend::context();
  dispatch_float(like, [&](auto tag) { fn(ctx, tag); });
}

// The main float input of a kernel: float32/float64 and C-contiguous.
template <class Backend>
ArrayView float_input(py::handle obj, const char* name) {
  ArrayView a = Backend::view(obj, name);
  require_float(a);
  require_contiguous(a);
  return a;
}

// Product of shape[begin:end].
inline int64_t shape_product(const std::vector<int64_t>& shape, size_t begin, size_t end) {
  int64_t p = 1;
  for (size_t i = begin; i < end; ++i) p *= shape[i];
  return p;
}

// An array of shape (N, C, *spatial) viewed as (N, C, S), S = product of the spatial sizes.
struct ChannelShape {
  int64_t N, C, S;
};
inline ChannelShape channel_shape(const ArrayView& x) {
  require_ndim_between(x, 2, 64);
  return {x.shape[0], x.shape[1], shape_product(x.shape, 2, x.shape.size())};
}

// A scalar hyper-parameter that must be finite and >= lo.
inline void require_finite_at_least(double value, double lo, const char* name) {
  if (std::isfinite(value) && value >= lo) return;
  std::ostringstream msg;
  msg << "argument '" << name << "' must be a finite number >= " << lo << ", got " << value;
  throw py::value_error(msg.str());
}

}  // namespace ember::bind::kernel_args
