"""Normalisation layers on the norm kernels (``batch_norm_*``, ``layer_norm_*``, ``group_norm_*``).

Forward and first-order backward run the fused kernels. Each op's ``composite`` is the same map in
Tensor ops (statistics from the inputs); when the backward itself is recorded (``create_graph=True``,
e.g. for a gradient penalty) the engine differentiates that instead, so gradients of any order work.
Batch norm in evaluation mode is an affine map written with Tensor ops; instance norm is batch norm
over (1, N*C, *) as in PyTorch.
"""
from __future__ import annotations

import math
import numbers

from .. import backend
from ..autograd import grad_mode
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import cast_back, contiguous, float_inputs

__all__ = ["batch_norm", "group_norm", "instance_norm", "layer_norm"]


def _normalized(x: Tensor, dims, eps: float) -> Tensor:
    """(x - mean) / sqrt(var + eps) over ``dims`` (biased variance), in Tensor ops."""
    centred = x - x.mean(dims, keepdim=True)
    return centred * ((centred * centred).mean(dims, keepdim=True) + eps).rsqrt()


def _affine(xhat: Tensor, w, b, shape) -> Tensor:
    out = xhat if w is None else xhat * w.reshape(shape)
    return out if b is None else out + b.reshape(shape)


def _optional(a):
    return None if a is None else contiguous(a)


def _grad_buffers(ctx, channels: int):
    """(x, w) of a norm node as arrays (w None) and fresh (gx, gw, gb) arrays for the inputs that
    need a gradient (None for the others); gw and gb have ``channels`` entries."""
    x, w = ctx.inputs[0]._data, ctx.inputs[1]
    xp, need = backend.xp_of(x), ctx.needs_input_grad
    grads = tuple(xp.empty(shape, dtype=x.dtype) if needed else None
                  for shape, needed in ((x.shape, need[0]), ((channels,), need[1]), ((channels,), need[2])))
    return x, None if w is None else contiguous(w._data), grads


def _grad_tensors(grads, n_attrs: int, zero: bool = False) -> tuple:
    """The node's returned gradients: the (gx, gw, gb) arrays as Tensors (zeroed for an empty
    input: the parameters' gradients are sums of nothing), None for its ``n_attrs`` attributes."""
    if zero:
        for a in grads:
            if a is not None:
                a[...] = 0
    return (*(None if a is None else Tensor._make(a) for a in grads), *(None,) * n_attrs)


class _BatchNormTrain(Op):
    """Batch norm with batch statistics on x (N, C, S); updates the running statistics (raw
    arrays or None) in place."""

    @staticmethod
    def forward(ctx, x, w, b, running_mean, running_var, momentum, eps):
        xp = backend.xp_of(x)
        c = x.shape[1]
        out = xp.empty(x.shape, dtype=x.dtype)
        ctx.mean = xp.empty((c,), dtype=x.dtype)
        ctx.rstd = xp.empty((c,), dtype=x.dtype)
        ctx.eps = eps
        backend.kernels_of(x).batch_norm_forward_train(contiguous(x), _optional(w), _optional(b),
                                                       running_mean, running_var, momentum, eps,
                                                       out, ctx.mean, ctx.rstd)
        return out

    @staticmethod
    def composite(x, w, b, running_mean, running_var, momentum, eps):
        """The output only: the running statistics are the kernel's update."""
        return _affine(_normalized(x, (0, 2), eps), w, b, (1, -1, 1))

    @staticmethod
    def backward(ctx, g):
        x, w, grads = _grad_buffers(ctx, ctx.inputs[0].shape[1])
        backend.kernels_of(x).batch_norm_backward(contiguous(g._data), contiguous(x), w, ctx.mean, ctx.rstd,
                                                  *grads)
        return _grad_tensors(grads, 4)


class _LayerNorm(Op):
    """Layer norm over the last dimension of x (M, D); weight, bias (D,) or None."""

    @staticmethod
    def forward(ctx, x, w, b, eps):
        xp = backend.xp_of(x)
        out = xp.empty(x.shape, dtype=x.dtype)
        ctx.mean = xp.empty((x.shape[0],), dtype=x.dtype)
        ctx.rstd = xp.empty((x.shape[0],), dtype=x.dtype)
        ctx.eps = eps
        if x.size:
            backend.kernels_of(x).layer_norm_forward(contiguous(x), _optional(w), _optional(b), eps,
                                                     out, ctx.mean, ctx.rstd)
        return out

    @staticmethod
    def composite(x, w, b, eps):
        return _affine(_normalized(x, (1,), eps), w, b, (-1,))

    @staticmethod
    def backward(ctx, g):
        x, w, grads = _grad_buffers(ctx, ctx.inputs[0].shape[1])
        if x.size == 0:  # no rows (or no columns)
            return _grad_tensors(grads, 1, zero=True)
        backend.kernels_of(x).layer_norm_backward(contiguous(g._data), contiguous(x), w, ctx.mean, ctx.rstd,
                                                  *grads)
        return _grad_tensors(grads, 1)


