"""Linear maps and convolutions on the GEMM and conv kernels (``gemm``, ``conv2d_forward``,
``conv2d_backward_input``, ``conv2d_backward_weight``, ``conv2d_backward_bias``).

Every backward here is written with differentiable ops, so gradients of any order work (gradient
penalties, double backward):

* ``linear``: grad_input = grad @ W, grad_W = grad^T @ x, grad_b = sum(grad) — matmuls.
* ``conv2d``: grad_input is ``conv_transpose2d(grad, W)`` (the ``conv2d_backward_input`` kernel),
  grad_W is the weight-gradient op (``conv2d_backward_weight`` kernel), whose own backward is a
  conv_transpose2d and a conv2d again; grad_b is the ``conv2d_backward_bias`` kernel, whose backward
  is a broadcast.
* ``conv_transpose2d``: the same three ops with the roles of input and output exchanged.

1-D convolutions are the 2-D ones with a height of 1; ``unfold``/``fold`` (im2col/col2im) are a
grouped convolution / transposed convolution with one-hot weights, so they are differentiable too.
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import cast_back, contiguous, float_inputs, ntuple, short_name
from .linalg import gemm_arrays, matmul
from .shape import pad as _pad

__all__ = [
    "bilinear",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "fold",
    "linear",
    "unfold",
]


# ---- linear ------------------------------------------------------------------------------------
class _Linear(Op):
    """y (*, out) = x (*, in) @ W^T (in, out) + b: one GEMM over the rows of x's leading dimensions
    (folded by a view: x is a matrix or C-contiguous), with the bias as its epilogue."""

    @staticmethod
    def forward(ctx, x, w, b):
        # W^T is a transposed view: the GEMM reads it with its transpose flag, no copy
        y = gemm_arrays(x.reshape(math.prod(x.shape[:-1]), x.shape[-1]), w.T,
                        bias=None if b is None else contiguous(b))
        return y.reshape(x.shape[:-1] + (w.shape[0],))

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs[:2]
        g2 = _rows(g)
        gx = matmul(g2, w).reshape(x.shape) if ctx.needs_input_grad[0] else None
        gw = matmul(g2.mT, _rows(x)) if ctx.needs_input_grad[1] else None
        gb = g2.sum(0) if ctx.needs_input_grad[2] else None
        return gx, gw, gb


def _rows(t: Tensor) -> Tensor:
    """(*, n) -> (rows, n), a matrix as it is."""
    shape = t._data.shape
    return t if len(shape) == 2 else t.reshape(math.prod(shape[:-1]), shape[-1])


def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x W^T + b. input (*, in_features), weight (out_features, in_features), bias
    (out_features,) -> (*, out_features); any number of leading dimensions (also none)."""
    in_shape, w_shape = input._data.shape, weight._data.shape
    if len(w_shape) != 2 and not (len(w_shape) == 1 and in_shape):
        raise RuntimeError(f"linear: expected a 2-D weight, but got weight of size {list(w_shape)}")
    if not in_shape:
        raise RuntimeError("linear: input must have at least 1 dimension, got a 0-d tensor")
    w2 = weight if len(w_shape) == 2 else weight.unsqueeze(0)
    out_features, in_features = w2._data.shape
    if in_shape[-1] != in_features:
        rows = int(np.prod(in_shape[:-1])) if len(in_shape) > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{in_shape[-1]} and "
                           f"{in_features}x{out_features})")
    if bias is not None and bias._data.size not in (1, out_features):
        raise RuntimeError(f"linear: bias of size {list(bias.shape)} does not match the "
                           f"{out_features} output features")
    if input._data.dtype != weight._data.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {short_name(input)} and "
                           f"{short_name(weight)}")
    (x, w, b), dtype = float_inputs("linear", input, w2, bias)
    if b is not None and b._data.shape != (out_features,):
        b = b.reshape(-1).expand(out_features).contiguous()
    if x._data.ndim > 2:
        x = x.contiguous()  # (a no-op when it is already) so that _Linear folds it by a view
    y = _Linear.apply(x, w, b)
    if len(w_shape) == 1:
        y = y.squeeze(-1)
    return cast_back(y, dtype)


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y_o = x1^T W_o x2 + b_o. input1 (*, in1), input2 (*, in2), weight (out, in1, in2), bias
    (out,) -> (*, out). One GEMM x1 @ W (as (in1, out*in2)), then a product-sum with x2."""
    if weight.ndim != 3:
        raise RuntimeError(f"bilinear(): weight must be 3-dimensional, got {weight.ndim}")
    if input1.shape[:-1] != input2.shape[:-1]:
        raise RuntimeError(f"bilinear(): input batch dimensions do not match: got "
                           f"{list(input1.shape[:-1])} and {list(input2.shape[:-1])}")
    out_f, in1, in2 = weight.shape
    if input1.shape[-1] != in1:
        raise RuntimeError(f"bilinear(): input1 size does not match weight size: got {input1.shape[-1]} "
                           f"but expected {in1}")
    if input2.shape[-1] != in2:
        raise RuntimeError(f"bilinear(): input2 size does not match weight size: got {input2.shape[-1]} "
                           f"but expected {in2}")
    if bias is not None and tuple(bias.shape) != (out_f,):
        raise RuntimeError(f"bilinear(): bias size does not match weight size: got {bias.shape[-1]} "
                           f"but expected {out_f}")
    lead = tuple(input1.shape[:-1])
    x1 = input1.reshape(-1, in1)
    x2 = input2.reshape(-1, in2)
    # t[n, o, j] = sum_i x1[n, i] W[o, i, j]
    t = linear(x1, weight.permute(0, 2, 1).reshape(out_f * in2, in1)).reshape(-1, out_f, in2)
    y = (t * x2.unsqueeze(1)).sum(-1)
    if bias is not None:
        y = y + bias
    return y.reshape(lead + (out_f,))


# ---- 2-D convolution ops on raw arrays -----------------------------------------------------------
def _out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _geom_args(geom):
    (sh, sw), (ph, pw), (dh, dw), groups = geom
    return sh, sw, ph, pw, dh, dw, groups


def _needed(ctx, *makers):
    """Each input's gradient from its maker (None: a non-Tensor input), made only when needed."""
    return tuple(make() if make is not None and need else None
                 for make, need in zip(makers, ctx.needs_input_grad))


