"""Rows of the nn.functional layers beyond core: pooling, padding, resampling, embedding, folding, distances."""
from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ...nn import functional as F
from .. import attention, conv, pool
from ._base import _NN_FUNCTIONAL, OpInfo, Sample, _listed, _shape_errors, _t, to_numpy
from .core import _pair, sigmoid_ref, softmax_ref

_POOL = ("tests/test_functional_pool.py", "tests/test_pool.py")
_CONV = ("tests/test_functional_conv.py",)
_ATTN = ("tests/test_functional_attention.py", "tests/test_nn_transformer.py")


def _inputs(*cases):
    """sample_inputs over one-input cases (shape, extra positional args, kwargs); a shape that
    starts with "T" is built transposed (non-contiguous)."""
    @_listed()
    def gen(mk, ints):
        for shape, args, kwargs in cases:
            t = shape[0] == "T"
            yield Sample((mk(*shape[t:], transposed=t),) + tuple(args), dict(kwargs), f"{shape} {args} {kwargs}")
    return gen


def _errors(*cases):
    """Bad inputs: (make_args(zeros), kwargs, exception) with zeros(*shape, dtype=float64) a zero Tensor."""
    def gen(device):
        for make_args, kwargs, exc in cases:
            yield make_args(lambda *s, dtype=_dtype.float64: _t(np.zeros(s), device, dtype)), kwargs, exc
    return gen


def _numpy_kwargs(ref):
    """A reference whose Tensor keyword arguments (masks, weights) arrive as NumPy, like its positional ones."""
    def call(*args, **kwargs):
        return ref(*args, **{k: to_numpy(v) for k, v in kwargs.items()})
    return call


def _batched(nd):
    """A reference over (N, C, *spatial) written for batched inputs, accepting unbatched ones too."""
    def wrap(ref):
        def call(x, *args, **kwargs):
            out = ref(x[None] if x.ndim == nd + 1 else x, *args, **kwargs)
            return out[0] if x.ndim == nd + 1 else out
        return call
    return wrap


# ---- pooling ------------------------------------------------------------------------------------
def _pool_len(n, k, s, p, d, ceil_mode):
    out = (n + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil_mode else 0)) // s + 1
    return out - 1 if ceil_mode and (out - 1) * s >= n + p else out


def _int1(v):
    return v[0] if isinstance(v, (tuple, list)) else v


