#include "bind/array_view.h"

#include <pybind11/numpy.h>

#include <sstream>

namespace ember::bind {

const char* dtype_name(DType d) {
  switch (d) {
    case DType::f16: return "float16";
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
    case DType::u8: return "uint8";
    case DType::b8: return "bool";
    default: return "an unsupported dtype";
  }
}

DType dtype_from_typestr(const std::string& t) {
  if (t.size() < 3) return DType::other;
  const char kind = t[1];
  const std::string bytes = t.substr(2);
  if (kind == 'f' && bytes == "2") return DType::f16;
  if (kind == 'f' && bytes == "4") return DType::f32;
  if (kind == 'f' && bytes == "8") return DType::f64;
  if (kind == 'i' && bytes == "4") return DType::i32;
  if (kind == 'i' && bytes == "8") return DType::i64;
  if (kind == 'u' && bytes == "1") return DType::u8;
  if (kind == 'b' && bytes == "1") return DType::b8;
  return DType::other;
}

int64_t ArrayView::numel() const {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

int64_t ArrayView::size(int64_t dim) const {
  const int64_t d = dim < 0 ? dim + ndim() : dim;
  if (d < 0 || d >= ndim()) throw py::index_error("argument '" + name + "': dimension out of range");
  return shape[d];
}

bool ArrayView::contiguous() const {
  int64_t expected = 1;
  for (int64_t d = ndim() - 1; d >= 0; --d) {
    if (shape[d] != 1 && strides[d] != expected) return numel() == 0;
    expected *= shape[d];
  }
  return true;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < shape.size(); ++i) s << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) s << ",";
  s << ")";
  return s.str();
}

static std::string type_name(py::handle obj) {
  return py::str(py::type::handle_of(obj).attr("__module__")).cast<std::string>() + "." +
         py::str(py::type::handle_of(obj).attr("__name__")).cast<std::string>();
}

ArrayView numpy_view(py::handle obj, const char* name) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string("argument '") + name + "' must be a numpy.ndarray (CPU memory), got " +
                         type_name(obj));
  auto arr = py::reinterpret_borrow<py::array>(obj);
  ArrayView v;
  v.name = name;
  v.data = const_cast<void*>(arr.data());
  v.itemsize = arr.itemsize();
  std::string typestr = py::str(arr.dtype().attr("str")).cast<std::string>();
  v.dtype = dtype_from_typestr(typestr);
  v.readonly = !arr.writeable();
  for (py::ssize_t d = 0; d < arr.ndim(); ++d) {
    v.shape.push_back(arr.shape(d));
    v.strides.push_back(arr.strides(d) / (arr.itemsize() ? arr.itemsize() : 1));
  }
  return v;
}

ArrayView cuda_view(py::handle obj, const char* name) {
  if (!py::hasattr(obj, "__cuda_array_interface__"))
    throw py::type_error(std::string("argument '") + name +
                         "' must be a CUDA array such as cupy.ndarray (device memory), got " + type_name(obj));
  py::dict cai = obj.attr("__cuda_array_interface__");
  ArrayView v;
  v.name = name;
  auto data = cai["data"].cast<py::tuple>();
  v.data = reinterpret_cast<void*>(data[0].cast<uintptr_t>());
  v.readonly = data[1].cast<bool>();
  v.dtype = dtype_from_typestr(cai["typestr"].cast<std::string>());
  v.itemsize = std::stoll(cai["typestr"].cast<std::string>().substr(2));
  for (auto s : cai["shape"].cast<py::tuple>()) v.shape.push_back(s.cast<int64_t>());
  if (cai.contains("strides") && !cai["strides"].is_none()) {
    for (auto s : cai["strides"].cast<py::tuple>()) v.strides.push_back(s.cast<int64_t>() / v.itemsize);
  } else {
    v.strides.assign(v.shape.size(), 1);
    for (int64_t d = static_cast<int64_t>(v.shape.size()) - 2; d >= 0; --d)
      v.strides[d] = v.strides[d + 1] * v.shape[d + 1];
  }
  return v;
}

void require(bool condition, const std::string& message) {
  if (!condition) throw py::value_error(message);
}

void require_contiguous(const ArrayView& a) {
  require(a.contiguous(), "argument '" + a.name + "' must be C-contiguous");
}

void require_writable(const ArrayView& a) {
  require(!a.readonly, "argument '" + a.name + "' is read-only but the kernel writes it");
}

void require_ndim(const ArrayView& a, int64_t ndim) {
  require(a.ndim() == ndim, "argument '" + a.name + "' must have " + std::to_string(ndim) +
                                " dimensions, got shape " + shape_str(a.shape));
}

void require_ndim_between(const ArrayView& a, int64_t lo, int64_t hi) {
  require(a.ndim() >= lo && a.ndim() <= hi,
          "argument '" + a.name + "' must have " + std::to_string(lo) + " to " + std::to_string(hi) +
              " dimensions, got shape " + shape_str(a.shape));
}

void require_shape(const ArrayView& a, const std::vector<int64_t>& shape) {
  require(a.shape == shape, "argument '" + a.name + "' must have shape " + shape_str(shape) + ", got " +
                                shape_str(a.shape));
}

void require_dtype(const ArrayView& a, DType dtype) {
  if (a.dtype != dtype)
    throw py::type_error("argument '" + a.name + "' must be " + dtype_name(dtype) + ", got " +
                         dtype_name(a.dtype));
}

void require_float(const ArrayView& a) {
  if (a.dtype != DType::f32 && a.dtype != DType::f64)
    throw py::type_error("argument '" + a.name + "' must be float32 or float64, got " + dtype_name(a.dtype));
}

void require_same_dtype(const ArrayView& a, const ArrayView& b) {
  if (a.dtype != b.dtype)
    throw py::type_error("argument '" + b.name + "' must have the same dtype as '" + a.name + "' (" +
                         dtype_name(a.dtype) + "), got " + dtype_name(b.dtype));
}

}  // namespace ember::bind
