// Python binding of the fused elementwise activations (GELU, SiLU, ReLU), written once for both
// backends; see csrc/bind/gemm.h for the Backend pattern and csrc/common/elementwise_contract.h
// for the kernels. Arrays of any shape, C-contiguous; outputs shaped like the input and may alias it.
#pragma once
#include <pybind11/pybind11.h>

#include <string>

#include "bind/array_view.h"
#include "bind/kernel_args.h"
#include "common/activation_kind.h"

namespace ember::bind {
namespace kernel_args {

// PyTorch's GELU `approximate` argument: 'none' (exact, erf) or 'tanh'.
inline ActivationKind gelu_kind(const std::string& approximate) {
  require(approximate == "none" || approximate == "tanh",
          "argument 'approximate' must be 'none' or 'tanh', got '" + approximate + "'");
  return approximate == "tanh" ? ActivationKind::gelu_tanh : ActivationKind::gelu;
}

// activation_forward(kind) on x (float32/64, C-contiguous) into out, shaped and typed like x.
template <class Backend>
void run_activation_forward(ActivationKind kind, py::handle x_obj, py::handle out_obj) {
  ArrayView x = float_input<Backend>(x_obj, "x"),
            out = output_array<Backend>(out_obj, "out", x, x.shape);
  run_float<Backend>(x, [&](auto& ctx, auto tag) {
    using T = decltype(tag);
    activation_forward(ctx, kind, x.numel(), in_ptr<T>(x), out_ptr<T>(out));
  });
}

// activation_backward(kind): grad_out and grad_x shaped and typed like `saved`, the array the
// gradient reads (the Python argument `saved_name`: "x", or "out" for ReLU).
template <class Backend>
void run_activation_backward(ActivationKind kind, py::handle grad_out_obj, py::handle saved_obj,
                             const char* saved_name, py::handle grad_x_obj) {
  ArrayView saved = float_input<Backend>(saved_obj, saved_name),
            grad_out = input_array<Backend>(grad_out_obj, "grad_out", saved, saved.shape),
            grad_x = output_array<Backend>(grad_x_obj, "grad_x", saved, saved.shape);
  run_float<Backend>(saved, [&](auto& ctx, auto tag) {
    using T = decltype(tag);
    activation_backward(ctx, kind, saved.numel(), in_ptr<T>(grad_out), in_ptr<T>(saved),
                        out_ptr<T>(grad_x));
  });
}

}  // namespace kernel_args

// Binds <name>_forward(x, out) and <name>_backward(grad_out, <saved_name>, grad_x) for an
// activation without parameters.
template <class Backend>
void bind_activation(py::module_& m, const std::string& name, ActivationKind kind,
                     const char* saved_name, const char* forward_doc, const char* backward_doc) {
  using namespace kernel_args;
  m.def(
      (name + "_forward").c_str(),
      [kind](py::handle x, py::handle out) { run_activation_forward<Backend>(kind, x, out); },
      py::arg("x"), py::arg("out"), forward_doc);
  m.def(
      (name + "_backward").c_str(),
      [kind, saved_name](py::handle grad_out, py::handle saved, py::handle grad_x) {
        run_activation_backward<Backend>(kind, grad_out, saved, saved_name, grad_x);
      },
      py::arg("grad_out"), py::arg(saved_name), py::arg("grad_x"), backward_doc);
}

template <class Backend>
void bind_elementwise(py::module_& m) {
  using namespace kernel_args;
  m.def(
      "gelu_forward",
      [](py::handle x, py::handle out, const std::string& approximate) {
        run_activation_forward<Backend>(gelu_kind(approximate), x, out);
      },
      py::arg("x"), py::arg("out"), py::arg("approximate") = "none",
      "out = gelu(x): x * Phi(x) (approximate='none') or PyTorch's tanh approximation.");
  m.def(
      "gelu_backward",
      [](py::handle grad_out, py::handle x, py::handle grad_x, const std::string& approximate) {
        run_activation_backward<Backend>(gelu_kind(approximate), grad_out, x, "x", grad_x);
      },
      py::arg("grad_out"), py::arg("x"), py::arg("grad_x"), py::arg("approximate") = "none",
      "grad_x = grad_out * gelu'(x).");
  bind_activation<Backend>(m, "silu", ActivationKind::silu, "x", "out = x * sigmoid(x).",
                           "grad_x = grad_out * silu'(x).");
  bind_activation<Backend>(m, "relu", ActivationKind::relu, "out",
                           "out = max(x, 0) (NaN stays NaN).",
                           "grad_x = grad_out where out (ReLU's result) > 0, else 0.");
}

}  // namespace ember::bind
