"""Softmax family and the classification losses, on the softmax_xent kernels (``softmax_*``,
``cross_entropy_*``, ``binary_cross_entropy_with_logits_*``).

Forward and first-order backward run the fused kernels. Each op's ``composite`` is the same map in
Tensor ops; when the backward itself is recorded (``create_graph=True``) the engine differentiates
that instead, so gradients of any order work. ``nll_loss``, ``binary_cross_entropy`` and the class-probability
form of ``cross_entropy`` are composites of differentiable ops.
"""
from __future__ import annotations

import warnings

import numpy as np

from .. import backend
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import (
    cast_back,
    check_reduction,
    contiguous,
    float_inputs,
    index_array,
    legacy_reduction,
    reduce_loss,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "log_softmax",
    "nll_loss",
    "softmax",
    "softmin",
]


# ---- softmax -----------------------------------------------------------------------------------
class _Softmax(Op):
    """softmax (log=False) or log_softmax (log=True) of x along ``dim``."""

    @staticmethod
    def forward(ctx, x, dim, log):
        ctx.dim, ctx.log = dim, log
        out = backend.xp_of(x).empty(x.shape, dtype=x.dtype)
        if x.size:
            backend.kernels_of(x).softmax_forward(contiguous(x), out, dim, log)
        return out

    @staticmethod
    def composite(x, dim, log):
        if x.numel() == 0:
            return x * 1
        # the maximum is a constant shift: it cancels exactly, so it takes no gradient
        shifted = x - x.amax(dim, keepdim=True).detach()
        if log:
            return shifted - shifted.exp().sum(dim, keepdim=True).log()
        e = shifted.exp()
        return e / e.sum(dim, keepdim=True)

    @staticmethod
    def backward(ctx, g):
        y = ctx.output(0)
        dim = ctx.dim
        gx = backend.xp_of(y._data).empty(y.shape, dtype=y._data.dtype)
        if gx.size:
            backend.kernels_of(y._data).softmax_backward(contiguous(g._data), contiguous(y._data), gx,
                                                         dim, ctx.log)
        return Tensor._make(gx), None, None


def _softmax_dim(ndim: int, name: str) -> int:
    """PyTorch's legacy implicit dim (0 for 0-, 1- and 3-D inputs, else 1), with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call to include "
                  "dim=X as an argument.", UserWarning, stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _softmax(input: Tensor, dim, dtype, log: bool, name: str) -> Tensor:
    if dim is None:
        dim = _softmax_dim(input.ndim, name)
    n = max(input.ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    x = input if dtype is None else input.to(dtype)
    if not x.is_floating_point():
        raise RuntimeError(f'"{name}" not implemented for \'{x.dtype.name}\': softmax needs a floating '
                           "point input (pass dtype=ember.float32)")
    (x,), result = float_inputs(name, x)
    return cast_back(_Softmax.apply(x, int(dim) % n, log), result)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(x)_i = exp(x_i) / sum_j exp(x_j) along ``dim``; output shaped like input. With
    ``dtype`` the input is cast first (e.g. float16 logits computed in float32)."""
    return _softmax(input, dim, dtype, False, "softmax")


def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """log(softmax(x)) along ``dim``, computed stably as x - logsumexp(x)."""
    return _softmax(input, dim, dtype, True, "log_softmax")


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype=None) -> Tensor:
    """softmax(-x) along ``dim``."""
    return _softmax(-input, dim, dtype, False, "softmin")