@_batched(1)
def _max_pool1d_ref(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    k, p, d = _int1(kernel_size), _int1(padding), _int1(dilation)
    s = _int1(stride) if stride else k
    n = x.shape[-1]
    cols = []
    for o in range(_pool_len(n, k, s, p, d, ceil_mode)):
        taps = [o * s - p + j * d for j in range(k)]
        cols.append(x[..., [t for t in taps if 0 <= t < n]].max(-1))
    return np.stack(cols, -1)


@_batched(1)
def _avg_pool1d_ref(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    k, p = _int1(kernel_size), _int1(padding)
    s = _int1(stride) if stride else k
    n = x.shape[-1]
    cols = []
    for o in range(_pool_len(n, k, s, p, 1, ceil_mode)):
        start = o * s - p
        end = min(start + k, n + p)
        lo, hi = max(start, 0), min(end, n)
        cols.append(x[..., lo:hi].sum(-1) / ((end - start) if count_include_pad else (hi - lo)))
    return np.stack(cols, -1)


def _adaptive_windows(sizes, output_size):
    outs = output_size if isinstance(output_size, (tuple, list)) else (output_size,) * len(sizes)
    outs = [n if o is None else o for n, o in zip(sizes, outs)]
    return [[slice(i * n // o, -(-(i + 1) * n // o)) for i in range(o)] for n, o in zip(sizes, outs)]


def _adaptive_ref(nd, reduce):
    @_batched(nd)
    def ref(x, output_size, return_indices=False):
        wins = _adaptive_windows(x.shape[2:], output_size)
        out = np.zeros(x.shape[:2] + tuple(len(w) for w in wins))
        for idx in np.ndindex(*out.shape[2:]):
            window = x[(Ellipsis,) + tuple(w[i] for w, i in zip(wins, idx))]
            out[(Ellipsis,) + idx] = reduce(window.reshape(x.shape[:2] + (math.prod(window.shape[2:]),)), -1)
        return out
    return ref


def _unpool_ref(nd):
    @_batched(nd)
    def ref(x, indices, kernel_size, stride=None, padding=0, output_size=None):
        k, p = _ntuple(kernel_size, nd), _ntuple(padding, nd)
        s = _ntuple(stride, nd) if stride else k
        size = tuple(output_size)[-nd:] if output_size is not None else \
            tuple((n - 1) * ss - 2 * pp + kk for n, ss, pp, kk in zip(x.shape[2:], s, p, k))
        flat = x.shape[:2] + (math.prod(x.shape[2:]),)
        out = np.zeros(x.shape[:2] + (math.prod(size),))
        np.put_along_axis(out, indices.reshape(flat), x.reshape(flat), -1)
        return out.reshape(x.shape[:2] + size)
    return ref


def _ntuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


@_listed()
def _unpool1d_samples(mk, ints):
    x = mk(2, 3, 7)
    _, idx = pool.max_pool1d(x, 2, return_indices=True)
    yield Sample((mk(2, 3, 3), idx, 2), {}, "k2 (2, 3, 3)")
    _, idx = pool.max_pool1d(x[0], 2, padding=1, return_indices=True)  # windows that do not overlap
    yield Sample((mk(3, 4), idx, 2), {"padding": 1, "output_size": (7,)}, "unbatched, padding, output_size")
    _, idx = pool.max_pool1d(mk(0, 2, 4), 2, return_indices=True)
    yield Sample((mk(0, 2, 2), idx, 2), {}, "empty batch")


@_listed()
def _unpool2d_samples(mk, ints):
    _, idx = pool.max_pool2d(mk(1, 2, 5, 4), 2, return_indices=True)
    yield Sample((mk(1, 2, 2, 2), idx, 2), {"output_size": (5, 4)}, "k2 output_size (5, 4)")
    _, idx = pool.max_pool2d(mk(3, 4, 6), (2, 3), return_indices=True)
    yield Sample((mk(3, 2, 2, transposed=True), idx, (2, 3)), {}, "unbatched, transposed values")


_POOL1D = [((2, 3, 7), (3,), {}), ((3, 6), (2,), {"stride": 1}), (("T", 1, 4, 5), (2,), {"padding": 1}),
           ((1, 2, 6), (3,), {"stride": 2, "ceil_mode": True}), ((0, 2, 4), (2,), {})]
_ADAPTIVE1D = [((2, 3, 7), (3,), {}), ((3, 5), (5,), {}), (("T", 2, 4, 5), (2,), {}), ((1, 2, 4), (6,), {}),
               ((0, 2, 4), (2,), {})]
_ADAPTIVE2D = [((2, 3, 5, 7), ((2, 3),), {}), ((2, 4, 4), (3,), {}), (("T", 1, 2, 4, 5), ((None, 2),), {}),
               ((0, 1, 3, 3), (2,), {})]
_NO_BATCH_1D = (lambda z: (z(3), 2), {}, RuntimeError)


def _pool_rows() -> list[OpInfo]:
    # every pooling backward is itself a differentiable op (the max pools' a scatter at the argmax, whose
    # adjoint is a gather), so gradgradcheck runs on all of them
    return [
        OpInfo("max_pool1d", F.max_pool1d, _inputs(
            *_POOL1D, ((2, 2, 7), (2,), {"dilation": 2, "return_indices": True})),
            op=(pool._MaxPool2d,), kernels=("max_pool2d_forward", "max_pool2d_backward"),
            reference=_max_pool1d_ref, errors=_errors(_NO_BATCH_1D), files=_POOL),
        OpInfo("avg_pool1d", F.avg_pool1d, _inputs(
            *_POOL1D, ((1, 2, 5), (3,), {"padding": 1, "count_include_pad": False, "ceil_mode": True})),
            op=(pool._ApplyPlaneMap,), kernels=("avg_pool2d_forward", "avg_pool2d_backward"),
            reference=_avg_pool1d_ref, k=3, errors=_errors(_NO_BATCH_1D), files=_POOL),
        OpInfo("adaptive_avg_pool1d", F.adaptive_avg_pool1d, _inputs(*_ADAPTIVE1D), op=(pool._ApplyPlaneMap,),
               kernels=("adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward"),
               reference=_adaptive_ref(1, np.mean), k=3, errors=_errors(_NO_BATCH_1D), files=_POOL),
        OpInfo("adaptive_avg_pool2d", F.adaptive_avg_pool2d, _inputs(*_ADAPTIVE2D), op=(pool._ApplyPlaneMap,),
               kernels=("adaptive_avg_pool2d_forward", "adaptive_avg_pool2d_backward"),
               reference=_adaptive_ref(2, np.mean), k=9, errors=_errors(_NO_BATCH_1D), files=_POOL),
        OpInfo("adaptive_max_pool1d", F.adaptive_max_pool1d, _inputs(
            *_ADAPTIVE1D, ((2, 2, 5), (2,), {"return_indices": True})), op=(pool._MaxPool2d,),
            kernels=("adaptive_max_pool2d_forward", "max_pool2d_backward"), reference=_adaptive_ref(1, np.max),
            errors=_errors(_NO_BATCH_1D), files=_POOL),
        OpInfo("adaptive_max_pool2d", F.adaptive_max_pool2d, _inputs(*_ADAPTIVE2D), op=(pool._MaxPool2d,),
               kernels=("adaptive_max_pool2d_forward", "max_pool2d_backward"), reference=_adaptive_ref(2, np.max),
               errors=_errors(_NO_BATCH_1D), files=_POOL),
        # unpooling is linear in its values (a scatter): twice differentiable
        OpInfo("max_unpool1d", F.max_unpool1d, _unpool1d_samples, op=(pool._ApplyPlaneMap,),
               kernels=("max_unpool2d_forward", "max_unpool2d_backward"), reference=_unpool_ref(1),
               errors=_errors((lambda z: (z(1, 2, 3), z(1, 2, 4, dtype=_dtype.int64), 2), {},
                               RuntimeError)), files=_POOL),
        OpInfo("max_unpool2d", F.max_unpool2d, _unpool2d_samples, op=(pool._ApplyPlaneMap,),
               kernels=("max_unpool2d_forward", "max_unpool2d_backward"), reference=_unpool_ref(2),
               errors=_errors((lambda z: (z(1, 2, 3, 3), z(1, 2, 3, dtype=_dtype.int64), 2), {},
                               RuntimeError)), files=_POOL),
    ]


# ---- resampling ---------------------------------------------------------------------------------
def _interp_matrix(n, o, mode, align_corners):
    """The (o, n) matrix resampling one axis of length n to o, by PyTorch's source coordinates."""
    m = np.zeros((o, n))
    for i in range(o):
        if mode == "nearest":
            m[i, min(i * n // o, n - 1)] = 1
        elif mode == "area":
            lo, hi = i * n // o, -(-(i + 1) * n // o)
            m[i, lo:hi] = 1 / (hi - lo)
        else:
            src = (i * (n - 1) / (o - 1) if o > 1 else 0.0) if align_corners else max((i + 0.5) * n / o - 0.5, 0)
            i0 = min(int(src), n - 1)
            lam = src - i0
            m[i, i0] += 1 - lam
            m[i, min(i0 + 1, n - 1)] += lam
    return m


def _interpolate_ref(x, size=None, scale_factor=None, mode="nearest", align_corners=None):
    nd = x.ndim - 2
    if size is not None:
        out = _ntuple(size, nd)
    else:
        out = tuple(math.floor(n * s) for n, s in zip(x.shape[2:], _ntuple(scale_factor, nd)))
    for axis, (n, o) in enumerate(zip(x.shape[2:], out), 2):
        x = np.moveaxis(np.tensordot(x, _interp_matrix(n, o, mode, align_corners), ([axis], [1])), -1, axis)
    return x


_NEAREST = [((2, 3, 5), (), {"size": 7}), ((1, 2, 3, 4), (), {"scale_factor": 2}),
            (("T", 1, 2, 4, 3), (), {"size": (2, 5)}), ((0, 2, 3), (), {"size": 5})]
_BILINEAR = [((1, 2, 3, 5), (), {"size": (5, 4)}), (("T", 1, 1, 4, 6), (), {"scale_factor": 0.5})]


def _interp_cases(mode, align_corners):
    return [(s, a, dict(kw, mode=mode, align_corners=align_corners)) for s, a, kw in _BILINEAR]


def _resample_rows() -> list[OpInfo]:
    interp = dict(op=(pool._ApplyPlaneMap,), files=_POOL)
    both = _errors((lambda z: (z(1, 2, 3),), {"size": 4, "scale_factor": 2}, ValueError))
    return [
        OpInfo("interpolate", F.interpolate, _inputs(
            *_NEAREST[:2], ((2, 2, 4), (), {"size": 6, "mode": "linear"}),
            *_interp_cases("bilinear", True), *_interp_cases("bilinear", False),
            ((2, 3, 3), (), {"size": 5, "mode": "linear", "align_corners": True}),
            ((2, 3, 7), (), {"size": 3, "mode": "area"}), ((1, 1, 5, 4), (), {"size": (2, 3), "mode": "area"}),
            *_NEAREST[2:]),
            kernels=("upsample_nearest2d_forward", "upsample_nearest2d_backward", "upsample_bilinear2d_forward",
                     "upsample_bilinear2d_backward", "adaptive_avg_pool2d_forward"),
            reference=_interpolate_ref, k=4, errors=both, **interp),
        # the deprecated spellings (each warns, as PyTorch)
        OpInfo("upsample", F.upsample, _inputs(*_NEAREST, *_interp_cases("bilinear", False)),
               kernels=("upsample_nearest2d_forward", "upsample_bilinear2d_forward"),
               reference=_interpolate_ref, k=4, errors=both, **interp),
        OpInfo("upsample_nearest", F.upsample_nearest, _inputs(*_NEAREST),
               kernels=("upsample_nearest2d_forward", "upsample_nearest2d_backward"),
               reference=_interpolate_ref, errors=_errors((lambda z: (z(1, 2, 3),), {}, ValueError)), **interp),
        OpInfo("upsample_bilinear", F.upsample_bilinear, _inputs(*_BILINEAR),
               kernels=("upsample_bilinear2d_forward", "upsample_bilinear2d_backward"),
               reference=lambda x, **kw: _interpolate_ref(x, mode="bilinear", align_corners=True, **kw), k=4,
               errors=_errors((lambda z: (z(1, 2, 3),), {"size": 4}, NotImplementedError)), **interp),
    ]


# ---- padding, shuffling, folding ----------------------------------------------------------------
_NP_PAD_MODES = {"constant": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def _pad_ref(x, pad, mode="constant", value=None):
    widths = [(0, 0)] * x.ndim
    for i in range(len(pad) // 2):
        widths[x.ndim - 1 - i] = (pad[2 * i], pad[2 * i + 1])
    x = x[tuple(slice(max(-lo, 0), n - max(-hi, 0)) for (lo, hi), n in zip(widths, x.shape))]
    widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    extra = {"constant_values": value or 0} if mode == "constant" else {}
    return np.pad(x, widths, mode=_NP_PAD_MODES[mode], **extra)


def _pixel_shuffle_ref(x, upscale_factor):
    r = upscale_factor
    out = np.empty(x.shape[:-3] + (x.shape[-3] // (r * r), x.shape[-2] * r, x.shape[-1] * r))
    for i in range(r):
        for j in range(r):
            out[..., i::r, j::r] = x[..., i * r + j::r * r, :, :]
    return out


def _pixel_unshuffle_ref(x, downscale_factor):
    r = downscale_factor
    out = np.empty(x.shape[:-3] + (x.shape[-3] * r * r, x.shape[-2] // r, x.shape[-1] // r))
    for i in range(r):
        for j in range(r):
            out[..., i * r + j::r * r, :, :] = x[..., i::r, j::r]
    return out


def _taps(kernel_size, dilation, padding, stride, hw):
    """The block grid (OH, OW) and, per kernel tap (i, j), the padded-input slices it reads."""
    (kh, kw), (dh, dw), (ph, pw), (sh, sw) = map(_pair, (kernel_size, dilation, padding, stride))
    oh, ow = ((n + 2 * p - d * (k - 1) - 1) // s + 1 for n, p, d, k, s in zip(hw, (ph, pw), (dh, dw), (kh, kw),
                                                                                (sh, sw)))
    taps = [(i, j, slice(i * dh, i * dh + sh * (oh - 1) + 1, sh), slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))
            for i in range(kh) for j in range(kw)]
    return (oh, ow), (kh, kw), (ph, pw), taps


@_batched(2)
def _unfold_ref(x, kernel_size, dilation=1, padding=0, stride=1):
    (oh, ow), (kh, kw), (ph, pw), taps = _taps(kernel_size, dilation, padding, stride, x.shape[2:])
    xp = np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    cols = np.empty(x.shape[:2] + (kh, kw, oh, ow))
    for i, j, rows, columns in taps:
        cols[:, :, i, j] = xp[:, :, rows, columns]
    return cols.reshape(x.shape[0], x.shape[1] * kh * kw, oh * ow)


def _fold_ref(x, output_size, kernel_size, dilation=1, padding=0, stride=1):
    unbatched = x.ndim == 2
    x = x[None] if unbatched else x
    h, w = _pair(output_size)
    (oh, ow), (kh, kw), (ph, pw), taps = _taps(kernel_size, dilation, padding, stride, (h, w))
    cols = x.reshape(x.shape[0], x.shape[1] // (kh * kw), kh, kw, oh, ow)
    out = np.zeros((x.shape[0], cols.shape[1], h + 2 * ph, w + 2 * pw))
    for i, j, rows, columns in taps:
        out[:, :, rows, columns] += cols[:, :, i, j]
    out = out[:, :, ph:ph + h, pw:pw + w]
    return out[0] if unbatched else out


def _layout_rows() -> list[OpInfo]:
    return [
        OpInfo("pad", F.pad, _inputs(
            ((2, 3, 4), ((1, 2),), {"value": 0.5}), ((3, 5), ((2, 1),), {"mode": "reflect"}),
            ((1, 2, 3, 4), ((1, 1, 2, 0),), {"mode": "replicate"}), ((2, 3, 4), ((1, 2),), {"mode": "circular"}),
            (("T", 3, 4), ((-1, 2, 1, 0),), {}), ((1, 2, 3, 3), ((0, 2, 1, 1),), {"mode": "reflect"}),
            ((0, 3), ((1, 1),), {})),
            reference=_pad_ref,
            errors=_errors((lambda z: (z(2, 3), (1,)), {}, RuntimeError),
                           (lambda z: (z(2, 3), (3, 3)), {"mode": "reflect"}, RuntimeError)),
            files=(_NN_FUNCTIONAL, "tests/test_nn_layers.py")),
        OpInfo("pixel_shuffle", F.pixel_shuffle, _inputs(
            ((1, 8, 2, 3), (2,), {}), ((9, 1, 2), (3,), {}), (("T", 2, 4, 3, 3), (2,), {}), ((0, 4, 2, 3), (2,), {})),
            reference=_pixel_shuffle_ref, errors=_errors((lambda z: (z(1, 3, 2, 2), 2), {}, RuntimeError)),
            files=_POOL),
        OpInfo("pixel_unshuffle", F.pixel_unshuffle, _inputs(
            ((1, 2, 4, 6), (2,), {}), ((1, 3, 3), (3,), {}), (("T", 2, 1, 4, 2), (2,), {}), ((0, 1, 2, 4), (2,), {})),
            reference=_pixel_unshuffle_ref, errors=_errors((lambda z: (z(1, 3, 3, 2), 2), {}, RuntimeError)),
            files=_POOL),
        OpInfo("unfold", F.unfold, _inputs(
            ((1, 2, 4, 5), ((2, 3),), {}), ((2, 5, 5), (3,), {"stride": 2, "padding": 1}),
            (("T", 1, 1, 5, 4), (2,), {"dilation": (2, 1)}), ((0, 2, 3, 3), (2,), {})),
            op=(conv._Conv2d,), kernels=("conv2d_forward", "conv2d_backward_input"), reference=_unfold_ref, k=4,
            errors=_errors((lambda z: (z(3, 4), 2), {}, RuntimeError)), files=_CONV),
        OpInfo("fold", F.fold, _inputs(
            ((1, 12, 6), ((3, 4), (2, 2)), {}), ((18, 4), ((4, 4), 3), {"stride": 2, "padding": 1}),
            (("T", 1, 4, 6), ((5, 3), 2), {"dilation": (2, 1)}), ((0, 8, 4), ((3, 3), 2), {})),
            op=(conv._ConvTranspose2d,), kernels=("conv2d_backward_input", "conv2d_forward"), reference=_fold_ref,
            k=4, errors=_errors((lambda z: (z(1, 8, 5), (4, 4), 2), {}, RuntimeError)), files=_CONV),
    ]


# ---- convolution-like maps ----------------------------------------------------------------------
def _bilinear_ref(x1, x2, w, b=None):
    return np.einsum("...i,oij,...j->...o", x1, w, x2) + (0 if b is None else b)


@_batched(1)
def _conv_transpose1d_ref(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    s, p, op, d = map(_int1, (stride, padding, output_padding, dilation))
    n, length = x.shape[0], x.shape[2]
    cg, og, k = w.shape[0] // groups, w.shape[1], w.shape[2]
    full = np.zeros((n, groups * og, (length - 1) * s + d * (k - 1) + 1 + op))
    for g in range(groups):
        for t in range(k):
            full[:, g * og:(g + 1) * og, t * d:t * d + s * (length - 1) + 1:s] += np.einsum(
                "ncl,co->nol", x[:, g * cg:(g + 1) * cg], w[g * cg:(g + 1) * cg, :, t])
    out = full[:, :, p:p + (length - 1) * s - 2 * p + d * (k - 1) + op + 1]
    return out + (0 if b is None else b[None, :, None])


@_listed()
def _bilinear_samples(mk, ints):
    yield Sample((mk(3, 2), mk(3, 4), mk(5, 2, 4), mk(5)), {}, "(3, 2) x (3, 4) with bias")
    yield Sample((mk(2, 1, 3), mk(2, 1, 2), mk(2, 3, 2)), {}, "3-D, no bias")
    yield Sample((mk(4, 3, transposed=True), mk(4, 1), mk(1, 3, 1)), {}, "transposed, one output")
    yield Sample((mk(0, 2), mk(0, 3), mk(4, 2, 3)), {}, "no rows")


@_listed()
def _conv_transpose1d_samples(mk, ints):
    yield Sample((mk(2, 3, 4), mk(3, 2, 3), mk(2)), {}, "k3 with bias")
    yield Sample((mk(1, 4, 3), mk(4, 1, 2)), {"stride": 2, "padding": 1, "output_padding": 1, "groups": 2},
                 "stride 2, padding 1, output_padding 1, 2 groups")
    yield Sample((mk(2, 5, transposed=True), mk(2, 3, 2)), {"dilation": 2}, "unbatched transposed, dilation 2")
    yield Sample((mk(0, 2, 3), mk(2, 3, 2)), {}, "empty batch")


def _conv_rows() -> list[OpInfo]:
    return [
        OpInfo("bilinear", F.bilinear, _bilinear_samples, op=(conv._Linear,), kernels=("gemm",),
               reference=_bilinear_ref, k=8, errors=_errors((lambda z: (z(2, 3), z(2, 4), z(5, 3, 3)), {},
                                                             RuntimeError)), files=_CONV),
        OpInfo("conv_transpose1d", F.conv_transpose1d, _conv_transpose1d_samples, op=(conv._ConvTranspose2d,),
               kernels=("conv2d_backward_input", "conv2d_forward", "conv2d_backward_weight",
                        "conv2d_backward_bias"), reference=_conv_transpose1d_ref, k=9,
               errors=_shape_errors(lambda z: (z(2, 3, 4), z(2, 3, 2))), files=_CONV),
    ]


# ---- distances, normalisation and the remaining activations -------------------------------------
def _norm_ref(x, p, axis, keepdims=False):
    return (np.abs(x) ** p).sum(axis, keepdims=keepdims) ** (1 / p)


def _normalize_ref(x, p=2.0, dim=1, eps=1e-12):
    return x / np.maximum(_norm_ref(x, p, dim, True), eps)


def _cosine_similarity_ref(x1, x2, dim=1, eps=1e-8):
    return (_normalize_ref(x1, 2, dim, eps) * _normalize_ref(x2, 2, dim, eps)).sum(dim)


def _pairwise_distance_ref(x1, x2, p=2.0, eps=1e-6, keepdim=False):
    return _norm_ref(x1 - x2 + eps, p, -1, keepdim)


def _pdist_ref(x, p=2.0):
    n = x.shape[0]
    return np.array([_norm_ref(x[i] - x[j], p, -1) for i in range(n) for j in range(i + 1, n)])


def _prelu_ref(x, w):
    shape = (-1,) + (1,) * (x.ndim - 2) if x.ndim >= 2 and w.size > 1 else ()
    return np.where(x > 0, x, w.reshape(shape) * x)


def _glu_ref(x, dim=-1):
    a, b = np.split(x, 2, dim)
    return a * sigmoid_ref(b)


@_listed()
def _two_vectors(mk, ints):
    """Pairs for the distances: matching, broadcast, unbatched, transposed and empty."""
    yield Sample((mk(3, 4), mk(3, 4)), {}, "(3, 4)")
    yield Sample((mk(2, 5), mk(5)), {"p": 1.0, "keepdim": True}, "broadcast, p 1, keepdim")
    yield Sample((mk(4), mk(4)), {"p": 3.0}, "unbatched, p 3")
    yield Sample((mk(4, 3, transposed=True), mk(1, 3)), {"eps": 0.1}, "transposed, eps 0.1")
    yield Sample((mk(0, 3), mk(0, 3)), {}, "empty")


@_listed()
def _cosine_samples(mk, ints):
    yield Sample((mk(3, 4), mk(3, 4)), {}, "(3, 4)")
    yield Sample((mk(2, 3, 4), mk(1, 3, 4)), {"dim": 2}, "broadcast, dim 2")
    yield Sample((mk(5), mk(5)), {"dim": 0}, "unbatched")
    yield Sample((mk(4, 3, transposed=True), mk(4, 3)), {"eps": 0.5}, "transposed, eps 0.5")
    yield Sample((mk(0, 3), mk(0, 3)), {}, "empty")


@_listed()
def _prelu_samples(mk, ints):
    yield Sample((mk(2, 3, 4, domain="nonzero"), mk(3)), {}, "per channel")
    yield Sample((mk(5, domain="nonzero"), mk(1)), {}, "1-D, one weight")
    yield Sample((mk(4, 3, domain="nonzero", transposed=True), mk(3)), {}, "transposed")
    yield Sample((mk(0, 2), mk(2)), {}, "empty")


_DISTANCE = ("tests/test_nn_functional.py",)


def _distance_rows() -> list[OpInfo]:
    mismatch = _errors((lambda z: (z(3, 4), z(3, 5)), {}, RuntimeError))
    return [
        OpInfo("normalize", F.normalize, _inputs(
            ((3, 4), (), {}), ((2, 5), (), {"p": 1.0, "dim": 0}), ((6,), (), {"dim": 0, "p": 3.0}),
            (("T", 4, 3), (), {"dim": -1}), ((2, 3), (), {"eps": 10.0}), ((0, 3), (), {})),
            reference=_normalize_ref, k=5, errors=_errors((lambda z: (z(3, 4),), {"dim": 2}, IndexError)),
            files=_DISTANCE),
        OpInfo("cosine_similarity", F.cosine_similarity, _cosine_samples, reference=_cosine_similarity_ref, k=5,
               errors=mismatch, files=_DISTANCE),
        OpInfo("pairwise_distance", F.pairwise_distance, _two_vectors, reference=_pairwise_distance_ref, k=5,
               errors=mismatch, files=_DISTANCE),
        OpInfo("pdist", F.pdist, _inputs(((4, 3), (), {}), ((3, 5), (1.0,), {}), (("T", 5, 2), (), {"p": 3.0}),
                                          ((1, 3), (), {}), ((0, 3), (), {})),
               reference=_pdist_ref, k=5, errors=_errors((lambda z: (z(2, 3, 4),), {}, RuntimeError)),
               files=_DISTANCE),
        OpInfo("prelu", F.prelu, _prelu_samples, reference=_prelu_ref,
               errors=_errors((lambda z: (z(2, 3), z(2)), {}, RuntimeError), (lambda z: ([1.0], z(1)), {}, TypeError)),
               files=_DISTANCE),
        OpInfo("threshold", F.threshold, _inputs(((3, 4), (0.1, 20.0), {}), ((7,), (-0.5, 0.0), {}),
                                                  (("T", 4, 3), (0.0, -1.0), {}), ((0, 3), (0.0, 0.0), {})),
               reference=lambda x, threshold, value: np.where(x > threshold, x, value),
               errors=_errors((lambda z: ([1.0], 0.5, 0.0), {}, TypeError)), files=_DISTANCE),
        OpInfo("glu", F.glu, _inputs(((3, 4), (), {}), ((2, 6, 3), (), {"dim": 1}), (("T", 4, 6), (), {"dim": 0}),
                                      ((0, 2), (), {})),
               reference=_glu_ref, errors=_errors((lambda z: (z(3, 5),), {}, RuntimeError)), files=_DISTANCE),
    ]


# ---- embeddings ---------------------------------------------------------------------------------
def _embedding_ref(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                   sparse=False):
    w = weight.copy()
    if max_norm is not None:
        rows = np.unique(input)
        norms = _norm_ref(w[rows], norm_type, 1)
        w[rows] *= np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)[:, None]
    return w[input]


@_numpy_kwargs
def _embedding_bag_ref(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False,
                       mode="mean", sparse=False, per_sample_weights=None, include_last_offset=False,
                       padding_idx=None):
    if input.ndim == 2:
        bounds = [(i * input.shape[1], (i + 1) * input.shape[1]) for i in range(input.shape[0])]
    else:
        ends = list(offsets[1:]) + [input.shape[0]]
        bounds = list(zip(offsets, ends))[:len(offsets) - 1 if include_last_offset else None]
    flat = input.reshape(-1)
    scale = np.ones(flat.shape) if per_sample_weights is None else per_sample_weights.reshape(-1)
    out = np.zeros((len(bounds), weight.shape[1]))
    for b, (lo, hi) in enumerate(bounds):
        keep = [i for i in range(lo, hi) if flat[i] != padding_idx]
        if keep:
            rows = weight[flat[keep]] * scale[keep][:, None]
            out[b] = {"sum": rows.sum, "mean": rows.mean, "max": rows.max}[mode](0)
    return out


def _offsets(ints, *values):
    o = ints(1, len(values))
    for i, v in enumerate(values):
        o[i] = v
    return o


@_listed()
def _embedding_samples(mk, ints):
    yield Sample((ints(5, 3, 2), mk(5, 3)), {}, "(3, 2) indices into (5, 3)")
    yield Sample((ints(3, 4), mk(4, 3, transposed=True)), {}, "transposed weight")
    # padding_idx and scale_grad_by_freq change the gradient on purpose (as PyTorch): not gradchecked
    yield Sample((ints(4, 7), mk(4, 2)), {"padding_idx": 1, "scale_grad_by_freq": True}, "padding_idx, by freq")
    yield Sample((ints(3, 4), mk(3, 2)), {"padding_idx": -1}, "negative padding_idx")
    yield Sample((ints(5, 2, 2), mk(5, 3)), {"max_norm": 0.5}, "max_norm")
    yield Sample((ints(5, 0, 2), mk(5, 3)), {}, "no indices")


@_listed()
def _embedding_bag_samples(mk, ints):
    yield Sample((ints(5, 3, 4), mk(5, 3)), {"mode": "sum"}, "2-D sum")
    yield Sample((ints(6, 7), mk(6, 2), _offsets(ints, 0, 2, 2, 5)), {}, "offsets mean, an empty bag")
    yield Sample((ints(4, 6), mk(4, 3), _offsets(ints, 0, 3, 6)),
                 {"mode": "mean", "padding_idx": 2, "include_last_offset": True}, "padding_idx, last offset")
    yield Sample((ints(5, 2, 3), mk(5, 2, transposed=True)), {"mode": "max"}, "2-D max, transposed weight")
    yield Sample((ints(4, 5), mk(4, 2), _offsets(ints, 0, 1)), {"mode": "sum", "per_sample_weights": mk(5)},
                 "per_sample_weights")
    yield Sample((ints(4, 0, 3), mk(4, 2)), {"mode": "sum"}, "no bags")


def _embedding_rows() -> list[OpInfo]:
    long = _dtype.int64
    return [
        OpInfo("embedding", F.embedding, _embedding_samples, reference=_embedding_ref,
               errors=_errors((lambda z: (z(3), z(4, 2)), {}, RuntimeError),
                              (lambda z: (z(1, dtype=long) + 5, z(4, 2)), {}, IndexError)),
               files=(_NN_FUNCTIONAL, "tests/test_nn_layers.py")),
        OpInfo("embedding_bag", F.embedding_bag, _embedding_bag_samples, reference=_embedding_bag_ref, k=4,
               errors=_errors((lambda z: (z(1, 1, dtype=long), z(4, 2)), {"mode": "foo"}, ValueError),
                              (lambda z: (z(2, dtype=long), z(4, 2)), {}, ValueError)),
               files=(_NN_FUNCTIONAL, "tests/test_nn_layers.py")),
    ]


# ---- multi-head attention -----------------------------------------------------------------------
def _additive(mask):
    return np.where(mask, -np.inf, 0.0) if mask.dtype == bool else mask


@_numpy_kwargs
def _mha_ref(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias, bias_k, bias_v,
             add_zero_attn, dropout_p, out_proj_weight, out_proj_bias, training=True, key_padding_mask=None,
             need_weights=True, attn_mask=None, average_attn_weights=True):
    unbatched = query.ndim == 2
    if unbatched:
        query, key, value = query[:, None], key[:, None], value[:, None]
    (tgt, n, e), src, h = query.shape, key.shape[0], num_heads
    bias = np.split(in_proj_bias, 3) if in_proj_bias is not None else (0, 0, 0)

    def heads(x, w, b):  # (len, N, E) -> (N, H, len, E / H)
        return (x @ w.T + b).reshape(x.shape[0], n, h, e // h).transpose(1, 2, 0, 3)
    q, k, v = (heads(x, w, b) for x, w, b in zip((query, key, value), np.split(in_proj_weight, 3), bias))
    scores = q @ np.swapaxes(k, -1, -2) / math.sqrt(e // h)
    if attn_mask is not None:
        scores = scores + _additive(attn_mask).reshape((-1, h, tgt, src) if attn_mask.ndim == 3 else (tgt, src))
    if key_padding_mask is not None:
        scores = scores + _additive(key_padding_mask).reshape(n, 1, 1, src)
    weights = softmax_ref(scores, -1)
    out = (weights @ v).transpose(2, 0, 1, 3).reshape(tgt, n, e) @ out_proj_weight.T
    out = out + (0 if out_proj_bias is None else out_proj_bias)
    weights = weights.mean(1) if average_attn_weights else weights
    if unbatched:
        out, weights = out[:, 0], weights[0]
    return (out, weights) if need_weights else out


def _mha_args(mk, q, k, v, e=4, bias=True):
    return (q, k, v, e, 2, mk(3 * e, e), mk(3 * e) if bias else None, None, None, False, 0.0, mk(e, e),
            mk(e) if bias else None)


@_listed()
def _mha_samples(mk, ints):
    yield Sample(_mha_args(mk, mk(2, 2, 4), mk(3, 2, 4), mk(3, 2, 4)), {"training": False}, "L=2 S=3 N=2")
    yield Sample(_mha_args(mk, mk(2, 4), mk(3, 4), mk(3, 4), bias=False),
                 {"need_weights": False, "attn_mask": mk(2, 3)}, "unbatched, float mask, fused")
    padding = ints(1, 2, 3) > 0
    padding[1, 2] = True
    yield Sample(_mha_args(mk, mk(1, 2, 4, transposed=True), mk(3, 2, 4), mk(3, 2, 4)),
                 {"key_padding_mask": padding, "average_attn_weights": False, "attn_mask": mk(4, 1, 3)},
                 "padding and per-head masks, per-head weights")


def _attention_rows() -> list[OpInfo]:
    return [
        OpInfo("multi_head_attention_forward", F.multi_head_attention_forward, _mha_samples,
               op=(attention._SDPA,), kernels=("scaled_dot_product_attention_forward", "gemm"),
               reference=_mha_ref, k=12,
               errors=_errors((lambda z: (z(2, 1, 4), z(2, 1, 4), z(2, 1, 4), 5, 2, z(12, 4), None, None, None,
                                          False, 0.0, z(4, 4), None), {}, AssertionError)),
               files=_ATTN),
    ]


def rows() -> list[OpInfo]:
    return (_pool_rows() + _resample_rows() + _layout_rows() + _conv_rows() + _distance_rows()
            + _embedding_rows() + _attention_rows())