class _Conv2d(Op):
    """out (N, O, OH, OW) = conv2d(x (N, C, H, W), w (O, C/groups, kh, kw)) + b (O,)."""

    @staticmethod
    def forward(ctx, x, w, b, geom):
        ctx.geom = geom
        xp = backend.xp_of(x)
        (sh, sw), (ph, pw), (dh, dw), _ = geom
        oh = _out_size(x.shape[2], w.shape[2], sh, ph, dh)
        ow = _out_size(x.shape[3], w.shape[3], sw, pw, dw)
        out = xp.empty((x.shape[0], w.shape[0], oh, ow), dtype=x.dtype)
        if out.size:
            backend.kernels_of(x).conv2d_forward(contiguous(x), contiguous(w),
                                                 None if b is None else contiguous(b), out,
                                                 *_geom_args(geom))
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs[:2]
        return _needed(ctx, lambda: _ConvTranspose2d.apply(g, w, None, ctx.geom, tuple(x.shape[2:])),
                       lambda: _weight_grad(x, g, tuple(w.shape[2:]), ctx.geom),
                       lambda: _BiasGrad.apply(g), None)


class _ConvTranspose2d(Op):
    """out (N, C, H, W) = conv_transpose2d(x (N, O, OH, OW), w (O, C/groups, kh, kw)) + b (C,):
    the adjoint of conv2d with the same geometry (the ``conv2d_backward_input`` kernel). (H, W)
    may exceed the smallest size whose convolution has (OH, OW) outputs (output_padding): the
    positions no window reaches get only the bias."""

    @staticmethod
    def forward(ctx, x, w, b, geom, out_hw):
        ctx.geom = geom
        xp = backend.xp_of(x)
        groups = geom[3]
        out = xp.zeros((x.shape[0], w.shape[1] * groups) + tuple(out_hw), dtype=x.dtype)
        if out.size and x.size:
            backend.kernels_of(x).conv2d_backward_input(contiguous(x), contiguous(w), out,
                                                        *_geom_args(geom))
        if b is not None:
            out += b.reshape(1, -1, 1, 1)
        return out

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.inputs[:2]
        return _needed(ctx, lambda: _conv_to(g, w, ctx.geom, tuple(x.shape[2:])),
                       lambda: _weight_grad(g, x, tuple(w.shape[2:]), ctx.geom),
                       lambda: _BiasGrad.apply(g), None, None)