# ---- cross-entropy with class indices ------------------------------------------------------------
class _CrossEntropy(Op):
    """Loss of logits (M, C) against int64 class indices (M,) (raw array), with class weights (C,)
    or None (constants), ignore_index and label smoothing: per row (M,) when ``divisor`` is None,
    else the rows' sum divided by ``divisor`` (0-d; the reductions 'sum' and 'mean' in the op:
    no separate sum and division nodes)."""

    @staticmethod
    def forward(ctx, x, target, weight, ignore_index, label_smoothing, divisor):
        xp = backend.xp_of(x)
        ctx.lse = xp.empty((x.shape[0],), dtype=x.dtype)
        loss = xp.empty((x.shape[0],), dtype=x.dtype)
        if x.shape[0]:
            backend.kernels_of(x).cross_entropy_forward(contiguous(x), target, weight, ignore_index,
                                                        label_smoothing, loss, ctx.lse)
        if divisor is None:
            return loss
        with np.errstate(invalid="ignore"):  # every target ignored: 0 / 0 = nan, as PyTorch
            return xp.asarray(loss.sum() / x.dtype.type(divisor))

    @staticmethod
    def composite(x, target, weight, ignore_index, label_smoothing, divisor):
        """per row (1 - ls) w[t] (-log p[t]) + ls / C sum_c w_c (-log p_c), 0 on ignored rows."""
        xp = backend.xp_of(x._data)
        m, c = x.shape
        dt = x._data.dtype
        keep = target != ignore_index
        safe = xp.where(keep, target, 0)
        w = xp.ones((c,), dtype=dt) if weight is None else weight
        logp = _Softmax.composite(x, 1, True)
        picked = logp.gather(1, Tensor._make(safe.reshape(m, 1))).reshape(m)
        loss = -(1 - label_smoothing) * Tensor._make((w[safe] * keep).astype(dt)) * picked
        if label_smoothing:
            smooth = (logp * Tensor._make(w.reshape(1, c))).sum(1)
            loss = loss - (label_smoothing / c) * Tensor._make(keep.astype(dt)) * smooth
        if divisor is None:
            return loss
        with np.errstate(invalid="ignore", divide="ignore"):
            return loss.sum() / divisor

    @staticmethod
    def backward(ctx, g):
        x, target, weight, ignore_index, ls, divisor = ctx.inputs
        if divisor is not None:
            g = (g / divisor).expand(x.shape[0])  # each row's share of the reduced loss
        gx = backend.xp_of(x._data).empty(x.shape, dtype=x._data.dtype)
        if x.shape[0]:
            backend.kernels_of(x._data).cross_entropy_backward(contiguous(x._data), target, weight,
                                                               ignore_index, ls, ctx.lse,
                                                               contiguous(g._data), gx)
        return (Tensor._make(gx),) + (None,) * 5


def _class_dim_last(t: Tensor) -> Tensor:
    """(N, C, d1, ...) -> (N d1 ..., C); (N, C) stays."""
    return t if t.ndim == 2 else t.movedim(1, -1).reshape(-1, t.shape[1])


def _check_targets(input: Tensor, target: Tensor) -> None:
    """Shapes of (N, C, d1..dk) inputs against (N, d1..dk) class-index targets."""
    if input.ndim == 1:
        if target.ndim != 0:
            raise RuntimeError(f"Expected a 0-D target for a 1-D (unbatched) input, got target of size "
                               f"{list(target.shape)}")
        return
    if target.ndim == 0 or input.shape[0] != target.shape[0]:
        raise ValueError(f"Expected input batch_size ({input.shape[0]}) to match target batch_size "
                         f"({target.shape[0] if target.ndim else 0}).")
    expected = (input.shape[0],) + tuple(input.shape[2:])
    if tuple(target.shape) != expected:
        raise RuntimeError(f"Expected target size {list(expected)}, got {list(target.shape)}")


def _check_range(target_arr, c: int, ignore_index: int) -> None:
    bad = (target_arr != ignore_index) & ((target_arr < 0) | (target_arr >= c))
    if bool(bad.any()):
        raise IndexError(f"Target {int(target_arr[bad][0])} is out of bounds.")


def _class_weight(weight: Tensor | None, c: int, like: Tensor):
    """The class weights as a constant contiguous array of ``like``'s dtype (or None)."""
    if weight is None:
        return None
    if weight.ndim != 1 or weight.shape[0] != c:
        raise RuntimeError(f"weight tensor should be defined either for all {c} classes or no classes but "
                           f"got weight tensor of shape: {list(weight.shape)}")
    return contiguous(weight._data.astype(like._data.dtype, copy=False))


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                  ignore_index: int = -100, reduce=None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy between logits and targets. input (N, C), (C,) or (N, C, d1, ..., dk);
    target either class indices (N,), () or (N, d1, ..., dk) (integers in [0, C) or ignore_index)
    or class probabilities shaped like input. weight (C,) rescales each class; label_smoothing
    mixes the targets with the uniform distribution. reduction 'mean' divides by the total weight
    of the non-ignored targets (by the number of samples for probability targets)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    if input.ndim == 0:
        raise ValueError("cross_entropy: input must have at least 1 dimension (the classes)")
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    if target.is_floating_point():
        if tuple(target.shape) != tuple(input.shape):
            raise RuntimeError(f"Expected floating point type for target with class probabilities to have "
                               f"the shape of input {list(input.shape)}, got {list(target.shape)}")
        return _cross_entropy_probs(input, target, weight, reduction, label_smoothing, c)
    _check_targets(input, target)
    (x,), dtype = float_inputs("cross_entropy", input)
    x2 = x.unsqueeze(0) if x.ndim == 1 else _class_dim_last(x)
    t = index_array(target).reshape(-1)
    _check_range(t, c, ignore_index)
    w = _class_weight(weight, c, x)
    divisor = None if reduction == "none" else 1.0
    if reduction == "mean":  # the total weight of the targets not ignored
        keep = t != ignore_index
        total = keep.sum() if w is None else (w[backend.xp_of(t).where(keep, t, 0)] * keep).sum()
        divisor = float(total)
    out = _CrossEntropy.apply(x2, t, w, int(ignore_index), float(label_smoothing), divisor)
    return cast_back(out.reshape(tuple(target.shape)) if divisor is None else out, dtype)


