"""One time step of the recurrent cells: the functional cells (``lstm_cell``, ``gru_cell``,
``rnn_tanh_cell``, ``rnn_relu_cell``) and the per-step functions nn.LSTM / nn.GRU / nn.RNN run.

The gate matrix products are ``linear`` (GEMMs with the bias as epilogue, differentiable); the
pointwise part between them runs the fused rnn_cell kernels (``lstm_cell_*``, ``gru_cell_*``).
When the backward itself is recorded (``create_graph=True``) the cells' pointwise gradients are
written with Tensor ops instead, so gradients of any order work. Gate order is PyTorch's:
LSTM (i, f, g, o), GRU (r, z, n); weights w_ih (k H, I), w_hh (k H, H), biases (k H,).

The recurrent layers compute the input projections ``gi = x W_ih^T + b_ih`` of all time steps in
one GEMM, so their per-step functions (``lstm_step``, ``gru_step``, ``elman_step``) take ``gi``
and do only ``h W_hh^T (+ b_hh)`` and the cell, with the same cell ops as the functional cells.
"""
from __future__ import annotations

from .. import backend
from ..autograd import grad as autograd_grad
from ..autograd import grad_mode
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import cast_back, contiguous, float_inputs
from .conv import _Linear, linear
from .creation import zeros
from .shape import cat, stack

__all__ = ["gru_cell", "lstm_cell", "rnn_relu_cell", "rnn_tanh_cell"]


class _LSTMCell(Op):
    """(h, c) from the gate projections gi = x W_ih^T + b_ih, gh = h W_hh^T + b_hh (B, 4H) and
    c_prev (B, H). It adds gi and gh itself (one array op, no graph node); both get the gates'
    gradient."""

    @staticmethod
    def forward(ctx, gi, gh, c_prev):
        xp = backend.xp_of(gi)
        gates = contiguous(gi + gh)
        b, h = c_prev.shape
        h_out = xp.empty((b, h), dtype=gates.dtype)
        c_out = xp.empty((b, h), dtype=gates.dtype)
        ctx.act = xp.empty(gates.shape, dtype=gates.dtype)
        ctx.c_out = c_out  # kept here: the caller may drop the c output (e.g. the last step's)
        if h_out.size:
            backend.kernels_of(gates).lstm_cell_forward(gates, contiguous(c_prev), h_out, c_out, ctx.act)
        return h_out, c_out

    @staticmethod
    def backward(ctx, grad_h, grad_c):
        gi, gh, c_prev = ctx.inputs
        if grad_mode.is_grad_enabled():
            i, f, g, o = (gi + gh).chunk(4, 1)
            i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
            tanh_c = (f * c_prev + i * g).tanh()
            dc = grad_c + grad_h * o * (1 - tanh_c * tanh_c)
            d_gates = cat([dc * g * i * (1 - i), dc * c_prev * f * (1 - f), dc * i * (1 - g * g),
                           grad_h * tanh_c * o * (1 - o)], 1)
            return d_gates, d_gates, dc * f
        xp = backend.xp_of(gi._data)
        d_gates = xp.empty(gi.shape, dtype=gi._data.dtype)
        d_c_prev = xp.empty(c_prev.shape, dtype=gi._data.dtype)
        if d_c_prev.size:
            backend.kernels_of(gi._data).lstm_cell_backward(
                contiguous(grad_h._data), contiguous(grad_c._data), ctx.act, contiguous(c_prev._data),
                ctx.c_out, d_gates, d_c_prev)
        d_gates = Tensor._make(d_gates)
        return d_gates, d_gates, Tensor._make(d_c_prev)