class _Conv2dWeightGrad(Op):
    """grad_w (O, C/groups, kh, kw) of conv2d from its input x (N, C, H, W) and the gradient of
    its output gy (N, O, OH, OW), summed over the batch. Bilinear in (x, gy): for a cotangent G
    of grad_w, d/dx = conv_transpose2d(gy, G) and d/dgy = conv2d(x, G)."""

    @staticmethod
    def forward(ctx, x, gy, kernel, geom):
        ctx.geom = geom
        xp = backend.xp_of(x)
        groups = geom[3]
        gw = xp.empty((gy.shape[1], x.shape[1] // groups) + tuple(kernel), dtype=x.dtype)
        if x.shape[0] == 0 or gy.size == 0:
            gw[...] = 0
        else:
            backend.kernels_of(x).conv2d_backward_weight(contiguous(x), contiguous(gy), gw,
                                                         *_geom_args(geom))
        return gw

    @staticmethod
    def backward(ctx, gg):
        x, gy = ctx.inputs[:2]
        return _needed(ctx, lambda: _ConvTranspose2d.apply(gy, gg, None, ctx.geom, tuple(x.shape[2:])),
                       lambda: _Conv2d.apply(x, gg, None, ctx.geom), None, None)


class _BiasGrad(Op):
    """grad_b (O,) = g (N, O, OH, OW) summed over N, OH, OW (``conv2d_backward_bias``)."""

    @staticmethod
    def forward(ctx, g):
        ctx.shape = g.shape
        gb = backend.xp_of(g).empty((g.shape[1],), dtype=g.dtype)
        if g.size == 0:
            gb[...] = 0
        else:
            backend.kernels_of(g).conv2d_backward_bias(contiguous(g), gb)
        return gb

    @staticmethod
    def backward(ctx, gg):
        return gg.reshape(1, -1, 1, 1).expand(ctx.shape)


def _conv_hw(x: Tensor, kernel, geom) -> tuple[int, int]:
    (sh, sw), (ph, pw), (dh, dw), _ = geom
    return tuple(_out_size(n, k, s, p, d) for n, k, s, p, d in
                 zip(x.shape[2:], kernel, (sh, sw), (ph, pw), (dh, dw)))


def _conv_to(x: Tensor, w: Tensor, geom, out_hw) -> Tensor:
    """conv2d(x, w) cut to ``out_hw``. A transposed convolution whose output_padding is at least
    its stride has more rows than its input's convolution needs; the outputs those extra rows
    would make are not part of the adjoint."""
    y = _Conv2d.apply(x, w, None, geom)
    return y if tuple(y.shape[2:]) == tuple(out_hw) else y[:, :, :out_hw[0], :out_hw[1]]


def _weight_grad(x: Tensor, gy: Tensor, kernel, geom) -> Tensor:
    """Gradient of conv2d's weight; ``gy`` may be smaller than x's convolution (see _conv_to):
    the missing outputs have zero gradient."""
    conv_hw = _conv_hw(x, kernel, geom)
    if tuple(gy.shape[2:]) != conv_hw:
        gy = _pad(gy, [0, conv_hw[1] - gy.shape[3], 0, conv_hw[0] - gy.shape[2]])
    return _Conv2dWeightGrad.apply(x, gy, kernel, geom)


# ---- public convolutions -----------------------------------------------------------------------
def _check_geometry(stride, padding, dilation) -> None:
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(p < 0 for p in padding):
        raise RuntimeError("negative padding is not supported")
    if any(d <= 0 for d in dilation):
        raise RuntimeError("dilation should be greater than zero")


def _check_groups(groups: int, weight: Tensor) -> tuple[int, int]:
    """The weight's first two sizes, once ``groups`` is positive and divides the first."""
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if weight.shape[0] % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at "
                           f"dimension 0, but got weight of size {list(weight.shape)} instead")
    return weight.shape[0], weight.shape[1]


def _batched(input: Tensor, weight: Tensor, bias, name: str, nd: int):
    """(input with a batch dimension, whether one was added) after the shape checks common to
    conv{nd}d and conv_transpose{nd}d."""
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {name}, but "
                           f"got input of size: {list(input.shape)}")
    if weight.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional weight for {name}, but got weight of size "
                           f"{list(weight.shape)}")
    if bias is not None and bias.ndim != 1:
        raise RuntimeError(f"Expected 1-dimensional bias for {name}, but got bias of size "
                           f"{list(bias.shape)}")
    if input.dtype is not weight.dtype or (bias is not None and bias.dtype is not input.dtype):
        other = ("weight", weight) if input.dtype is not weight.dtype else ("bias", bias)
        raise RuntimeError(f"Input type ({short_name(input).lower()}) and {other[0]} type "
                           f"({short_name(other[1]).lower()}) should be the same")
    unbatched = input.ndim == nd + 1
    return (input.unsqueeze(0) if unbatched else input), unbatched


