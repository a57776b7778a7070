// Python binding of the recurrent-cell family (LSTM and GRU steps), written once for both backends;
// see csrc/bind/gemm.h for the Backend pattern and csrc/common/rnn_cell_contract.h for the kernels.
// All arrays are C-contiguous with batch B first; gate blocks in PyTorch order (LSTM i, f, g, o;
// GRU r, z, n).
#pragma once
#include <pybind11/pybind11.h>

#include <cstddef>
#include <string>
#include <tuple>
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

// One array argument of a cell kernel: its Python name and its width in gate blocks, i.e. shape
// (B, blocks*H). The role is the type: the main array (read; fixes dtype, B and H), an input,
// an input that may be None (zero), or an output.
enum class CellRole { main, input, optional_input, output };
template <CellRole kRole>
struct CellArg {
  static constexpr CellRole role = kRole;
  const char* name;
  int64_t blocks;
};
using CellMain = CellArg<CellRole::main>;
using CellIn = CellArg<CellRole::input>;
using CellOptIn = CellArg<CellRole::optional_input>;
using CellOut = CellArg<CellRole::output>;

// An array the kernel writes, so that cell_ptr hands it over as T*.
struct CellWritten {
  ArrayView view;
};

template <class Backend, CellRole kRole>
auto cell_array(const CellArg<kRole>& arg, py::handle obj, const ArrayView& main, int64_t B,
                int64_t H) {
  if constexpr (kRole == CellRole::main)
    return main;
  else if constexpr (kRole == CellRole::input)
    return input_array<Backend>(obj, arg.name, main, {B, arg.blocks * H});
  else if constexpr (kRole == CellRole::optional_input)
    return optional_array<Backend>(obj, arg.name, main, {B, arg.blocks * H});
  else
    return CellWritten{output_array<Backend>(obj, arg.name, main, {B, arg.blocks * H})};
}

template <class T>
const T* cell_ptr(const ArrayView& a) {
  return in_ptr<T>(a);
}
template <class T>
const T* cell_ptr(const OptionalArray& a) {
  return in_ptr<T>(a);
}
template <class T>
T* cell_ptr(const CellWritten& a) {
  return out_ptr<T>(a.view);
}

template <class... Args>
constexpr size_t cell_main_index() {
  constexpr bool is_main[] = {(Args::role == CellRole::main)...};
  for (size_t i = 0; i < sizeof...(Args); ++i)
    if (is_main[i]) return i;
  return sizeof...(Args);
}

template <class Arg>
using CellHandle = py::handle;

// Which cell kernel a binding calls; call_rnn_cell reaches the backend's overload by
// argument-dependent lookup on the context.
enum class RnnCellKernel { lstm_forward, lstm_backward, gru_forward, gru_backward };

template <RnnCellKernel kKernel, class Context, class... Pointers>
void call_rnn_cell(const Context& ctx, int64_t B, int64_t H, Pointers... p) {
  if constexpr (kKernel == RnnCellKernel::lstm_forward) lstm_cell_forward(ctx, B, H, p...);
  if constexpr (kKernel == RnnCellKernel::lstm_backward) lstm_cell_backward(ctx, B, H, p...);
  if constexpr (kKernel == RnnCellKernel::gru_forward) gru_cell_forward(ctx, B, H, p...);
  if constexpr (kKernel == RnnCellKernel::gru_backward) gru_cell_backward(ctx, B, H, p...);
}

// Registers the cell kernel kKernel under `name`, taking the Python arguments `args` (arrays
// only, in order) and calling it as (ctx, B, H, pointers...) with one pointer per argument:
// const T* for what it reads (nullptr for None), T* for what it writes.
template <class Backend, RnnCellKernel kKernel, class... Args, size_t... I>
void def_rnn_cell(py::module_& m, const char* name, const char* doc, std::index_sequence<I...>,
                  Args... args) {
  constexpr size_t kMain = cell_main_index<Args...>();
  static_assert(kMain < sizeof...(Args), "a cell kernel needs one CellMain argument");
  m.def(
      name,
      [args...](CellHandle<Args>... objs) {
        const py::handle handles[] = {objs...};
        const auto& main_arg = std::get<kMain>(std::tie(args...));
        const ArrayView main = float_input<Backend>(handles[kMain], main_arg.name);
        const auto [B, H] = gate_shape(main, main_arg.blocks);
        const auto arrays = std::tuple{cell_array<Backend>(args, handles[I], main, B, H)...};
        run_float<Backend>(main, [&, B = B, H = H](auto& ctx, auto tag) {
          using T = decltype(tag);
          call_rnn_cell<kKernel>(ctx, B, H, cell_ptr<T>(std::get<I>(arrays))...);
        });
      },
      py::arg(args.name)..., doc);
}
template <class Backend, RnnCellKernel kKernel, class... Args>
void def_rnn_cell(py::module_& m, const char* name, const char* doc, Args... args) {
  def_rnn_cell<Backend, kKernel>(m, name, doc, std::index_sequence_for<Args...>{}, args...);
}

}  // namespace kernel_args

template <class Backend>
void bind_rnn_cell(py::module_& m) {
  using namespace kernel_args;
  def_rnn_cell<Backend, RnnCellKernel::lstm_forward>(
      m, "lstm_cell_forward",
      "LSTM step from pre-activation gates (B, 4H) and c_prev (B, H): writes h_out, c_out (B, H) "
      "and act (B, 4H) = activated [i, f, g, o] for the backward.",
      CellMain{"gates", 4}, CellIn{"c_prev", 1}, CellOut{"h_out", 1}, CellOut{"c_out", 1},
      CellOut{"act", 4});
  def_rnn_cell<Backend, RnnCellKernel::lstm_backward>(
      m, "lstm_cell_backward",
      "LSTM step backward: grad_h, grad_c (B, H) or None (zero). Writes grad_gates (B, 4H), the "
      "gradient of the pre-activation gates, and grad_c_prev (B, H).",
      CellOptIn{"grad_h", 1}, CellOptIn{"grad_c", 1}, CellMain{"act", 4}, CellIn{"c_prev", 1},
      CellIn{"c_out", 1}, CellOut{"grad_gates", 4}, CellOut{"grad_c_prev", 1});
  def_rnn_cell<Backend, RnnCellKernel::gru_forward>(
      m, "gru_cell_forward",
      "GRU step from gi = x W_ih^T + b_ih and gh = h W_hh^T + b_hh (B, 3H), h_prev (B, H): writes "
      "h_out (B, H) and saved (B, 4H) = [r, z, n, gh_n] for the backward.",
      CellMain{"gi", 3}, CellIn{"gh", 3}, CellIn{"h_prev", 1}, CellOut{"h_out", 1},
      CellOut{"saved", 4});
  def_rnn_cell<Backend, RnnCellKernel::gru_backward>(
      m, "gru_cell_backward",
      "GRU step backward: writes grad_gi, grad_gh (B, 3H) and grad_h_prev (B, H) = grad_h * z (the "
      "direct path; the caller adds grad_gh @ W_hh).",
      CellIn{"grad_h", 1}, CellMain{"saved", 4}, CellIn{"h_prev", 1}, CellOut{"grad_gi", 3},
      CellOut{"grad_gh", 3}, CellOut{"grad_h_prev", 1});
}

}  // namespace ember::bind
