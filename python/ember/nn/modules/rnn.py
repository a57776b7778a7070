"""Recurrent layers: ``RNN``, ``LSTM``, ``GRU`` (multi-layer, bidirectional, packed sequences) and
the single-step ``RNNCell``, ``LSTMCell``, ``GRUCell``.

Parameter names, shapes, gate order (LSTM i, f, g, o; GRU r, z, n) and initialisation
(U(-1/sqrt(hidden), 1/sqrt(hidden)) for everything) are PyTorch's. Each time step runs the fused
cell op from ``ember.ops.rnn_cell``; the loop over time, layers and directions is here.

Sequences are handled in one form internally: a time-major "packed" matrix of rows (sum of the
batch sizes per step, features) plus the list of batch sizes per step. A padded (T, N, *) input
is the special case of T steps of N rows each, so plain and packed inputs share one code path.
Per layer and direction, the input projection of all rows is one GEMM; only the recurrent
product h W_hh^T and the cell run per step.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ... import backend, ops
from ...ops import rnn_cell
from ...ops._nnutil import cast_back, float_inputs
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .linear import _optional_params
from .module import Module, _options_repr

_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}


def _reset_uniform(self) -> None:
    """The recurrent layers' and cells' ``reset_parameters``: every parameter
    ``U(-1/sqrt(hidden_size), 1/sqrt(hidden_size))``."""
    stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
    for weight in self.parameters():
        init.uniform_(weight, -stdv, stdv)


def _step(mode: str, gi, h, c, w_hh, b_hh):
    """One cell step from the step's input projection ``gi`` (B, k H) with state ``h`` (B, H)
    (and ``c`` for LSTM) -> (h, c or None)."""
    if mode == "LSTM":
        return rnn_cell.lstm_step(gi, h, c, w_hh, b_hh)
    if mode == "GRU":
        return rnn_cell.gru_step(gi, h, w_hh, b_hh), None
    return rnn_cell.elman_step(gi, h, w_hh, b_hh, mode == "RNN_RELU"), None


class RNNBase(Module):
    """Shared machinery of RNN, LSTM and GRU (``mode`` 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU')."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__()
        if mode not in _GATES:
            raise ValueError(f"Unrecognized RNN mode: {mode}")
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an "
                             "element being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and "
                          f"num_layers={num_layers}", stacklevel=2)
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool):
            raise TypeError(f"hidden_size should be of type int, got: {type(hidden_size).__name__}")
        if hidden_size <= 0:
            raise ValueError("hidden_size must be greater than zero")
        if num_layers <= 0:
            raise ValueError("num_layers must be greater than zero")
        if proj_size < 0:
            raise ValueError("proj_size should be a positive integer or zero to disable projections")
        if proj_size >= hidden_size:
            raise ValueError("proj_size has to be smaller than hidden_size")
        if proj_size and mode != "LSTM":
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        self.mode = mode
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        self.proj_size = proj_size
        directions = 2 if bidirectional else 1
        gate_size = _GATES[mode] * hidden_size
        real_hidden = proj_size if proj_size > 0 else hidden_size
        self._flat_weights_names: list[str] = []
        self._all_weights: list[list[str]] = []
        for layer in range(num_layers):
            for direction in range(directions):
                layer_input = input_size if layer == 0 else real_hidden * directions
                sfx = f"_l{layer}" + ("_reverse" if direction == 1 else "")
                shapes = {"weight_ih" + sfx: (gate_size, layer_input), "weight_hh" + sfx: (gate_size, real_hidden)}
                if bias:
                    shapes.update({"bias_ih" + sfx: (gate_size,), "bias_hh" + sfx: (gate_size,)})
                if proj_size > 0:
                    shapes["weight_hr" + sfx] = (proj_size, hidden_size)
                for name, shape in shapes.items():
                    setattr(self, name, Parameter(ops.empty(*shape, device=device, dtype=dtype)))
                self._flat_weights_names.extend(shapes)
                self._all_weights.append(list(shapes))
        self.reset_parameters()

    reset_parameters = _reset_uniform

    def flatten_parameters(self) -> None:
        """cuDNN's weight compaction in PyTorch; Ember's cells read the parameters directly."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list[list[Parameter]]:
        """Per layer and direction: [weight_ih, weight_hh, bias_ih, bias_hh(, weight_hr)]."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        return _options_repr(self, f"{self.input_size}, {self.hidden_size}",
                             {"proj_size": 0, "num_layers": 1, "bias": True, "batch_first": False,
                              "dropout": 0, "bidirectional": False})

    # ---- forward ---------------------------------------------------------------------------------
    def _state_sizes(self) -> tuple[int, int]:
        """(hidden state size, cell state size)."""
        return (self.proj_size if self.proj_size > 0 else self.hidden_size), self.hidden_size

    def _check_state(self, state: Tensor, batched: bool, expected: tuple, msg: str) -> Tensor:
        state = state if batched else state.unsqueeze(1)
        if tuple(state.shape) != expected:
            raise RuntimeError(msg.format(expected, list(state.shape)))
        return state

    def _initial_states(self, hx, batched: bool, batch: int, ref: Tensor, sorted_indices):
        """(h0, c0) as (L*D, B, *) tensors in the sorted batch order (c0 None except for LSTM)."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        h_size, c_size = self._state_sizes()
        lstm = self.mode == "LSTM"
        if hx is None:
            h0 = ops.zeros(layers, batch, h_size, dtype=ref.dtype, device=ref.device)
            c0 = ops.zeros(layers, batch, c_size, dtype=ref.dtype, device=ref.device) if lstm else None
            return h0, c0
        want = 3 if batched else 2
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if lstm:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise RuntimeError("LSTM expects hx to be a tuple (h_0, c_0)")
            if hx[0].ndim != want or hx[1].ndim != want:
                raise RuntimeError(f"For {kind} input, hx and cx should also be {want}-D but got "
                                   f"({hx[0].ndim}-D, {hx[1].ndim}-D) tensors")
            h0 = self._check_state(hx[0], batched, (layers, batch, h_size), "Expected hidden[0] size {}, got {}")
            c0 = self._check_state(hx[1], batched, (layers, batch, c_size), "Expected hidden[1] size {}, got {}")
        else:
            if hx.ndim != want:
                raise RuntimeError(f"For {kind} input, hx should also be {want}-D but got {hx.ndim}-D tensor")
            h0 = self._check_state(hx, batched, (layers, batch, h_size), "Expected hidden size {}, got {}")
            c0 = None
        if sorted_indices is not None:
            h0 = h0.index_select(1, sorted_indices)
            c0 = c0.index_select(1, sorted_indices) if c0 is not None else None
        return h0, c0

    def _run_direction(self, data: Tensor, batch_sizes: list, h, c, weights: list, reverse: bool):
        """Run one layer in one direction over the packed rows; returns (rows out, h_T, c_T)."""
        w_ih, w_hh, b_ih, b_hh = weights[:4] if self.bias else weights[:2] + [None, None]
        w_hr = weights[-1] if self.proj_size > 0 else None
        if b_hh is not None and self.mode != "GRU":
            # LSTM and Elman cells only add the two biases: b_hh joins the input GEMM's epilogue
            # (and its gradient is one sum over all rows instead of one per step). GRU keeps it
            # per step: it multiplies W_hn h + b_hn by the reset gate.
            b_ih, b_hh = b_ih + b_hh, None
        projected = F.linear(data, w_ih, b_ih)  # every step's input projection in one GEMM
        if self.mode == "LSTM" and w_hr is None and min(batch_sizes) == max(batch_sizes):
            # all sequences as long: the whole layer as one op (see rnn_cell._LSTMLayer)
            steps, batch = len(batch_sizes), batch_sizes[0]
            hs, c = rnn_cell.lstm_layer(projected.reshape(steps, batch, projected.shape[1]), h, c, w_hh,
                                        reverse)
            return hs.reshape(steps * batch, hs.shape[2]), hs[0 if reverse else steps - 1], c
        # cut into the steps' rows by one op (whose backward joins the steps' gradients into one array)
        gates = ops.split(projected, batch_sizes)
        full = h.shape[0]
        outs = [None] * len(batch_sizes)
        for t in (reversed(range(len(batch_sizes))) if reverse else range(len(batch_sizes))):
            n = batch_sizes[t]
            # sequences shorter than the longest drop out of the batch (they are sorted by length);
            # their rows of h/c keep their final (forward) or initial (reverse) values
            if n < full:
                h, h_rest = ops.split(h, [n, full - n])
                if c is not None:
                    c, c_rest = ops.split(c, [n, full - n])
            h_new, c_new = _step(self.mode, gates[t], h, c, w_hh, b_hh)
            if w_hr is not None:
                h_new = F.linear(h_new, w_hr)
            outs[t] = h_new
            h = h_new if n == full else ops.cat([h_new, h_rest])
            if c is not None:
                c = c_new if n == full else ops.cat([c_new, c_rest])
        return ops.cat(outs), h, c

    def _run(self, data: Tensor, batch_sizes: list, h0, c0):
        """All layers and directions; returns (rows out (sum B_t, D*H), h_n, c_n)."""
        directions = 2 if self.bidirectional else 1
        # checked and (float16) cast once here: the per-step functions take them as they are
        (data, h0, c0, *flat), dtype = float_inputs(type(self).__name__, data, h0, c0, *self._flat_weights)
        flat = iter(flat)
        h_n, c_n = [], []
        layer_input = data
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                k = layer * directions + direction
                weights = [next(flat) for _ in self._all_weights[k]]
                out, h, c = self._run_direction(layer_input, batch_sizes, h0[k], c0[k] if c0 is not None else None,
                                                weights, reverse=direction == 1)
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_input = outputs[0] if directions == 1 else ops.cat(outputs, 1)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout, True)
        h_n, c_n = ops.stack(h_n), (ops.stack(c_n) if c0 is not None else None)
        return (cast_back(layer_input, dtype), cast_back(h_n, dtype),
                cast_back(c_n, dtype) if c_n is not None else None)

    def _forward(self, input, hx):
        """Returns (output, h_n, c_n) with c_n None except for LSTM."""
        if isinstance(input, PackedSequence):
            data, batch_sizes_t, sorted_indices, unsorted_indices = input
            batch_sizes = [int(b) for b in backend.to_host(batch_sizes_t._data)]
            batched = True
            batch = batch_sizes[0] if batch_sizes else 0
        else:
            if input.ndim not in (2, 3):
                raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.ndim}D "
                                 "tensor instead")
            batched = input.ndim == 3
            x = input if batched else input.unsqueeze(1)
            if batched and self.batch_first:
                x = x.transpose(0, 1)
            steps, batch = x.shape[0], x.shape[1]
            data = x.reshape(steps * batch, x.shape[2])
            batch_sizes = [batch] * steps
            sorted_indices = unsorted_indices = None
        if not batch_sizes:
            raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
        if data.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                               f"got {data.shape[-1]}")
        h0, c0 = self._initial_states(hx, batched, batch, data, sorted_indices)
        out, h_n, c_n = self._run(data, batch_sizes, h0, c0)
        if isinstance(input, PackedSequence):
            if unsorted_indices is not None:
                h_n = h_n.index_select(1, unsorted_indices)
                c_n = c_n.index_select(1, unsorted_indices) if c_n is not None else None
            return PackedSequence(out, batch_sizes_t, sorted_indices, unsorted_indices), h_n, c_n
        out = out.reshape(len(batch_sizes), batch, self._state_sizes()[0] * (2 if self.bidirectional else 1))
        if batched and self.batch_first:
            out = out.transpose(0, 1)
        if not batched:
            out, h_n = out.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if c_n is not None else None
        return out, h_n, c_n


class RNN(RNNBase):
    """Elman RNN, ``h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)`` (or relu).

    input (T, N, input_size) ((N, T, ...) with ``batch_first``; (T, input_size) unbatched; or a
    PackedSequence), h_0 (num_layers * D, N, hidden_size) -> output (T, N, D * hidden_size),
    h_n (num_layers * D, N, hidden_size), with D = 2 if bidirectional else 1."""

    def __init__(self, *args, **kwargs) -> None:
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:  # RNN(input_size, hidden_size, num_layers, nonlinearity, ...)
            kwargs["nonlinearity"] = args[3]
            args = args[:3] + args[4:]
        nonlinearity = kwargs.pop("nonlinearity", "tanh")
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__("RNN_TANH" if nonlinearity == "tanh" else "RNN_RELU", *args, **kwargs)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        out, h_n, _ = self._forward(input, hx)
        return out, h_n


class LSTM(RNNBase):
    """Long short-term memory: gates i, f, g, o from ``x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh``,
    ``c_t = f * c_{t-1} + i * g``, ``h_t = o * tanh(c_t)`` (then ``h_t W_hr^T`` with ``proj_size``).

    Shapes as RNN; returns ``(output, (h_n, c_n))`` with c_n (num_layers * D, N, hidden_size)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 proj_size: int = 0, device=None, dtype=None) -> None:
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def forward(self, input, hx=None):
        out, h_n, c_n = self._forward(input, hx)
        return out, (h_n, c_n)