def _same_padding(input: Tensor, kernel, dilation, stride, nd: int):
    """PyTorch's padding='same': total d*(k-1) per dimension, the odd extra on the right side
    (padded explicitly, since the kernel pads symmetrically)."""
    if any(s != 1 for s in stride):
        raise RuntimeError("padding='same' is not supported for strided convolutions")
    total = [d * (k - 1) for d, k in zip(dilation, kernel)]
    extra = []
    for t in reversed(total):  # F.pad lists the last dimension first
        extra += [0, t % 2]
    if any(extra):
        input = _pad(input, extra)
    return input, tuple(t // 2 for t in total)


def _conv_nd(input, weight, bias, stride, padding, dilation, groups, nd: int):
    name = f"conv{nd}d"
    x, unbatched = _batched(input, weight, bias, name, nd)
    stride, dilation = ntuple(stride, nd, "stride"), ntuple(dilation, nd, "dilation")
    kernel = tuple(weight.shape[2:])
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0,) * nd
        elif padding == "same":
            x, padding = _same_padding(x, kernel, dilation, stride, nd)
        else:
            raise ValueError(f"Invalid padding string '{padding}', should be one of ['valid', 'same']")
    padding = ntuple(padding, nd, "padding")
    _check_geometry(stride, padding, dilation)
    out_c, in_per_group = _check_groups(groups, weight)
    if x.shape[1] != in_per_group * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {in_per_group * groups} channels, but got "
                           f"{x.shape[1]} channels instead")
    if bias is not None and bias.shape[0] != out_c:
        raise RuntimeError(f"Given weight of size {list(weight.shape)}, expected bias to be "
                           f"1-dimensional with {out_c} elements, but got bias of size "
                           f"{list(bias.shape)} instead")
    padded = [n + 2 * p for n, p in zip(x.shape[2:], padding)]
    dilated = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < k for p, k in zip(padded, dilated)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(map(str, padded))}). "
                           f"Kernel size: ({' x '.join(map(str, dilated))}). Kernel size can't be "
                           "greater than actual input size")
    (x, w, b), dtype = float_inputs(name, x, weight, bias)
    if nd == 1:  # a 1-D convolution is a 2-D one over a height of 1
        geom = ((1, stride[0]), (0, padding[0]), (1, dilation[0]), groups)
        y = _Conv2d.apply(x.unsqueeze(2), w.unsqueeze(2), b, geom).squeeze(2)
    else:
        y = _Conv2d.apply(x, w, b, (stride, padding, dilation, groups))
    return cast_back(y.squeeze(0) if unbatched else y, dtype)


