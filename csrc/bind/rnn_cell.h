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
        ArrayView c_prev = input_array<Backend>(c_prev_obj, "c_prev", gates, {B, H}),
                  h_out = output_array<Backend>(h_out_obj, "h_out", gates, {B, H}),
                  c_out = output_array<Backend>(c_out_obj, "c_out", gates, {B, H}),
                  act = output_array<Backend>(act_obj, "act", gates, {B, 4 * H});
        run_float<Backend>(gates, [&, B = B, H = H](auto& ctx, auto tag) {
          using T = decltype(tag);
          lstm_cell_forward(ctx, B, H, in_ptr<T>(gates), in_ptr<T>(c_prev), out_ptr<T>(h_out),
                            out_ptr<T>(c_out), out_ptr<T>(act));
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
        ArrayView c_prev = input_array<Backend>(c_prev_obj, "c_prev", act, {B, H}),
                  c_out = input_array<Backend>(c_out_obj, "c_out", act, {B, H}),
                  grad_gates = output_array<Backend>(grad_gates_obj, "grad_gates", act, {B, 4 * H}),
                  grad_c_prev = output_array<Backend>(grad_c_prev_obj, "grad_c_prev", act, {B, H});
        run_float<Backend>(act, [&, B = B, H = H](auto& ctx, auto tag) {
          using T = decltype(tag);
          lstm_cell_backward(ctx, B, H, in_ptr<T>(grad_h), in_ptr<T>(grad_c), in_ptr<T>(act),
                             in_ptr<T>(c_prev), in_ptr<T>(c_out), out_ptr<T>(grad_gates),
                             out_ptr<T>(grad_c_prev));
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
        ArrayView gh = input_array<Backend>(gh_obj, "gh", gi, {B, 3 * H}),
                  h_prev = input_array<Backend>(h_prev_obj, "h_prev", gi, {B, H}),
                  h_out = output_array<Backend>(h_out_obj, "h_out", gi, {B, H}),
                  saved = output_array<Backend>(saved_obj, "saved", gi, {B, 4 * H});
        run_float<Backend>(gi, [&, B = B, H = H](auto& ctx, auto tag) {
          using T = decltype(tag);
          gru_cell_forward(ctx, B, H, in_ptr<T>(gi), in_ptr<T>(gh), in_ptr<T>(h_prev),
                           out_ptr<T>(h_out), out_ptr<T>(saved));
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
        ArrayView grad_h = input_array<Backend>(grad_h_obj, "grad_h", saved, {B, H}),
                  h_prev = input_array<Backend>(h_prev_obj, "h_prev", saved, {B, H}),
                  grad_gi = output_array<Backend>(grad_gi_obj, "grad_gi", saved, {B, 3 * H}),
                  grad_gh = output_array<Backend>(grad_gh_obj, "grad_gh", saved, {B, 3 * H}),
                  grad_h_prev =
                      output_array<Backend>(grad_h_prev_obj, "grad_h_prev", saved, {B, H});
        run_float<Backend>(saved, [&, B = B, H = H](auto& ctx, auto tag) {
          using T = decltype(tag);
          gru_cell_backward(ctx, B, H, in_ptr<T>(grad_h), in_ptr<T>(saved), in_ptr<T>(h_prev),
                            out_ptr<T>(grad_gi), out_ptr<T>(grad_gh), out_ptr<T>(grad_h_prev));
        });
      },
      py::arg("grad_h"), py::arg("saved"), py::arg("h_prev"), py::arg("grad_gi"),
      py::arg("grad_gh"), py::arg("grad_h_prev"),
      "GRU step backward: writes grad_gi, grad_gh (B, 3H) and grad_h_prev (B, H) = grad_h * z (the "
      "direct path; the caller adds grad_gh @ W_hh).");
}

}  // namespace ember::bind