class GRU(RNNBase):
    """Gated recurrent unit: r, z gates, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``,
    ``h_t = (1 - z) * n + z * h_{t-1}``. Shapes as RNN."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None) -> None:
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         0, device, dtype)

    def forward(self, input, hx=None):
        out, h_n, _ = self._forward(input, hx)
        return out, h_n


# ---- single cells ---------------------------------------------------------------------------------
class RNNCellBase(Module):
    """``weight_ih`` (chunks * hidden, input), ``weight_hh`` (chunks * hidden, hidden), biases
    (chunks * hidden), all U(-1/sqrt(hidden), 1/sqrt(hidden))."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None,
                 dtype=None) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        self.weight_ih = Parameter(ops.empty(num_chunks * hidden_size, input_size, device=device, dtype=dtype))
        self.weight_hh = Parameter(ops.empty(num_chunks * hidden_size, hidden_size, device=device, dtype=dtype))
        _optional_params(self, ("bias_ih", "bias_hh"), (num_chunks * hidden_size,), bias, device, dtype)
        self.reset_parameters()

    reset_parameters = _reset_uniform

    def extra_repr(self) -> str:
        defaults = {"bias": True, "nonlinearity": "tanh"} if hasattr(self, "nonlinearity") else {"bias": True}
        return _options_repr(self, f"{self.input_size}, {self.hidden_size}", defaults)

    def _prepare(self, input, hx):
        """(batched input, hx or zeros, whether the input was unbatched) after the shape checks."""
        name = type(self).__name__
        if input.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
        if hx is not None and hx.ndim not in (1, 2):
            raise ValueError(f"{name}: Expected hidden to be 1D or 2D, got {hx.ndim}D instead")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.shape[-1]} expected "
                               f"{self.input_size}")
        unbatched = input.ndim == 1
        x = input.unsqueeze(0) if unbatched else input
        if hx is None:
            hx = ops.zeros(x.shape[0], self.hidden_size, dtype=input.dtype, device=input.device)
        elif unbatched:
            hx = hx.unsqueeze(0)
        if tuple(hx.shape) != (x.shape[0], self.hidden_size):
            raise RuntimeError(f"Expected hidden size {(x.shape[0], self.hidden_size)}, got {list(hx.shape)}")
        return x, hx, unbatched