class _GroupNorm(Op):
    """Group norm on x (N, C, S): statistics per (sample, group of C / num_groups channels)."""

    @staticmethod
    def forward(ctx, x, w, b, num_groups, eps):
        xp = backend.xp_of(x)
        out = xp.empty(x.shape, dtype=x.dtype)
        ctx.mean = xp.empty((x.shape[0], num_groups), dtype=x.dtype)
        ctx.rstd = xp.empty((x.shape[0], num_groups), dtype=x.dtype)
        ctx.eps = eps
        if x.size:
            backend.kernels_of(x).group_norm_forward(contiguous(x), num_groups, _optional(w),
                                                     _optional(b), eps, out, ctx.mean, ctx.rstd)
        return out

    @staticmethod
    def composite(x, w, b, num_groups, eps):
        n, c, s = x.shape
        rows = (n, num_groups, c // num_groups * s)  # not -1: that fails on empty inputs
        return _affine(_normalized(x.reshape(rows), (2,), eps).reshape(n, c, s), w, b, (1, -1, 1))

    @staticmethod
    def backward(ctx, g):
        x, w, grads = _grad_buffers(ctx, ctx.inputs[0].shape[1])
        if x.size == 0:  # as in layer norm
            return _grad_tensors(grads, 2, zero=True)
        backend.kernels_of(x).group_norm_backward(contiguous(g._data), contiguous(x), ctx.inputs[3], w,
                                                  ctx.mean, ctx.rstd, *grads)
        return _grad_tensors(grads, 2)


# ---- public functions ---------------------------------------------------------------------------
def _check_channel_param(t, name: str, c: int) -> None:
    if t is not None and t.numel() != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t.numel()}")