class _GRUCell(Op):
    """h from gi = x W_ih^T + b_ih, gh = h_prev W_hh^T + b_hh (B, 3H) and h_prev (B, H)."""

    @staticmethod
    def forward(ctx, gi, gh, h_prev):
        xp = backend.xp_of(gi)
        h_out = xp.empty(h_prev.shape, dtype=gi.dtype)
        ctx.saved = xp.empty((h_prev.shape[0], 4 * h_prev.shape[1]), dtype=gi.dtype)
        if h_out.size:
            backend.kernels_of(gi).gru_cell_forward(contiguous(gi), contiguous(gh), contiguous(h_prev),
                                                    h_out, ctx.saved)
        return h_out

    @staticmethod
    def backward(ctx, grad_h):
        gi, gh, h_prev = ctx.inputs
        if grad_mode.is_grad_enabled():
            ir, iz, in_ = gi.chunk(3, 1)
            hr, hz, hn = gh.chunk(3, 1)
            r, z = (ir + hr).sigmoid(), (iz + hz).sigmoid()
            n = (in_ + r * hn).tanh()
            d_n = grad_h * (1 - z) * (1 - n * n)  # gradient at n's pre-activation
            d_r = d_n * hn * r * (1 - r)
            d_z = grad_h * (h_prev - n) * z * (1 - z)
            return cat([d_r, d_z, d_n], 1), cat([d_r, d_z, d_n * r], 1), grad_h * z
        xp = backend.xp_of(gi._data)
        d_gi = xp.empty(gi.shape, dtype=gi._data.dtype)
        d_gh = xp.empty(gh.shape, dtype=gi._data.dtype)
        d_h = xp.empty(h_prev.shape, dtype=gi._data.dtype)
        if d_h.size:
            backend.kernels_of(gi._data).gru_cell_backward(contiguous(grad_h._data), ctx.saved,
                                                           contiguous(h_prev._data), d_gi, d_gh, d_h)
        return Tensor._make(d_gi), Tensor._make(d_gh), Tensor._make(d_h)


def _check_cell(input: Tensor, state: Tensor | None, w_ih: Tensor, w_hh: Tensor, gates: int, name: str,
                state_size: int):
    """(input (B, I), state (B, state_size), whether the input was unbatched) after PyTorch's
    checks; a missing state is zeros. state_size is the hidden size H, except for the h of an
    LSTM with projections (w_hh (4H, P)), which has P."""
    if input.ndim not in (1, 2):
        raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.ndim}D instead")
    if w_ih.ndim != 2 or w_hh.ndim != 2 or w_ih.shape[0] % gates or w_hh.shape[0] != w_ih.shape[0]:
        raise RuntimeError(f"{name}: expected w_ih ({gates}*H, I) and w_hh ({gates}*H, H), got "
                           f"{list(w_ih.shape)} and {list(w_hh.shape)}")
    unbatched = input.ndim == 1
    x = input.unsqueeze(0) if unbatched else input
    if x.shape[1] != w_ih.shape[1]:
        raise RuntimeError(f"input has inconsistent input_size: got {x.shape[1]} expected {w_ih.shape[1]}")
    if state is None:
        return x, zeros(x.shape[0], state_size, dtype=x.dtype, device=x.device), unbatched
    if state.ndim != input.ndim:
        raise RuntimeError(f"{name}: Expected hidden to be {input.ndim}D for {input.ndim}D input, got "
                           f"{state.ndim}D instead")
    state = state.unsqueeze(0) if unbatched else state
    if state.shape[0] != x.shape[0]:
        raise RuntimeError(f"Input batch size {x.shape[0]} doesn't match hidden0 batch size {state.shape[0]}")
    if state.shape[1] != state_size:
        raise RuntimeError(f"hidden0 has inconsistent hidden_size: got {state.shape[1]}, expected {state_size}")
    return x, state, unbatched


