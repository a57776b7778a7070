// Python binding of the recurrent-cell family (LSTM and GRU steps), written once for both
// backends; see csrc/bind/gemm.h for the Backend pattern and csrc/cpu/rnn_cell.h for the kernels.
// All arrays are C-contiguous with batch B first; gate blocks in PyTorch order (LSTM i, f, g, o;
// GRU r, z, n).
#pragma once
#include <pybind11/pybind11.h>

#include <string>
#include <utility>

#include "bind/array_view.h"
#include "bind/kernel_args.h"

namespace ember::bind {
namespace kernel_args {

// (B, k*H) gate array -> B, H.
inline std::pair<int64_t, int64_t> gate_shape(const ArrayView& gates, int64_t k) {
  require_ndim(gates, 2);
  require(gates.shape[1] % k == 0, "argument '" + gates.name + "' must have shape (B, " +
                                       std::to_string(k) + "*H), got " + shape_str(gates.shape));
  return {gates.shape[0], gates.shape[1] / k};
}

}  // namespace kernel_args

template <class Backend>
void bind_rnn_cell(py::module_& m) {
  using namespace kernel_args;
  m.def(
      "lstm_cell_forward",
      [](py::handle gates_obj, py::handle c_prev_obj, py::handle h_out_obj, py::handle c_out_obj,
         py::handle act_obj) {
        ArrayView gates = float_input<Backend>(gates_obj, "gates");
        const auto [B, H] = gate_shape(gates, 4);
        ArrayView c_prev = Backend::view(c_prev_obj, "c_prev"),
                  h_out = Backend::view(h_out_obj, "h_out"),
                  c_out = Backend::view(c_out_obj, "c_out"), act = Backend::view(act_obj, "act");
        require_array(c_prev, gates, {B, H});
        require_output(h_out, gates, {B, H});
        require_output(c_out, gates, {B, H});
        require_output(act, gates, {B, 4 * H});
        auto ctx = Backend::context();
        dispatch_float(gates, [&](auto tag) {
          using T = decltype(tag);
          lstm_cell_forward(ctx, B, H, gates.template ptr<const T>(),
                            c_prev.template ptr<const T>(), h_out.template ptr<T>(),
                            c_out.template ptr<T>(), act.template ptr<T>());
        });
      },
      py::arg("gates"), py::arg("c_prev"), py::arg("h_out"), py::arg("c_out"), py::arg("act"),
      "LSTM step from pre-activation gates (B, 4H) and c_prev (B, H): writes h_out, c_out (B, H) "
      "and act (B, 4H) = activated [i, f, g, o] for the backward.");

  m.def(
      "lstm_cell_backward",
      [](py::handle grad_h_obj, py::handle grad_c_obj, py::handle act_obj, py::handle c_prev_obj,
         py::handle c_out_obj, py::handle grad_gates_obj, py::handle grad_c_prev_obj) {
        ArrayView act = float_input<Backend>(act_obj, "act");
        const auto [B, H] = gate_shape(act, 4);
        auto grad_h = optional_array<Backend>(grad_h_obj, "grad_h", act, {B, H});
        auto grad_c = optional_array<Backend>(grad_c_obj, "grad_c", act, {B, H});
        ArrayView c_prev = Backend::view(c_prev_obj, "c_prev"),
                  c_out = Backend::view(c_out_obj, "c_out"),
                  grad_gates = Backend::view(grad_gates_obj, "grad_gates"),
                  grad_c_prev = Backend::view(grad_c_prev_obj, "grad_c_prev");
        require_array(c_prev, act, {B, H});
        require_array(c_out, act, {B, H});
        require_output(grad_gates, act, {B, 4 * H});
        require_output(grad_c_prev, act, {B, H});
        auto ctx = Backend::context();
        dispatch_float(act, [&](auto tag) {
          using T = decltype(tag);
          lstm_cell_backward(ctx, B, H, grad_h.template ptr<const T>(),
                             grad_c.template ptr<const T>(), act.template ptr<const T>(),
                             c_prev.template ptr<const T>(), c_out.template ptr<const T>(),
                             grad_gates.template ptr<T>(), grad_c_prev.template ptr<T>());
        });
      },
      py::arg("grad_h"), py::arg("grad_c"), py::arg("act"), py::arg("c_prev"), py::arg("c_out"),
      py::arg("grad_gates"), py::arg("grad_c_prev"),
      "LSTM step backward: grad_h, grad_c (B, H) or None (zero). Writes grad_gates (B, 4H), the "
      "gradient of the pre-activation gates, and grad_c_prev (B, H).");

  m.def(
      "gru_cell_forward",
      [](py::handle gi_obj, py::handle gh_obj, py::handle h_prev_obj, py::handle h_out_obj,
         py::handle saved_obj) {
        ArrayView gi = float_input<Backend>(gi_obj, "gi");
        const auto [B, H] = gate_shape(gi, 3);
        ArrayView gh = Backend::view(gh_obj, "gh"), h_prev = Backend::view(h_prev_obj, "h_prev"),
                  h_out = Backend::view(h_out_obj, "h_out"),
                  saved = Backend::view(saved_obj, "saved");
        require_array(gh, gi, {B, 3 * H});
        require_array(h_prev, gi, {B, H});
        require_output(h_out, gi, {B, H});
        require_output(saved, gi, {B, 4 * H});
        auto ctx = Backend::context();
        dispatch_float(gi, [&](auto tag) {
          using T = decltype(tag);
          gru_cell_forward(ctx, B, H, gi.template ptr<const T>(), gh.template ptr<const T>(),
                           h_prev.template ptr<const T>(), h_out.template ptr<T>(),
                           saved.template ptr<T>());
        });
      },
      py::arg("gi"), py::arg("gh"), py::arg("h_prev"), py::arg("h_out"), py::arg("saved"),
      "GRU step from gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh (B, 3H), h_prev (B, H): writes "
      "h_out (B, H) and saved (B, 4H) = [r, z, n, gh_n] for the backward.");

  m.def(
      "gru_cell_backward",
      [](py::handle grad_h_obj, py::handle saved_obj, py::handle h_prev_obj, py::handle grad_gi_obj,
         py::handle grad_gh_obj, py::handle grad_h_prev_obj) {
        ArrayView saved = float_input<Backend>(saved_obj, "saved");
        const auto [B, H] = gate_shape(saved, 4);
        ArrayView grad_h = Backend::view(grad_h_obj, "grad_h"),
                  h_prev = Backend::view(h_prev_obj, "h_prev"),
                  grad_gi = Backend::view(grad_gi_obj, "grad_gi"),
                  grad_gh = Backend::view(grad_gh_obj, "grad_gh"),
                  grad_h_prev = Backend::view(grad_h_prev_obj, "grad_h_prev");
        require_array(grad_h, saved, {B, H});
        require_array(h_prev, saved, {B, H});
        require_output(grad_gi, saved, {B, 3 * H});
        require_output(grad_gh, saved, {B, 3 * H});
        require_output(grad_h_prev, saved, {B, H});
        auto ctx = Backend::context();
        dispatch_float(saved, [&](auto tag) {
          using T = decltype(tag);
          gru_cell_backward(ctx, B, H, grad_h.template ptr<const T>(),
                            saved.template ptr<const T>(), h_prev.template ptr<const T>(),
                            grad_gi.template ptr<T>(), grad_gh.template ptr<T>(),
                            grad_h_prev.template ptr<T>());
        });
      },
      py::arg("grad_h"), py::arg("saved"), py::arg("h_prev"), py::arg("grad_gi"),
      py::arg("grad_gh"), py::arg("grad_h_prev"),
      "GRU step backward: writes grad_gi, grad_gh (B, 3H) and grad_h_prev (B, H) = grad_h * z (the "
      "direct path; the caller adds grad_gh @ W_hh).");
}

}  // namespace ember::bind
