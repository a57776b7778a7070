// Python binding of the GEMM family, written once for both backends: Backend::view turns a
// Python array into an ArrayView and Backend::context() gives the kernel context whose type
// selects the CPU or CUDA overload of gemm() by argument-dependent lookup.
#pragma once
#include <pybind11/pybind11.h>

#include <algorithm>
#include <string>
#include <utility>

#include "bind/array_view.h"
#include "common/epilogue.h"

namespace ember::bind {

inline Activation parse_activation(const std::string& name) {
  if (name == "none") return Activation::none;
  if (name == "relu") return Activation::relu;
  if (name == "gelu") return Activation::gelu;
  throw py::value_error("argument 'activation' must be 'none', 'relu' or 'gelu', got '" + name + "'");
}

// Matrices (2-D) or stacks of matrices (3-D) whose rows are contiguous (last stride 1); the
// row stride becomes the leading dimension, so sliced views need no copy. Empty arrays may
// carry any strides (NumPy gives them zeros); the kernel reads nothing from them.
inline void require_matrix_layout(const ArrayView& a) {
  require_ndim_between(a, 2, 3);
  require(a.strides.back() == 1 || a.shape.back() <= 1 || a.numel() == 0,
          "argument '" + a.name + "' must have unit stride in its last dimension");
  // rows must not overlap or run backwards: the row stride becomes the leading dimension
  const int64_t rows = a.shape[a.ndim() - 2], row_stride = a.strides[a.ndim() - 2];
  require(rows <= 1 || a.numel() == 0 || row_stride >= a.shape.back(),
          "argument '" + a.name + "' has row stride " + std::to_string(row_stride) +
              " (expanded or flipped rows); pass a contiguous copy");
}

inline int64_t leading_dim(const ArrayView& a) {
  return std::max<int64_t>(a.strides[a.ndim() - 2], std::max<int64_t>(a.shape.back(), 1));
}

inline int64_t batch_stride(const ArrayView& a) {
  return (a.ndim() == 3 && a.shape[0] > 1) ? a.strides[0] : 0;
}

// The output is written while the inputs are still being read, so it must not share memory
// with them. Compares the address ranges the arrays span (empty arrays span nothing).
inline void require_no_overlap(const ArrayView& out, const ArrayView& in) {
  if (!out.data || !in.data || out.numel() == 0 || in.numel() == 0) return;
  const auto span = [](const ArrayView& x) {
    const char* base = static_cast<const char*>(x.data);
    int64_t lo = 0, hi = 0;  // element offsets of the first and last element reached
    for (int64_t d = 0; d < x.ndim(); ++d)
      (x.strides[d] < 0 ? lo : hi) += (x.shape[d] - 1) * x.strides[d];
    return std::make_pair(base + lo * x.itemsize, base + (hi + 1) * x.itemsize);
  };
  const auto [out_lo, out_hi] = span(out);
  const auto [in_lo, in_hi] = span(in);
  require(out_hi <= in_lo || in_hi <= out_lo,
          "argument '" + out.name + "' must not share memory with '" + in.name + "'");
}

// Checks the arguments of a GEMM entry point, then calls
// kernel(ctx, trans_a, trans_b, batch, M, N, K, alpha, A, lda, stride_a, B, ldb, stride_b, beta, C,
// ldc, stride_c, epilogue) with pointers of the arrays' element type. Shared by `gemm` and the
// CUDA module's `gemm_tf32`, so both accept exactly the same arguments.
template <class Backend, class Kernel>
void checked_gemm(Kernel&& kernel, py::handle a_obj, py::handle b_obj, py::handle c_obj, bool trans_a,
                  bool trans_b, double alpha, double beta, py::handle bias_obj, bool bias_per_row,
                  const std::string& activation) {
  ArrayView a = Backend::view(a_obj, "a"), b = Backend::view(b_obj, "b"),
            c = Backend::view(c_obj, "c");
  ArrayView bias = optional_view(Backend::view, bias_obj, "bias");
  require_matrix_layout(a);
  require_matrix_layout(b);
  require_matrix_layout(c);
  require_writable(c);
  require_no_overlap(c, a);
  require_no_overlap(c, b);
  require_float(a);
  require_same_dtype(a, b);
  require_same_dtype(a, c);
  const int64_t M = trans_a ? a.size(-1) : a.size(-2);
  const int64_t K = trans_a ? a.size(-2) : a.size(-1);
  const int64_t K_b = trans_b ? b.size(-1) : b.size(-2);
  const int64_t N = trans_b ? b.size(-2) : b.size(-1);
  require(K == K_b, "gemm: inner dimensions differ: op(a) is " + std::to_string(M) + "x" +
                        std::to_string(K) + ", op(b) is " + std::to_string(K_b) + "x" +
                        std::to_string(N));
  require(c.size(-2) == M && c.size(-1) == N,
          "argument 'c' must be " + std::to_string(M) + "x" + std::to_string(N) + ", got shape " +
              shape_str(c.shape));
  const int64_t batch = c.ndim() == 3 ? c.shape[0] : 1;
  for (const ArrayView* x : {&a, &b})
    require(x->ndim() == 2 || x->shape[0] == batch || x->shape[0] == 1,
            "argument '" + x->name + "' has batch " + std::to_string(x->shape[0]) +
                " but 'c' has batch " + std::to_string(batch));
  require(c.ndim() == 3 || (a.ndim() == 2 && b.ndim() == 2),
          "argument 'c' must be 3-D when 'a' or 'b' is batched");
  require(batch_stride(c) != 0 || batch <= 1, "argument 'c' must not broadcast over the batch");
  if (bias.data) {
    require_same_dtype(a, bias);
    require_ndim(bias, 1);
    require_contiguous(bias);
    require(bias.shape[0] == (bias_per_row ? M : N),
            "argument 'bias' must have length " + std::to_string(bias_per_row ? M : N));
  }
  const Activation act = parse_activation(activation);
  auto ctx = Backend::context();
  dispatch_float(a, [&](auto tag) {
    using T = decltype(tag);
    Epilogue<T> ep{bias.template ptr<const T>(), bias_per_row, act};
    kernel(ctx, trans_a, trans_b, batch, M, N, K, static_cast<T>(alpha), a.template ptr<const T>(),
           leading_dim(a), batch_stride(a), b.template ptr<const T>(), leading_dim(b),
           batch_stride(b), static_cast<T>(beta), c.template ptr<T>(), leading_dim(c),
           batch_stride(c), ep);
  });
}

// Registers a GEMM entry point under `name` with the argument names and defaults of `gemm`.
template <class Fn>
void def_gemm(py::module_& m, const char* name, Fn&& fn, const char* doc) {
  m.def(name, std::forward<Fn>(fn),
      py::arg("a"), py::arg("b"), py::arg("c"), py::arg("trans_a") = false,
      py::arg("trans_b") = false, py::arg("alpha") = 1.0, py::arg("beta") = 0.0,
      py::arg("bias") = py::none(), py::arg("bias_per_row") = false,
      py::arg("activation") = "none", doc);
}

template <class Backend>
void bind_gemm(py::module_& m) {
  def_gemm(
      m, "gemm",
      [](py::handle a, py::handle b, py::handle c, bool trans_a, bool trans_b, double alpha, double beta,
         py::handle bias, bool bias_per_row, const std::string& activation) {
        checked_gemm<Backend>([](const auto& ctx, auto... args) { gemm(ctx, args...); }, a, b, c, trans_a,
                              trans_b, alpha, beta, bias, bias_per_row, activation);
      },
      "c = alpha * op(a) @ op(b) + beta * c (+ bias, activation); 2-D or batched 3-D, rows contiguous.");
}

}  // namespace ember::bind
