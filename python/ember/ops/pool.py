"""Pooling, unpooling and resampling on the pool kernels (``max_pool2d_*``, ``avg_pool2d_*``,
``adaptive_*``, ``max_unpool2d_*``, ``upsample_*``).

Every kernel works on (N, C, H, W) arrays; 1-D variants run with a height of 1. Apart from the
max selection itself, each of these maps is linear in its input, with a kernel for the map and
one for its adjoint: the backward of a map is its adjoint, run as another differentiable op, so
gradients of any order work (the max pools' backward is a scatter at the saved indices, whose
adjoint is a gather). ``pixel_shuffle``/``pixel_unshuffle`` are reshape/permute composites.
"""
from __future__ import annotations

import math
import warnings
from typing import NamedTuple

from .. import backend
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import cast_back, contiguous, float_inputs, index_array, ntuple

__all__ = [
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "interpolate",
    "max_pool1d",
    "max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "pixel_shuffle",
    "pixel_unshuffle",
    "upsample",
    "upsample_bilinear",
    "upsample_nearest",
]

# Each plane map's kernel -> the kernel of its adjoint. Kernels without indices take
# (src, dst, *args); kernels with indices take (src, indices, dst).
_ADJOINT = {
    "avg_pool2d_forward": "avg_pool2d_backward", "avg_pool2d_backward": "avg_pool2d_forward",
    "adaptive_avg_pool2d_forward": "adaptive_avg_pool2d_backward",
    "adaptive_avg_pool2d_backward": "adaptive_avg_pool2d_forward",
    "upsample_nearest2d_forward": "upsample_nearest2d_backward",
    "upsample_nearest2d_backward": "upsample_nearest2d_forward",
    "upsample_bilinear2d_forward": "upsample_bilinear2d_backward",
    "upsample_bilinear2d_backward": "upsample_bilinear2d_forward",
    "max_pool2d_backward": "max_unpool2d_backward",  # scatter-add <-> gather
    "max_unpool2d_backward": "max_pool2d_backward",
    "max_unpool2d_forward": "max_unpool2d_backward",
}


class _PlaneMap(NamedTuple):
    """A fixed linear map from (N, C, *in_hw) to (N, C, *out_hw), run by kernel ``name``."""
    name: str
    in_hw: tuple
    out_hw: tuple
    args: tuple = ()
    indices: object = None  # int64 array, for the scatter/gather kernels

    def adjoint(self) -> _PlaneMap:
        return _PlaneMap(_ADJOINT[self.name], self.out_hw, self.in_hw, self.args, self.indices)

    def __call__(self, x):
        out = backend.xp_of(x).empty(tuple(x.shape[:2]) + tuple(self.out_hw), dtype=x.dtype)
        if out.size:
            kernel = getattr(backend.kernels_of(x), self.name)
            if self.indices is None:
                kernel(contiguous(x), out, *self.args)
            else:
                kernel(contiguous(x), self.indices, out)
        return out


class _ApplyPlaneMap(Op):
    @staticmethod
    def forward(ctx, x, plane_map):
        ctx.map = plane_map
        return plane_map(x)

    @staticmethod
    def backward(ctx, g):
        return _ApplyPlaneMap.apply(g, ctx.map.adjoint()), None


class _MaxPool2d(Op):
    """(out, indices) of max pooling over ``window`` (a kernel argument tuple), or of adaptive
    max pooling when ``window`` is None; the backward scatters into the argmax positions."""

    @staticmethod
    def forward(ctx, x, window, out_hw):
        xp = backend.xp_of(x)
        shape = tuple(x.shape[:2]) + tuple(out_hw)
        out = xp.empty(shape, dtype=x.dtype)
        idx = xp.empty(shape, dtype="int64")
        if out.size:
            kernels = backend.kernels_of(x)
            if window is None:
                kernels.adaptive_max_pool2d_forward(contiguous(x), out, idx)
            else:
                kernels.max_pool2d_forward(contiguous(x), out, idx, *window)
        ctx.map = _PlaneMap("max_pool2d_backward", tuple(out_hw), tuple(x.shape[2:]), (), idx)
        return out, idx

    @staticmethod
    def backward(ctx, g, _):
        return _ApplyPlaneMap.apply(g, ctx.map), None, None