def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """1-D convolution (cross-correlation). input (N, C_in, L) or (C_in, L), weight
    (C_out, C_in/groups, k), bias (C_out,) -> (N, C_out, L_out) with
    L_out = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1. padding may be an int, a
    1-tuple, 'valid' or 'same'."""
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
           dilation=1, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation). input (N, C_in, H, W) or (C_in, H, W), weight
    (C_out, C_in/groups, kH, kW), bias (C_out,) -> (N, C_out, H_out, W_out) with
    H_out = floor((H + 2 padding[0] - dilation[0] (kH - 1) - 1) / stride[0]) + 1 (W alike).
    padding may be an int, a pair, 'valid' or 'same' (stride 1; an odd total goes to the
    bottom/right, as PyTorch)."""
    return _conv_nd(input, weight, bias, stride, padding, dilation, groups, 2)


def _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation,
                       nd: int):
    name = f"conv_transpose{nd}d"
    x, unbatched = _batched(input, weight, bias, name, nd)
    if isinstance(padding, str):
        raise TypeError(f"{name}(): argument 'padding' must be an int or a tuple of ints, not str "
                        f"('{padding}')")
    stride, padding = ntuple(stride, nd, "stride"), ntuple(padding, nd, "padding")
    dilation, output_padding = ntuple(dilation, nd, "dilation"), ntuple(output_padding, nd, "output_padding")
    _check_geometry(stride, padding, dilation)
    if any(op < 0 for op in output_padding):
        raise RuntimeError("negative output_padding is not supported")
    if any(op >= s and op >= d for op, s, d in zip(output_padding, stride, dilation)):
        raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got "
                           f"output_padding={list(output_padding)}, stride={list(stride)}, "
                           f"dilation={list(dilation)}")
    in_c, out_per_group = _check_groups(groups, weight)
    if x.shape[1] != in_c:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected "
                           f"input{list(x.shape)} to have {in_c} channels, but got {x.shape[1]} "
                           "channels instead")
    if bias is not None and bias.shape[0] != out_per_group * groups:
        raise RuntimeError(f"Given transposed=1, weight of size {list(weight.shape)}, expected bias to "
                           f"be 1-dimensional with {out_per_group * groups} elements, but got bias of "
                           f"size {list(bias.shape)} instead")
    kernel = tuple(weight.shape[2:])
    out_hw = tuple((n - 1) * s - 2 * p + d * (k - 1) + op + 1 for n, s, p, d, k, op in
                   zip(x.shape[2:], stride, padding, dilation, kernel, output_padding))
    if any(o <= 0 for o in out_hw):
        raise RuntimeError(f"{name}: the output size {list(out_hw)} is too small (input of size "
                           f"{list(x.shape)}, kernel {list(kernel)}, padding {list(padding)})")
    (x, w, b), dtype = float_inputs(name, x, weight, bias)
    if nd == 1:
        geom = ((1, stride[0]), (0, padding[0]), (1, dilation[0]), groups)
        y = _ConvTranspose2d.apply(x.unsqueeze(2), w.unsqueeze(2), b, geom, (1,) + out_hw).squeeze(2)
    else:
        y = _ConvTranspose2d.apply(x, w, b, (stride, padding, dilation, groups), out_hw)
    return cast_back(y.squeeze(0) if unbatched else y, dtype)


def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """1-D transposed convolution. input (N, C_in, L) or (C_in, L), weight
    (C_in, C_out/groups, k), bias (C_out,) -> (N, C_out, L_out) with
    L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1."""
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 1)


def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride=1, padding=0,
                     output_padding=0, groups: int = 1, dilation=1) -> Tensor:
    """2-D transposed convolution (the gradient of conv2d w.r.t. its input). input
    (N, C_in, H, W) or (C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out,) ->
    (N, C_out, H_out, W_out) with
    H_out = (H - 1) stride[0] - 2 padding[0] + dilation[0] (kH - 1) + output_padding[0] + 1."""
    return _conv_transpose_nd(input, weight, bias, stride, padding, output_padding, groups, dilation, 2)


# ---- im2col / col2im ---------------------------------------------------------------------------
def _one_hot_weight(channels: int, kernel, like: Tensor) -> Tensor:
    """(C kh kw, 1, kh, kw) weights picking one kernel tap each: as a grouped (groups = C)
    convolution it copies every tap of every channel into its own output channel, ordered
    (c, i, j) like PyTorch's unfold."""
    k = kernel[0] * kernel[1]
    eye = np.tile(np.eye(k, dtype=like._data.dtype), (channels, 1)).reshape(channels * k, 1, *kernel)
    arr = backend.xp_of(like._data).asarray(eye) if like.is_cuda else eye
    return Tensor._make(arr)


