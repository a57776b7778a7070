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

  m.def(
      "silu_forward",
      [](py::handle x_obj, py::handle out_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x"), out = Backend::view(out_obj, "out");
        require_output(out, x, x.shape);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          silu_forward(ctx, x.numel(), x.template ptr<const T>(), out.template ptr<T>());
        });
      },
      py::arg("x"), py::arg("out"), "out = x * sigmoid(x).");

  m.def(
      "silu_backward",
      [](py::handle grad_out_obj, py::handle x_obj, py::handle grad_x_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x");
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  grad_x = Backend::view(grad_x_obj, "grad_x");
        require_array(grad_out, x, x.shape);
        require_output(grad_x, x, x.shape);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          silu_backward(ctx, x.numel(), grad_out.template ptr<const T>(), x.template ptr<const T>(),
                        grad_x.template ptr<T>());
        });
      },
      py::arg("grad_out"), py::arg("x"), py::arg("grad_x"), "grad_x = grad_out * silu'(x).");

  m.def(
      "relu_forward",
      [](py::handle x_obj, py::handle out_obj) {
        ArrayView x = float_input<Backend>(x_obj, "x"), out = Backend::view(out_obj, "out");
        require_output(out, x, x.shape);
        auto ctx = Backend::context();
        dispatch_float(x, [&](auto tag) {
          using T = decltype(tag);
          relu_forward(ctx, x.numel(), x.template ptr<const T>(), out.template ptr<T>());
        });
      },
      py::arg("x"), py::arg("out"), "out = max(x, 0) (NaN stays NaN).");

  m.def(
      "relu_backward",
      [](py::handle grad_out_obj, py::handle out_obj, py::handle grad_x_obj) {
        ArrayView out = float_input<Backend>(out_obj, "out");
        ArrayView grad_out = Backend::view(grad_out_obj, "grad_out"),
                  grad_x = Backend::view(grad_x_obj, "grad_x");
        require_array(grad_out, out, out.shape);
        require_output(grad_x, out, out.shape);
        auto ctx = Backend::context();
        dispatch_float(out, [&](auto tag) {
          using T = decltype(tag);
          relu_backward(ctx, out.numel(), grad_out.template ptr<const T>(),
                        out.template ptr<const T>(), grad_x.template ptr<T>());
        });
      },
      py::arg("grad_out"), py::arg("out"), py::arg("grad_x"),
      "grad_x = grad_out where out (ReLU's result) > 0, else 0.");
}

}  // namespace ember::bind