def lstm_cell(input: Tensor, hx: Tensor | None, cx: Tensor | None, w_ih: Tensor, w_hh: Tensor,
              b_ih: Tensor | None = None, b_hh: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One LSTM step. input (B, I) or (I,), hx, cx (B, H) or (H,) (None: zeros), w_ih (4H, I),
    w_hh (4H, H), b_ih, b_hh (4H,) -> (h, c), each (B, H) (or (H,)):
    i, f, g, o = sigmoid, sigmoid, tanh, sigmoid of x W_ih^T + b_ih + h W_hh^T + b_hh;
    c = f c_prev + i g; h = o tanh(c). With projections (nn.LSTM(proj_size=P)) w_hh is (4H, P)
    and hx (B, P); the caller projects the returned h."""
    x, h, unbatched = _check_cell(input, hx, w_ih, w_hh, 4, "lstm_cell", w_hh.shape[1])
    _, c, _ = _check_cell(input, cx, w_ih, w_hh, 4, "lstm_cell", w_ih.shape[0] // 4)
    (x, h, c, w_ih, w_hh, b_ih, b_hh), dtype = float_inputs("lstm_cell", x, h, c, w_ih, w_hh, b_ih, b_hh)
    h_out, c_out = _LSTMCell.apply(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh), c)
    if unbatched:
        h_out, c_out = h_out.squeeze(0), c_out.squeeze(0)
    return cast_back(h_out, dtype), cast_back(c_out, dtype)


def gru_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
             b_hh: Tensor | None = None) -> Tensor:
    """One GRU step. input (B, I) or (I,), hx (B, H) or (H,) (None: zeros), w_ih (3H, I),
    w_hh (3H, H), b_ih, b_hh (3H,) -> h (B, H): r = sigmoid(W_ir x + b_ir + W_hr h + b_hr),
    z likewise, n = tanh(W_in x + b_in + r (W_hn h + b_hn)), h' = (1 - z) n + z h."""
    x, h, unbatched = _check_cell(input, hx, w_ih, w_hh, 3, "gru_cell", w_ih.shape[0] // 3)
    (x, h, w_ih, w_hh, b_ih, b_hh), dtype = float_inputs("gru_cell", x, h, w_ih, w_hh, b_ih, b_hh)
    out = _GRUCell.apply(linear(x, w_ih, b_ih), linear(h, w_hh, b_hh), h)
    return cast_back(out.squeeze(0) if unbatched else out, dtype)


def _elman(input, hx, w_ih, w_hh, b_ih, b_hh, name: str, relu: bool) -> Tensor:
    x, h, unbatched = _check_cell(input, hx, w_ih, w_hh, 1, name, w_ih.shape[0])
    out = _elman_activation(linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh), relu)
    return out.squeeze(0) if unbatched else out


def _elman_activation(pre: Tensor, relu: bool) -> Tensor:
    return pre.relu() if relu else pre.tanh()


def rnn_tanh_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh). input (B, I) or (I,),
    hx (B, H) or (H,) (None: zeros), w_ih (H, I), w_hh (H, H), biases (H,)."""
    return _elman(input, hx, w_ih, w_hh, b_ih, b_hh, "rnn_tanh_cell", False)


def rnn_relu_cell(input: Tensor, hx: Tensor | None, w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None = None,
                  b_hh: Tensor | None = None) -> Tensor:
    """One Elman RNN step with ReLU: h' = relu(x W_ih^T + b_ih + h W_hh^T + b_hh)."""
    return _elman(input, hx, w_ih, w_hh, b_ih, b_hh, "rnn_relu_cell", True)


# ---- per-step functions of nn.LSTM / nn.GRU / nn.RNN ------------------------------------------------
# gi (B, k H) is the step's rows of the input projection, h (B, H) (for an LSTM with projections
# (B, P) and w_hh (4H, P)), c (B, H): 2-D float32/float64 tensors whose shapes and dtypes the
# module has checked once, so the recurrent GEMM is the Linear op itself, without ``linear``'s
# per-call checks and reshapes (on a (32, 256) state they cost more than the fused cell kernel).
def lstm_step(gi: Tensor, h: Tensor, c: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> tuple[Tensor, Tensor]:
    """One LSTM step from the input gates gi -> (h, c), each (B, H)."""
    return _LSTMCell.apply(gi, _Linear.apply(h, w_hh, b_hh), c)


def gru_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None) -> Tensor:
    """One GRU step from the input gates gi -> h (B, H)."""
    return _GRUCell.apply(gi, _Linear.apply(h, w_hh, b_hh), h)


def elman_step(gi: Tensor, h: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool) -> Tensor:
    """One Elman RNN step from the input projection gi -> h (B, H), tanh or relu."""
    return _elman_activation(gi + _Linear.apply(h, w_hh, b_hh), relu)