class RNNCell(RNNCellBase):
    """One Elman step: input (N, input_size) or (input_size,), hx (N, hidden) -> h' (N, hidden)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 1, device, dtype)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"Unknown nonlinearity: {nonlinearity}")
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, h, unbatched = self._prepare(input, hx)
        cell = rnn_cell.rnn_tanh_cell if self.nonlinearity == "tanh" else rnn_cell.rnn_relu_cell
        out = cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.squeeze(0) if unbatched else out


class LSTMCell(RNNCellBase):
    """One LSTM step: input (N, input_size), hx = (h, c) each (N, hidden) -> (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 4, device, dtype)

    def forward(self, input, hx=None):
        if hx is not None and (hx[0].ndim not in (1, 2) or hx[0].ndim != hx[1].ndim):
            raise ValueError(f"LSTMCell: Expected hx[0] and hx[1] to be 1D or 2D, got {hx[0].ndim}D and "
                             f"{hx[1].ndim}D instead")
        x, h, unbatched = self._prepare(input, hx[0] if hx is not None else None)
        _, c, _ = self._prepare(input, hx[1] if hx is not None else None)
        h, c = rnn_cell.lstm_cell(x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return (h.squeeze(0), c.squeeze(0)) if unbatched else (h, c)


class GRUCell(RNNCellBase):
    """One GRU step: input (N, input_size), hx (N, hidden) -> h' (N, hidden)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__(input_size, hidden_size, bias, 3, device, dtype)

    def forward(self, input, hx=None):
        x, h, unbatched = self._prepare(input, hx)
        out = rnn_cell.gru_cell(x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        return out.squeeze(0) if unbatched else out