def _cross_entropy_probs(input, target, weight, reduction, label_smoothing, c):
    """-sum_c w_c t_c log_softmax(x)_c per sample, t smoothed towards 1/C."""
    dim = 0 if input.ndim == 1 else 1
    logp = log_softmax(input, dim)
    t = target if not label_smoothing else target * (1 - label_smoothing) + label_smoothing / c
    terms = logp * t
    if weight is not None:
        shape = [1] * input.ndim
        shape[dim] = c
        terms = terms * weight.reshape(shape)
    loss = -terms.sum(dim)
    if reduction == "mean":
        n = 1 if input.ndim == 1 else loss.numel()
        return loss.sum() / n
    return reduce_loss(loss, reduction)


def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
             ignore_index: int = -100, reduce=None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities input (N, C), (C,) or (N, C, d1..dk) at the
    class indices target (N,), () or (N, d1..dk): -w[t] input[t], 0 for ignore_index; 'mean'
    divides by the total weight of the non-ignored targets."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    if input.ndim == 0:
        raise ValueError("nll_loss: input must have at least 1 dimension (the classes)")
    if target.is_floating_point():
        raise RuntimeError(f"expected scalar type Long but found {target.dtype.name}")
    _check_targets(input, target)
    c = input.shape[0] if input.ndim == 1 else input.shape[1]
    x2 = input.unsqueeze(0) if input.ndim == 1 else _class_dim_last(input)
    t = index_array(target).reshape(-1)
    _check_range(t, c, ignore_index)
    xp = backend.xp_of(t)
    keep = t != ignore_index
    safe = xp.where(keep, t, 0)
    w = _class_weight(weight, c, input)
    row_w = keep.astype(x2._data.dtype) if w is None else w[safe] * keep
    picked = x2.gather(1, Tensor._make(safe.reshape(-1, 1))).reshape(-1)
    loss = -picked * Tensor._make(row_w)
    if reduction == "none":
        return loss.reshape(tuple(target.shape))
    if reduction == "sum":
        return loss.sum()
    with np.errstate(invalid="ignore"):
        return loss.sum() / float(row_w.sum())


# ---- binary cross-entropy -------------------------------------------------------------------------
def _check_same_size(input: Tensor, target: Tensor) -> None:
    if tuple(target.shape) != tuple(input.shape):
        raise ValueError(f"Using a target size ({target.shape}) that is different to the input size "
                         f"({input.shape}) is deprecated. Please ensure they have the same size.")


class _BinaryCrossEntropy(Op):
    """Elementwise -(y log(x) + (1 - y) log(1 - x)), each log clamped at -100. The backward is
    PyTorch's g (x - y) / max(x (1 - x), 1e-12), finite at x = 0 and 1 (where differentiating the
    clamped logs would give 0 * inf), written with Tensor ops."""

    @staticmethod
    def forward(ctx, x, y):
        xp = backend.xp_of(x)
        with np.errstate(divide="ignore"):
            return -(y * xp.maximum(xp.log(x), -100) + (1 - y) * xp.maximum(xp.log(1 - x), -100))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.inputs
        gx = g * (x - y) / (x * (1 - x)).clamp(min=1e-12) if ctx.needs_input_grad[0] else None
        gy = None
        if ctx.needs_input_grad[1]:
            with np.errstate(divide="ignore"):
                gy = g * ((1 - x).log().clamp(min=-100) - x.log().clamp(min=-100))
        return gx, gy