class _RunningStat:
    """A running-statistics tensor as the contiguous array of the compute dtype that the kernel
    updates in place, written back afterwards when a copy was needed."""

    def __init__(self, t: Tensor | None, dtype) -> None:
        self.tensor = t
        self.array = None
        if t is not None:
            a = t._data
            self.array = a if a.dtype == dtype and a.flags.c_contiguous else contiguous(a.astype(dtype))

    def write_back(self) -> None:
        if self.tensor is not None and self.array is not self.tensor._data:
            self.tensor._data[...] = self.array.reshape(self.tensor.shape)
        if self.tensor is not None:
            self.tensor._version += 1


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Batch normalisation over every dimension but the channels (dim 1). input (N, C), (N, C, L)
    or (N, C, H, W) (any (N, C, *)); running_mean, running_var, weight, bias (C,) or None.
    training=True normalises with the batch statistics and updates the running statistics in
    place: running = (1 - momentum) running + momentum batch_stat (unbiased variance).
    training=False normalises with the running statistics."""
    if input.ndim < 2:
        raise ValueError(f"batch_norm: expected an input of shape (N, C, *), got input of size "
                         f"{list(input.shape)}")
    c = input.shape[1]
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var"),
                    (weight, "weight"), (bias, "bias")):
        _check_channel_param(t, name, c)
    if not training:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        shape = (1, c) + (1,) * (input.ndim - 2)
        scale = (running_var.reshape(shape) + eps).rsqrt()
        if weight is not None:
            scale = scale * weight.reshape(shape)
        out = (input - running_mean.reshape(shape)) * scale
        return out if bias is None else out + bias.reshape(shape)
    n_per_channel = input.numel() // c if c else 0
    if n_per_channel == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                         f"{list(input.shape)}")
    if momentum is None:
        raise TypeError("batch_norm: momentum must be a number (nn.BatchNorm passes its cumulative "
                        "average factor when its momentum is None)")
    (x, w, b), dtype = float_inputs("batch_norm", input, weight, bias)
    if input.numel() == 0:  # no statistics to take: the affine part only keeps the graph
        shape = (1, c) + (1,) * (input.ndim - 2)
        out = x if w is None else x * w.reshape(shape)
        return cast_back(out if b is None else out + b.reshape(shape), dtype)
    compute = x._data.dtype
    rm, rv = _RunningStat(running_mean, compute), _RunningStat(running_var, compute)
    x3 = x.reshape(x.shape[0], c, -1)
    out = _BatchNormTrain.apply(x3, w, b, rm.array, rv.array, float(momentum), float(eps))
    rm.write_back()
    rv.write_back()
    return cast_back(out.reshape(input.shape), dtype)


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-05) -> Tensor:
    """Instance normalisation: each (sample, channel) plane normalised by its own statistics.
    input (N, C, *) with at least one spatial dimension; running stats, weight, bias (C,) or None.
    The running statistics (if given) move towards the batch average of the instance statistics;
    use_input_stats=False normalises with them instead."""
    if input.ndim < 3:
        raise ValueError(f"instance_norm: expected an input of shape (N, C, *) with spatial "
                         f"dimensions, got input of size {list(input.shape)}")
    n, c = input.shape[:2]
    if not use_input_stats:
        return batch_norm(input, running_mean, running_var, weight, bias, False, momentum, eps)
    if input.numel() // max(n * c, 1) <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"{list(input.shape)}")
    for t, name in ((running_mean, "running_mean"), (running_var, "running_var")):
        _check_channel_param(t, name, c)
    # PyTorch's formulation: batch norm of (1, N*C, *) with the parameters repeated per sample,
    # and the updated running statistics averaged back over the samples.
    repeat = [None if t is None else t.repeat(n) for t in (running_mean, running_var)]
    out = batch_norm(input.reshape(1, n * c, -1), repeat[0], repeat[1],
                     None if weight is None else weight.repeat(n), None if bias is None else bias.repeat(n),
                     True, momentum, eps)
    with grad_mode.no_grad():
        for t, r in zip((running_mean, running_var), repeat):
            if t is not None:
                t._data[...] = r._data.reshape(n, c).mean(0).astype(t._data.dtype)
                t._version += 1
    return out.reshape(input.shape)


def layer_norm(input: Tensor, normalized_shape, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-05) -> Tensor:
    """Layer normalisation over the trailing ``normalized_shape`` dimensions. input
    (*, *normalized_shape); weight, bias (*normalized_shape) or None."""
    shape = (int(normalized_shape),) if isinstance(normalized_shape, numbers.Integral) \
        else tuple(int(s) for s in normalized_shape)
    k = len(shape)
    if k == 0 or input.ndim < k or tuple(input.shape[input.ndim - k:]) != shape:
        raise RuntimeError(f"Given normalized_shape={list(shape)}, expected input with shape "
                           f"[*, {', '.join(map(str, shape))}], but got input of size{list(input.shape)}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and tuple(t.shape) != shape:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} "
                               f"of shape {list(t.shape)} and normalized_shape = {list(shape)}")
    (x, w, b), dtype = float_inputs("layer_norm", input, weight, bias)
    d = 1
    for s in shape:
        d *= s
    # a matrix and vectors go in as they are (a reshape of a tensor that requires grad is a node)
    x2 = x if x._data.ndim == 2 and k == 1 else x.reshape(-1, d)
    if k > 1:
        w, b = (None if t is None else t.reshape(d) for t in (w, b))
    out = _LayerNorm.apply(x2, w, b, float(eps))
    return cast_back(out if x2 is x else out.reshape(input.shape), dtype)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-05) -> Tensor:
    """Group normalisation: input (N, C, *) with statistics per sample over each group of
    C / num_groups channels (and all spatial positions); weight, bias (C,) or None."""
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    n, c = input.shape[:2]
    if num_groups <= 0 or c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got "
                           f"input of shape {list(input.shape)} and num_groups={num_groups}")
    for t, name in ((weight, "weight"), (bias, "bias")):
        if t is not None and t.numel() != c:
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in "
                               f"input, but got {name} of shape {list(t.shape)} and input of shape "
                               f"{list(input.shape)}")
    (x, w, b), dtype = float_inputs("group_norm", input, weight, bias)
    spatial = math.prod(input.shape[2:])  # not -1: that fails on empty inputs
    out = _GroupNorm.apply(x.reshape(n, c, spatial), None if w is None else w.reshape(c),
                           None if b is None else b.reshape(c), int(num_groups), float(eps))
    return cast_back(out.reshape(input.shape), dtype)

