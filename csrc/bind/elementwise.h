// Python binding of the fused elementwise activations (GELU, SiLU, ReLU), written once for both
// backends; see csrc/bind/gemm.h for the Backend pattern and csrc/cpu/elementwise.h for the
// kernels. Arrays of any shape, C-contiguous; outputs shaped like the input and may alias it.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "bind/array_view.h"
#include "bind/kernel_args.h"

namespace ember::bind {
namespace kernel_args {

// PyTorch's GELU `approximate` argument: 'none' (exact, erf) or 'tanh'.
inline bool parse_gelu_approximate(const std::string& approximate) {
  require(approximate == "none" || approximate == "tanh",
          "argument 'approximate' must be 'none' or 'tanh', got '" + approximate + "'");
  return approximate == "tanh";
}

}  // namespace kernel_args

// Binds <name>_forward(x, out) and <name>_backward(grad_out, <saved>, grad_x) for an activation
// without parameters, whose backward reads the input (saved = "x") or the result ("out").
// forward(ctx, n, x, out) and backward(ctx, n, grad_out, saved, grad_x) call the kernels.
template <class Backend, class Forward, class Backward>
void bind_activation(py::module_& m, const std::string& name, const char* saved_name,
                     Forward forward, Backward backward, const char* forward_doc,
                     const char* backward_doc) {
  using namespace kernel_args;
  m.def(
      (name + "_forward").c_str(),
      [forward](py::handle x_obj, py::handle out_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x"), out = Backend::view(out_obj, "out");
        require_output(out, x, x.shape);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          forward(ctx, x.numel(), x.template ptr<const T>(), out.template ptr<T>());
        });
      },
      py::arg("x"), py::arg("out"), forward_doc);
  m.def(
      (name + "_backward").c_str(),
      [backward, saved_name](py::handle grad_out_obj, py::handle saved_obj, py::handle grad_x_obj) {
        ArrayView saved = float_input<Backend>(saved_obj, saved_name);
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  grad_x = Backend::view(grad_x_obj, "grad_x");
        require_array(grad_out, saved, saved.shape);
        require_output(grad_x, saved, saved.shape);
        auto ctx = Backend::context();
        dispatch_float(saved, [&](auto tag) {
          using T = decltype(tag);
          backward(ctx, saved.numel(), grad_out.template ptr<const T>(),
                   saved.template ptr<const T>(), grad_x.template ptr<T>());
        });
      },
      py::arg("grad_out"), py::arg(saved_name), py::arg("grad_x"), backward_doc);
}

template <class Backend>
void bind_elementwise(py::module_& m) {
  using namespace kernel_args;
  m.def(
      "gelu_forward",
      [](py::handle x_obj, py::handle out_obj, const std::string& approximate) {
        const bool tanh_form = parse_gelu_approximate(approximate);
        ArrayView x = float_input<Backend>(x_obj, "x"), out = Backend::view(out_obj, "out");
        require_output(out, x, x.shape);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          gelu_forward(ctx, x.numel(), x.template ptr<const T>(), out.template ptr<T>(), tanh_form);
        });
      },
      py::arg("x"), py::arg("out"), py::arg("approximate") = "none",
      "out = gelu(x): x * Phi(x) (approximate='none') or PyTorch's tanh approximation.");

  m.def(
      "gelu_backward",
      [](py::handle grad_out_obj, py::handle x_obj, py::handle grad_x_obj,
         const std::string& approximate) {
        const bool tanh_form = parse_gelu_approximate(approximate);
        ArrayView x = float_input<Backend>(x_obj, "x");
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  grad_x = Backend::view(grad_x_obj, "grad_x");
        require_array(grad_out, x, x.shape);
        require_output(grad_x, x, x.shape);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          gelu_backward(ctx, x.numel(), grad_out.template ptr<const T>(), x.template ptr<const T>(),
                        grad_x.template ptr<T>(), tanh_form);
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("grad_x"), py::arg("approximate") = "none",
      "grad_x = grad_out * gelu'(x).");

  bind_activation<Backend>(
      m, "silu", "x",
      [](const auto& ctx, int64_t n, const auto* x, auto* out) { silu_forward(ctx, n, x, out); },
      [](const auto& ctx, int64_t n, const auto* g, const auto* x, auto* gx) {
        silu_backward(ctx, n, g, x, gx);
      },
      "out = x * sigmoid(x).", "grad_x = grad_out * silu'(x).");
  bind_activation<Backend>(
      m, "relu", "out",
      [](const auto& ctx, int64_t n, const auto* x, auto* out) { relu_forward(ctx, n, x, out); },
      [](const auto& ctx, int64_t n, const auto* g, const auto* out, auto* gx) {
        relu_backward(ctx, n, g, out, gx);
      },
      "out = max(x, 0) (NaN stays NaN).",
      "grad_x = grad_out where out (ReLU's result) > 0, else 0.");
}

}  // namespace ember::bind