# ---- argument checks -----------------------------------------------------------------------------
def _pool_input(input: Tensor, nd: int, name: str) -> tuple[Tensor, bool]:
    """(input as (N, C, H, W), whether it had no batch dimension)."""
    if input.ndim not in (nd + 1, nd + 2) or (input.numel() == 0 and any(s == 0 for s in input.shape[-nd:])):
        if nd == 1:
            raise RuntimeError(f"{name}() Expected 2D or 3D input tensor, but got {list(input.shape)}")
        raise RuntimeError(f"{name}: non-empty 3D or 4D (batch mode) tensor expected for input, but got "
                           f"input of size {list(input.shape)}")
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    return (x.unsqueeze(2) if nd == 1 else x), unbatched


def _finish(y: Tensor, nd: int, unbatched: bool) -> Tensor:
    if nd == 1:
        y = y.squeeze(2)
    return y.squeeze(0) if unbatched else y


def _pool_size(n: int, k: int, s: int, p: int, d: int, ceil_mode: bool) -> int:
    """PyTorch's pooling output size; in ceil mode the last window must start inside the input
    or the left padding."""
    span = n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)
    out = span // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def _window(x: Tensor, nd: int, kernel_size, stride, padding, dilation, ceil_mode, name: str):
    """((kh, kw, sh, sw, ph, pw, dh, dw), (OH, OW)) for a pooling window, checked like PyTorch."""
    k = ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) \
        else ntuple(stride, nd, "stride")
    p, d = ntuple(padding, nd, "padding"), ntuple(dilation, nd, "dilation")
    if nd == 1:
        k, s, p, d = (1,) + k, (1,) + s, (0,) + p, (1,) + d
    if any(v <= 0 for v in k):
        raise RuntimeError(f"{name}: kernel_size must be greater than zero, but got {list(k[2 - nd:])}")
    if any(v <= 0 for v in s):
        raise RuntimeError(f"{name}: stride must be greater than zero, but got {list(s[2 - nd:])}")
    if any(v <= 0 for v in d):
        raise RuntimeError(f"{name}: dilation must be greater than zero, but got {list(d[2 - nd:])}")
    if any(v < 0 or v > kk // 2 for v, kk in zip(p, k)):
        raise RuntimeError(f"pad should be at most half of effective kernel size, but got "
                           f"pad={list(p[2 - nd:])}, kernel_size={list(k[2 - nd:])} and "
                           f"dilation={list(d[2 - nd:])}")
    out_hw = tuple(_pool_size(n, kk, ss, pp, dd, ceil_mode)
                   for n, kk, ss, pp, dd in zip(x.shape[2:], k, s, p, d))
    if any(o < 1 for o in out_hw):
        ins = "x".join(str(v) for v in (x.shape[1],) + tuple(x.shape[4 - nd:]))
        outs = "x".join(str(v) for v in (x.shape[1],) + out_hw[2 - nd:])
        raise RuntimeError(f"Given input size: ({ins}). Calculated output size: ({outs}). Output size "
                           "is too small")
    return (k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1]), out_hw


# ---- max / average pooling ----------------------------------------------------------------------
def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, nd):
    name = f"max_pool{nd}d"
    x, unbatched = _pool_input(input, nd, name)
    window, out_hw = _window(x, nd, kernel_size, stride, padding, dilation, ceil_mode, name)
    (x,), dtype = float_inputs(name, x)
    out, idx = _MaxPool2d.apply(x, window, out_hw)
    out = cast_back(_finish(out, nd, unbatched), dtype)
    return (out, _finish(idx, nd, unbatched)) if return_indices else out