# ---- a whole LSTM layer ------------------------------------------------------------------------------
class _LSTMLayer(Op):
    """One LSTM layer in one direction over T steps of B rows each: (xg (T, B, 4H), the input
    gates with both biases; h0, c0 (B, H); w_hh (4H, H)) -> (hs (T, B, H) every step's h, c_T).

    What the per-step ops cannot do: W_hh^T is laid out once so every step's h @ W_hh^T reads it
    in place (no per-step packing); the steps' buffers are allocated once; and backward computes
    W_hh's gradient with one GEMM over all T*B rows instead of T small ones each read, written and
    accumulated into a (4H, H) array. With ``create_graph`` the backward recomputes the layer with
    the per-step ops and differentiates that, so gradients of any order work."""

    @staticmethod
    def forward(ctx, xg, h0, c0, w_hh, reverse):
        xp, kernels = backend.xp_of(xg), backend.kernels_of(xg)
        steps, batch, gates_width = xg.shape
        hidden = gates_width // 4
        hs = xp.empty((steps, batch, hidden), dtype=xg.dtype)
        cs = xp.empty((steps, batch, hidden), dtype=xg.dtype)
        acts = xp.empty((steps, batch, gates_width), dtype=xg.dtype)
        order = range(steps - 1, -1, -1) if reverse else range(steps)
        if hs.size:
            w_t = xp.ascontiguousarray(w_hh.T)  # (H, 4H)
            gates = xp.empty((batch, gates_width), dtype=xg.dtype)
            h, c = contiguous(h0), contiguous(c0)
            for t in order:
                gates[...] = xg[t]
                kernels.gemm(h, w_t, gates, False, False, 1.0, 1.0)  # gates += h @ W_hh^T
                kernels.lstm_cell_forward(gates, c, hs[t], cs[t], acts[t])
                h, c = hs[t], cs[t]
        else:
            hs[...] = 0
            cs[...] = c0
        ctx.reverse, ctx.hs, ctx.cs, ctx.acts = reverse, hs, cs, acts
        return hs, cs[order[-1]].copy()

    @staticmethod
    def backward(ctx, grad_hs, grad_c):
        xg, h0, c0, w_hh, _ = ctx.inputs
        if grad_mode.is_grad_enabled():
            return _lstm_layer_recorded_backward(xg, h0, c0, w_hh, ctx.reverse, grad_hs, grad_c)
        hs, cs, acts, reverse = ctx.hs, ctx.cs, ctx.acts, ctx.reverse
        xp, kernels = backend.xp_of(hs), backend.kernels_of(hs)
        steps, batch, hidden = hs.shape
        h0, c0, w_hh = contiguous(h0._data), contiguous(c0._data), contiguous(w_hh._data)
        grad_hs = contiguous(grad_hs._data)
        d_gates = xp.empty(acts.shape, dtype=hs.dtype)
        d_h = xp.zeros((batch, hidden), dtype=hs.dtype)  # reaching h_t from step t + 1
        d_c = contiguous(grad_c._data).copy()
        d_h_total = xp.empty_like(d_h)
        d_c_prev = xp.empty_like(d_c)
        # the state each step started from, in the order of the steps' rows
        h_prev = xp.concatenate([hs[1:], h0[None]]) if reverse else xp.concatenate([h0[None], hs[:-1]])
        if hs.size:
            for t in (range(steps) if reverse else range(steps - 1, -1, -1)):
                c_prev = c0 if t == (steps - 1 if reverse else 0) else cs[t + 1 if reverse else t - 1]
                xp.add(grad_hs[t], d_h, out=d_h_total)
                kernels.lstm_cell_backward(d_h_total, d_c, acts[t], c_prev, cs[t], d_gates[t], d_c_prev)
                kernels.gemm(d_gates[t], w_hh, d_h, False, False, 1.0, 0.0)  # d_h = d_gates @ W_hh
                d_c, d_c_prev = d_c_prev, d_c
        else:
            d_gates[...] = 0
        rows = steps * batch
        d_w = xp.zeros(w_hh.shape, dtype=hs.dtype)
        if rows and hidden:
            kernels.gemm(d_gates.reshape(rows, 4 * hidden), h_prev.reshape(rows, hidden), d_w, True, False,
                         1.0, 0.0)
        return Tensor._make(d_gates), Tensor._make(d_h), Tensor._make(d_c), Tensor._make(d_w), None


def _lstm_layer_recorded_backward(xg, h0, c0, w_hh, reverse, grad_hs, grad_c):
    """_LSTMLayer's gradients as a graph (for create_graph): the layer again from its inputs with
    the per-step ops, differentiated by the engine with create_graph=True."""
    h, c, hs = h0, c0, [None] * xg.shape[0]
    for t in (range(xg.shape[0] - 1, -1, -1) if reverse else range(xg.shape[0])):
        h, c = lstm_step(xg[t], h, c, w_hh, None)
        hs[t] = h
    wanted = [t for t in (xg, h0, c0, w_hh) if t.requires_grad]
    grads = iter(autograd_grad([stack(hs), c], wanted, [grad_hs, grad_c], create_graph=True,
                               allow_unused=True))
    return tuple(next(grads) if t.requires_grad else None for t in (xg, h0, c0, w_hh)) + (None,)


def lstm_layer(xg: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, reverse: bool = False) -> tuple[Tensor, Tensor]:
    """A whole LSTM layer in one direction (see _LSTMLayer): xg (T, B, 4H) the input gates with
    both biases, h0, c0 (B, H), w_hh (4H, H), float32/float64 -> (hs (T, B, H), c_T (B, H))."""
    return _LSTMLayer.apply(xg, h0, c0, w_hh, reverse)