def _fold_args(kernel_size, dilation, padding, stride):
    kernel = ntuple(kernel_size, 2, "kernel_size")
    dilation, padding, stride = (ntuple(dilation, 2, "dilation"), ntuple(padding, 2, "padding"),
                                 ntuple(stride, 2, "stride"))
    if any(k <= 0 for k in kernel):
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_size={list(kernel)}")
    _check_geometry(stride, padding, dilation)
    return kernel, (stride, padding, dilation)


def unfold(input: Tensor, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Extract sliding local blocks (im2col). input (N, C, H, W) or (C, H, W) ->
    (N, C kh kw, L), L = number of block positions = prod over (H, W) of
    floor((size + 2 padding - dilation (k - 1) - 1) / stride) + 1."""
    if input.ndim not in (3, 4):
        raise RuntimeError(f"Input Error: Only 3D or 4D input Tensors are supported (got {input.ndim}D)")
    kernel, (stride, padding, dilation) = _fold_args(kernel_size, dilation, padding, stride)
    x = input.unsqueeze(0) if input.ndim == 3 else input
    c = x.shape[1]
    padded = [n + 2 * p for n, p in zip(x.shape[2:], padding)]
    dilated = [d * (k - 1) + 1 for d, k in zip(dilation, kernel)]
    if any(p < k for p, k in zip(padded, dilated)) or c == 0:
        raise RuntimeError(f"Given input with spatial size {list(x.shape[2:])}, kernel_size={list(kernel)}, "
                           f"dilation={list(dilation)}, padding={list(padding)}, calculated shape of the "
                           "array of sliding blocks is non-positive.")
    (x,), dtype = float_inputs("unfold", x)
    cols = _Conv2d.apply(x, _one_hot_weight(c, kernel, x), None, (stride, padding, dilation, c))
    cols = cols.reshape(cols.shape[0], cols.shape[1], cols.shape[2] * cols.shape[3])  # -1 fails for N = 0
    return cast_back(cols.squeeze(0) if input.ndim == 3 else cols, dtype)


def fold(input: Tensor, output_size, kernel_size, dilation=1, padding=0, stride=1) -> Tensor:
    """Combine sliding local blocks into a tensor, summing overlaps (col2im, the adjoint of
    unfold). input (N, C kh kw, L) or (C kh kw, L) -> (N, C, H, W) with (H, W) = output_size."""
    if input.ndim not in (2, 3):
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
                           f"supported (got {input.ndim}D)")
    out_hw = ntuple(output_size, 2, "output_size")
    kernel, (stride, padding, dilation) = _fold_args(kernel_size, dilation, padding, stride)
    cols = input.unsqueeze(0) if input.ndim == 2 else input
    k = kernel[0] * kernel[1]
    if cols.shape[1] % k:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of "
                           f"kernel_size, but got input.size(1)={cols.shape[1]} and "
                           f"kernel_size={tuple(kernel)}")
    blocks = [_out_size(n, kk, s, p, d) for n, kk, s, p, d in zip(out_hw, kernel, stride, padding, dilation)]
    if any(b < 1 for b in blocks) or cols.shape[2] != blocks[0] * blocks[1]:
        raise RuntimeError(f"Given output_size={tuple(out_hw)}, kernel_size={tuple(kernel)}, "
                           f"dilation={tuple(dilation)}, padding={tuple(padding)}, stride={tuple(stride)}, "
                           f"expected size of input's dimension 2 to match the calculated number of "
                           f"sliding blocks {blocks[0]} * {blocks[1]} = {blocks[0] * blocks[1]}, but got "
                           f"input.size(2)={cols.shape[2]}.")
    c = cols.shape[1] // k
    (cols,), dtype = float_inputs("fold", cols)
    grid = cols.reshape(cols.shape[0], cols.shape[1], blocks[0], blocks[1])
    out = _ConvTranspose2d.apply(grid, _one_hot_weight(c, kernel, cols), None,
                                 (stride, padding, dilation, c), out_hw)
    return cast_back(out.squeeze(0) if input.ndim == 2 else out, dtype)