def max_pool1d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """1-D max pooling. input (N, C, L) or (C, L) -> (N, C, L_out),
    L_out = floor((L + 2 padding - dilation (k - 1) - 1) / stride) + 1 (ceil with ceil_mode, the
    last window starting inside the input or the left padding). With return_indices, also the
    int64 positions of the maxima along L."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(input: Tensor, kernel_size, stride=None, padding=0, dilation=1, ceil_mode: bool = False,
               return_indices: bool = False):
    """2-D max pooling. input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out), sizes as
    max_pool1d per dimension; stride defaults to kernel_size. With return_indices, also the int64
    flat positions h * W + w of the maxima (what max_unpool2d takes)."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override, nd):
    name = f"avg_pool{nd}d"
    x, unbatched = _pool_input(input, nd, name)
    window, out_hw = _window(x, nd, kernel_size, stride, padding, 1, ceil_mode, name)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    (x,), dtype = float_inputs(name, x)
    args = window[:6] + (bool(count_include_pad), int(divisor_override or 0))
    y = _ApplyPlaneMap.apply(x, _PlaneMap("avg_pool2d_forward", tuple(x.shape[2:]), out_hw, args))
    return cast_back(_finish(y, nd, unbatched), dtype)


def avg_pool1d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-D average pooling. input (N, C, L) or (C, L) -> (N, C, L_out) (sizes as max_pool1d
    without dilation). count_include_pad: whether the zero padding counts in the divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(input: Tensor, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-D average pooling. input (N, C, H, W) or (C, H, W) -> (N, C, H_out, W_out).
    divisor_override, if given, replaces the window size as the divisor."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


# ---- adaptive pooling ---------------------------------------------------------------------------
def _adaptive_size(x: Tensor, output_size, nd: int) -> tuple[int, int]:
    """(OH, OW); None entries keep the input's size."""
    if isinstance(output_size, (list, tuple)):
        if len(output_size) != nd:
            raise ValueError(f"adaptive pooling: output_size must have {nd} elements, got {output_size}")
        sizes = tuple(output_size)
    else:
        sizes = (output_size,) * nd
    sizes = tuple(int(n) if s is None else int(s) for s, n in zip(sizes, x.shape[4 - nd:]))
    if any(s < 0 for s in sizes):
        raise RuntimeError(f"adaptive pooling: elements of output_size must be non-negative, got {list(sizes)}")
    return ((1,) + sizes) if nd == 1 else sizes


def _adaptive_avg(input, output_size, nd):
    name = f"adaptive_avg_pool{nd}d"
    x, unbatched = _pool_input(input, nd, name)
    out_hw = _adaptive_size(x, output_size, nd)
    (x,), dtype = float_inputs(name, x)
    y = _ApplyPlaneMap.apply(x, _PlaneMap("adaptive_avg_pool2d_forward", tuple(x.shape[2:]), out_hw))
    return cast_back(_finish(y, nd, unbatched), dtype)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    """Adaptive average pooling to L_out = output_size. input (N, C, L) or (C, L) ->
    (N, C, L_out); output row i averages input rows [floor(i L / L_out), ceil((i + 1) L / L_out))."""
    return _adaptive_avg(input, output_size, 1)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Adaptive average pooling. input (N, C, H, W) or (C, H, W) -> (N, C, *output_size);
    output_size an int or a pair (None keeps that input size)."""
    return _adaptive_avg(input, output_size, 2)


def _adaptive_max(input, output_size, return_indices, nd):
    name = f"adaptive_max_pool{nd}d"
    x, unbatched = _pool_input(input, nd, name)
    out_hw = _adaptive_size(x, output_size, nd)
    (x,), dtype = float_inputs(name, x)
    out, idx = _MaxPool2d.apply(x, None, out_hw)
    out = cast_back(_finish(out, nd, unbatched), dtype)
    return (out, _finish(idx, nd, unbatched)) if return_indices else out


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive max pooling. input (N, C, L) or (C, L) -> (N, C, output_size) (and the int64
    positions of the maxima with return_indices)."""
    return _adaptive_max(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive max pooling. input (N, C, H, W) or (C, H, W) -> (N, C, *output_size) (and the
    int64 flat positions of the maxima with return_indices)."""
    return _adaptive_max(input, output_size, return_indices, 2)


# ---- unpooling ----------------------------------------------------------------------------------
def _max_unpool(input, indices, kernel_size, stride, padding, output_size, nd):
    name = f"max_unpool{nd}d"
    if input.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{name}: Expected {nd + 1}D or {nd + 2}D input, but got input of size "
                           f"{list(input.shape)}")
    if tuple(indices.shape) != tuple(input.shape):
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input.shape)}) but got indices tensor with shape: {list(indices.shape)}")
    if indices.is_floating_point():
        raise RuntimeError(f"{name}: expected indices to have an integer dtype, got {indices.dtype.name}")
    k = ntuple(kernel_size, nd, "kernel_size")
    s = k if stride is None else ntuple(stride, nd, "stride")
    p = ntuple(padding, nd, "padding")
    spatial = tuple(input.shape[-nd:])
    default = tuple((n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(spatial, s, p, k))
    if output_size is None:
        size = default
    else:
        size = tuple(int(v) for v in output_size)[-nd:]
        if len(size) != nd:
            raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, "
                             f"but it has a length of '{len(tuple(output_size))}'")
        for v, dflt, ss in zip(size, default, s):
            if not dflt - ss < v < dflt + ss:
                raise ValueError(f"invalid output_size {list(size)} (dim 0 must be between "
                                 f"{[d - st for d, st in zip(default, s)]} and "
                                 f"{[d + st for d, st in zip(default, s)]})")
    unbatched = input.ndim == nd + 1
    x = input.unsqueeze(0) if unbatched else input
    idx = indices.unsqueeze(0) if unbatched else indices
    if nd == 1:
        x, idx, size = x.unsqueeze(2), idx.unsqueeze(2), (1,) + size
    (x,), dtype = float_inputs(name, x)
    plane_map = _PlaneMap("max_unpool2d_forward", tuple(x.shape[2:]), size, (), index_array(idx))
    y = _ApplyPlaneMap.apply(x, plane_map)
    return cast_back(_finish(y, nd, unbatched), dtype)


def max_unpool1d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of max_pool1d: input and indices (N, C, L) or (C, L) -> (N, C, L_out),
    zeros except input at indices; L_out = (L - 1) stride - 2 padding + kernel_size unless
    output_size is given."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 1)


def max_unpool2d(input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0,
                 output_size=None) -> Tensor:
    """Partial inverse of max_pool2d: input and indices (N, C, H, W) or (C, H, W) ->
    (N, C, H_out, W_out), zeros except input at the flat indices;
    H_out = (H - 1) stride[0] - 2 padding[0] + kernel_size[0] unless output_size is given."""
    return _max_unpool(input, indices, kernel_size, stride, padding, output_size, 2)


# ---- resampling ---------------------------------------------------------------------------------
_MODES = ("nearest", "linear", "bilinear", "area")


def interpolate(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None,
                recompute_scale_factor=None, antialias: bool = False) -> Tensor:
    """Resize (N, C, L) or (N, C, H, W) inputs to ``size`` or ``floor(size * scale_factor)``.
    Modes: 'nearest' (source index floor(dst * in / out)), 'linear' (3-D) and 'bilinear' (4-D)
    with PyTorch's source coordinates for align_corners True/False, and 'area' (adaptive average
    pooling). The source coordinates always use the ratio in/out of the sizes, i.e. PyTorch's
    recompute_scale_factor=True: identical to PyTorch whenever size * scale_factor is an integer."""
    if mode not in _MODES:
        raise NotImplementedError(f"interpolate: mode '{mode}' is not supported by Ember (supported: "
                                  f"{', '.join(_MODES)})")
    if antialias:
        raise NotImplementedError("interpolate: antialias=True is not supported by Ember")
    nd = input.ndim - 2
    if nd not in (1, 2):
        raise NotImplementedError(f"Input Error: Only 3D and 4D input Tensors supported (got {input.ndim}D) "
                                  f"for the modes: nearest | linear | bilinear | area (got {mode})")
    if mode == "linear" and nd != 1:
        raise NotImplementedError(f"Got {input.ndim}D input, but linear mode needs 3D input")
    if mode == "bilinear" and nd != 2:
        raise NotImplementedError(f"Got {input.ndim}D input, but bilinear mode needs 4D input")
    if align_corners is not None and mode in ("nearest", "area"):
        raise ValueError("align_corners option can only be set with the interpolating modes: "
                         "linear | bilinear | bicubic | trilinear")
    if (size is None) == (scale_factor is None):
        raise ValueError("only one of size or scale_factor should be defined" if size is not None
                         else "either size or scale_factor should be defined")
    spatial = tuple(input.shape[2:])
    if size is not None:
        out = tuple(int(v) for v in size) if isinstance(size, (list, tuple)) else (int(size),) * nd
        if len(out) != nd:
            raise ValueError(f"Input and output must have the same number of spatial dimensions, but got "
                             f"input with spatial dimensions of {list(spatial)} and output size of "
                             f"{list(out)}. Please provide input tensor in (N, C, d1, d2, ...,dK) format "
                             "and output size in (o1, o2, ...,oK) format.")
    else:
        scales = tuple(scale_factor) if isinstance(scale_factor, (list, tuple)) else (scale_factor,) * nd
        if len(scales) != nd:
            raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but "
                             f"got input with spatial dimensions of {list(spatial)} and scale_factor of "
                             f"shape {list(scales)}.")
        out = tuple(math.floor(n * float(s)) for n, s in zip(spatial, scales))
    if any(o <= 0 for o in out) or any(n <= 0 for n in spatial):
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"({', '.join(map(str, spatial))}) and output ({', '.join(map(str, out))})")
    if mode == "area":
        return adaptive_avg_pool1d(input, out) if nd == 1 else adaptive_avg_pool2d(input, out)
    x = input.unsqueeze(2) if nd == 1 else input
    out_hw = ((1,) + out) if nd == 1 else out
    (x,), dtype = float_inputs("interpolate", x)
    if mode == "nearest":
        plane_map = _PlaneMap("upsample_nearest2d_forward", tuple(x.shape[2:]), out_hw)
    else:
        plane_map = _PlaneMap("upsample_bilinear2d_forward", tuple(x.shape[2:]), out_hw,
                              (bool(align_corners),))
    y = _ApplyPlaneMap.apply(x, plane_map)
    return cast_back(y.squeeze(2) if nd == 1 else y, dtype)


def upsample(input: Tensor, size=None, scale_factor=None, mode: str = "nearest", align_corners=None) -> Tensor:
    """Deprecated alias of ``interpolate`` (as in PyTorch)."""
    warnings.warn("nn.functional.upsample is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='nearest')``."""
    warnings.warn("nn.functional.upsample_nearest is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size=None, scale_factor=None) -> Tensor:
    """Deprecated: ``interpolate(..., mode='bilinear', align_corners=True)``."""
    warnings.warn("nn.functional.upsample_bilinear is deprecated. Use nn.functional.interpolate instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---- pixel shuffle ------------------------------------------------------------------------------
def _shuffle_factor(input: Tensor, factor, name: str, arg: str) -> int:
    r = int(factor)
    if input.ndim < 3:
        raise RuntimeError(f"{name} expects input to have at least 3 dimensions, but got input "
                           f"with {input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{name} expects a positive {arg}, but got {r}")
    return r


def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C r^2, H, W) -> (*, C, H r, W r): out[c, h r + i, w r + j] = in[c r^2 + i r + j, h, w]."""
    r = _shuffle_factor(input, upscale_factor, "pixel_shuffle", "upscale_factor")
    *lead, c, h, w = input.shape
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the "
                           f"square of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    n = len(lead)
    x = input.reshape(*lead, c // (r * r), r, r, h, w)
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return x.reshape(*lead, c // (r * r), h * r, w * r)


def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H r, W r) -> (*, C r^2, H, W), the inverse of pixel_shuffle."""
    r = _shuffle_factor(input, downscale_factor, "pixel_unshuffle", "downscale_factor")
    *lead, c, h, w = input.shape
    if h % r:
        raise RuntimeError(f"pixel_unshuffle expects height to be divisible by downscale_factor, but "
                           f"input.size(-2)={h} is not divisible by {r}")
    if w % r:
        raise RuntimeError(f"pixel_unshuffle expects width to be divisible by downscale_factor, but "
                           f"input.size(-1)={w} is not divisible by {r}")
    n = len(lead)
    x = input.reshape(*lead, c, h // r, r, w // r, r)
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return x.reshape(*lead, c * r * r, h // r, w // r)