def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average=None,
                         reduce=None, reduction: str = "mean") -> Tensor:
    """-w (t log(x) + (1 - t) log(1 - x)) for probabilities x in [0, 1]; each log is clamped at
    -100 as in PyTorch, so the loss stays finite. input, target (*) of one shape; weight
    broadcastable to it."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    _check_same_size(input, target)
    (x, t), dtype = float_inputs("binary_cross_entropy", input, target)
    xs = x._data
    if xs.size and bool(((xs < 0) | (xs > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    loss = _BinaryCrossEntropy.apply(x, t)
    if weight is not None:
        loss = loss * weight
    return cast_back(reduce_loss(loss, reduction), dtype)


class _BCEWithLogits(Op):
    """Elementwise BCE-with-logits loss of logits x (M, C) against targets y (M, C), with
    constant weight (M, C) and pos_weight (C,) arrays (or None)."""

    @staticmethod
    def forward(ctx, x, y, weight, pos_weight):
        loss = backend.xp_of(x).empty(x.shape, dtype=x.dtype)
        if x.size:
            backend.kernels_of(x).binary_cross_entropy_with_logits_forward(contiguous(x), contiguous(y), weight,
                                                          pos_weight, loss)
        return loss

    @staticmethod
    def composite(x, y, weight, pos_weight):
        """(1 - y) x + (1 + (pos_weight - 1) y) log(1 + exp(-x)), times weight."""
        softplus = (-x).clamp(min=0) + (-x.abs()).exp().log1p()
        coef = 1 if pos_weight is None else 1 + (Tensor._make(pos_weight) - 1) * y
        loss = (1 - y) * x + coef * softplus
        return loss if weight is None else loss * Tensor._make(weight)

    @staticmethod
    def backward(ctx, g):
        x, y, weight, pos_weight = ctx.inputs
        need = ctx.needs_input_grad
        xp = backend.xp_of(x._data)
        gx = xp.empty(x.shape, dtype=x._data.dtype)
        gy = xp.empty(x.shape, dtype=x._data.dtype) if need[1] else None
        if gx.size:
            backend.kernels_of(x._data).binary_cross_entropy_with_logits_backward(
                contiguous(g._data), contiguous(x._data), contiguous(y._data), weight, pos_weight, gx, gy)
        return (Tensor._make(gx) if need[0] else None), (None if gy is None else Tensor._make(gy)), None, None


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average=None, reduce=None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """Sigmoid + binary cross-entropy in one numerically stable step:
    -w (p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))). input, target (*) of one shape;
    weight broadcastable to it; pos_weight broadcastable along the last dimension (classes)."""
    reduction = legacy_reduction(size_average, reduce, reduction)
    check_reduction(reduction)
    _check_same_size(input, target)
    (x, t), dtype = float_inputs("binary_cross_entropy_with_logits", input, target)
    c = x.shape[-1] if x.ndim else 1
    if pos_weight is not None and pos_weight.numel() not in (1, c):
        raise RuntimeError(f"pos_weight of size {list(pos_weight.shape)} must be broadcastable along the "
                           f"last dimension of the input, of size {c}")
    if any(a is not None and a.requires_grad for a in (weight, pos_weight)):
        # gradients for the weights too: the loss as Tensor ops
        softplus = (-x).clamp(min=0) + (-x.abs()).exp().log1p()
        coef = 1 if pos_weight is None else 1 + (pos_weight - 1) * t
        loss = (1 - t) * x + coef * softplus
        loss = loss if weight is None else loss * weight
        return cast_back(reduce_loss(loss, reduction), dtype)
    xp = backend.xp_of(x._data)
    dt = x._data.dtype
    shape2 = (-1, c) if x.numel() else (0, c)
    w = None if weight is None else contiguous(xp.broadcast_to(weight._data.astype(dt), x.shape)).reshape(shape2)
    p = None if pos_weight is None else contiguous(xp.broadcast_to(pos_weight._data.astype(dt).reshape(-1), (c,)))
    loss = _BCEWithLogits.apply(x.reshape(shape2), t.reshape(shape2), w, p).reshape(x.shape)
    return cast_back(reduce_loss(loss, reduction), dtype)

