"""Rows of the elementwise, reduction and kernel-backed ops (conv, linear, norms, softmax and
cross-entropy, attention, RNN cells, pooling, matmul) with their float64 references."""
from __future__ import annotations

import math

import numpy as np

from ... import _dtype
from ...nn import functional as F
from .. import activation, attention, conv, linalg, pointwise, pool, reduce, rnn_cell, shape
from ..normalization import (
    _BatchNormTrain,
    _GroupNorm,
    _LayerNorm,
    batch_norm,
    group_norm,
    instance_norm,
    layer_norm,
)
from ..softmax import (
    _BCEWithLogits,
    _CrossEntropy,
    _Softmax,
    binary_cross_entropy_with_logits,
    cross_entropy,
    log_softmax,
    softmax,
    softmin,
)
from ._base import (
    _NN_FUNCTIONAL,
    _OPS_TEST,
    REDUCE_CASES,
    OpInfo,
    Sample,
    _binary_errors,
    _dim_errors,
    _files,
    _int_errors,
    _listed,
    _shape_errors,
    _t,
    _unary_errors,
    binary_samples,
    reduce_samples,
    unary_samples,
)


def sigmoid_ref(x):
    return 1 / (1 + np.exp(-x))


def _erf(x):
    return np.vectorize(math.erf, otypes=[float])(x)


def _axis(dim):
    return tuple(dim) if isinstance(dim, (list, tuple)) else dim


def _reduction(np_fn):
    def ref(x, dim=None, keepdim=False):
        return np_fn(x, axis=_axis(dim), keepdims=keepdim)
    return ref


def _var_ref(ddof):
    def ref(x, dim=None, keepdim=False, correction=1):
        return np.var(x, axis=_axis(dim), keepdims=keepdim, ddof=correction)
    return ref


def _logsumexp_ref(x, dim, keepdim=False):
    m = np.max(x, axis=_axis(dim), keepdims=True)
    out = m + np.log(np.exp(x - m).sum(axis=_axis(dim), keepdims=True))
    return out if keepdim else np.squeeze(out, axis=_axis(dim))


def log_softmax_ref(x, dim):
    m = x.max(dim, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(dim, keepdims=True))


def softmax_ref(x, dim):
    return np.exp(log_softmax_ref(x, dim))


def cross_entropy_ref(x, target, reduction="mean"):
    """Class-index targets over dim 1 of (N, C) or (N, C, d...), no weights."""
    lp = log_softmax_ref(x, 1)
    loss = -np.take_along_axis(lp, np.expand_dims(target, 1), 1).squeeze(1)
    return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()


def _pair(v):
    return (v, v) if isinstance(v, int) else tuple(v)


def conv2d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    (s0, s1), (p0, p1), (d0, d1) = _pair(stride), _pair(padding), _pair(dilation)
    x = np.pad(x, ((0, 0), (0, 0), (p0, p0), (p1, p1)))
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    oh, ow = (h - d0 * (kh - 1) - 1) // s0 + 1, (wd - d1 * (kw - 1) - 1) // s1 + 1
    wg = w.reshape(groups, o // groups, cg, kh, kw)
    out = np.zeros((n, groups, o // groups, oh, ow))
    for i in range(kh):
        for j in range(kw):
            patch = x[:, :, i * d0:i * d0 + s0 * (oh - 1) + 1:s0, j * d1:j * d1 + s1 * (ow - 1) + 1:s1]
            out += np.einsum("ngchw,goc->ngohw", patch.reshape(n, groups, cg, oh, ow), wg[..., i, j])
    out = out.reshape(n, o, oh, ow)
    return out if b is None else out + b.reshape(1, -1, 1, 1)


def _conv1d_ref(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    return conv2d_ref(x[:, :, None], w[:, :, None], b, (1, stride), (0, padding), (1, dilation),
                      groups)[:, :, 0]


def _linear_ref(x, w, b=None):
    return x @ w.T + (0 if b is None else b)


def _normalized(x, axes, eps):
    return (x - x.mean(axes, keepdims=True)) / np.sqrt(x.var(axes, keepdims=True) + eps)


def layer_norm_ref(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    y = _normalized(x, tuple(range(x.ndim - len(normalized_shape), x.ndim)), eps)
    return y * (1 if weight is None else weight) + (0 if bias is None else bias)


def _channel(v, ndim):
    return 1 if v is None else v.reshape((1, -1) + (1,) * (ndim - 2))


def _batch_norm_ref(x, running_mean, running_var, weight=None, bias=None, training=False,
                    momentum=0.1, eps=1e-5):
    y = _normalized(x, (0,) + tuple(range(2, x.ndim)), eps)
    return y * _channel(weight, x.ndim) + (0 if bias is None else _channel(bias, x.ndim))


def _group_norm_ref(x, num_groups, weight=None, bias=None, eps=1e-5):
    n = x.shape[0]
    y = _normalized(x.reshape(n, num_groups, -1), (2,), eps).reshape(x.shape)
    return y * _channel(weight, x.ndim) + (0 if bias is None else _channel(bias, x.ndim))


def _instance_norm_ref(x, *args, eps=1e-5, **kwargs):
    return _normalized(x, tuple(range(2, x.ndim)), eps)


def sdpa_ref(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None):
    scale = 1 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = q @ np.swapaxes(k, -1, -2) * scale
    if attn_mask is not None:
        s = s + (np.where(attn_mask, 0.0, -np.inf) if attn_mask.dtype == bool else attn_mask)
    if is_causal:
        s = s + np.triu(np.full(s.shape[-2:], -np.inf), 1)
    return softmax_ref(s, -1) @ v


def lstm_cell_ref(x, hx, cx, w_ih, w_hh, b_ih=None, b_hh=None):
    gates = x @ w_ih.T + h_term(hx, w_hh) + (0 if b_ih is None else b_ih) + (0 if b_hh is None else b_hh)
    i, f, g, o = np.split(gates, 4, -1)
    c = sigmoid_ref(f) * cx + sigmoid_ref(i) * np.tanh(g)
    return sigmoid_ref(o) * np.tanh(c), c


def h_term(h, w):
    return h @ w.T


def gru_cell_ref(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    ir, iz, in_ = np.split(x @ w_ih.T + (0 if b_ih is None else b_ih), 3, -1)
    hr, hz, hn = np.split(h @ w_hh.T + (0 if b_hh is None else b_hh), 3, -1)
    r, z = sigmoid_ref(ir + hr), sigmoid_ref(iz + hz)
    return (1 - z) * np.tanh(in_ + r * hn) + z * h


def _rnn_cell_ref(act):
    def ref(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
        return act(x @ w_ih.T + h @ w_hh.T + (0 if b_ih is None else b_ih) + (0 if b_hh is None else b_hh))
    return ref


def _lstm_layer_ref(xg, h, c, w_hh, reverse=False):
    hs = np.zeros(xg.shape[:2] + h.shape[1:])
    for t in (range(xg.shape[0] - 1, -1, -1) if reverse else range(xg.shape[0])):
        i, f, g, o = np.split(xg[t] + h @ w_hh.T, 4, -1)
        c = sigmoid_ref(f) * c + sigmoid_ref(i) * np.tanh(g)
        h = hs[t] = sigmoid_ref(o) * np.tanh(c)
    return hs, c


def _windows(x, k, s):
    """(N, C, OH, OW, kh, kw) windows of x (N, C, H, W), stride s, no padding."""
    v = np.lib.stride_tricks.sliding_window_view(x, k, axis=(2, 3))
    return v[:, :, ::s[0], ::s[1]]


def _max_pool2d_ref(x, kernel_size, stride=None):
    k = _pair(kernel_size)
    return _windows(x, k, _pair(stride or k)).max((-1, -2))


def _avg_pool2d_ref(x, kernel_size, stride=None):
    k = _pair(kernel_size)
    return _windows(x, k, _pair(stride or k)).mean((-1, -2))


def _gelu_ref(x, approximate="none"):
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + _erf(x / math.sqrt(2)))


def _bce_logits_ref(x, y, reduction="mean"):
    loss = np.maximum(x, 0) - x * y + np.log1p(np.exp(-np.abs(x)))
    return {"mean": loss.mean, "sum": loss.sum}.get(reduction, lambda: loss)()


# ---- family rows -------------------------------------------------------------------------------
# (name, fn, reference, domain, gradgrad, aliases)
_UNARY = [
    ("exp", pointwise.exp, np.exp, "normal", True, ()),
    ("exp2", pointwise.exp2, np.exp2, "normal", True, ()),
    ("expm1", pointwise.expm1, np.expm1, "normal", True, ()),
    ("log", pointwise.log, np.log, "positive", True, ()),
    ("log2", pointwise.log2, np.log2, "positive", True, ()),
    ("log10", pointwise.log10, np.log10, "positive", True, ()),
    ("log1p", pointwise.log1p, np.log1p, "positive", True, ()),
    ("sqrt", pointwise.sqrt, np.sqrt, "positive", True, ()),
    ("rsqrt", pointwise.rsqrt, lambda x: 1 / np.sqrt(x), "positive", True, ()),
    ("reciprocal", pointwise.reciprocal, np.reciprocal, "nonzero", True, ()),
    ("square", pointwise.square, np.square, "normal", True, ()),
    ("neg", pointwise.neg, np.negative, "normal", True, ()),
    ("abs", pointwise.abs, np.abs, "nonzero", True, ()),
    ("sin", pointwise.sin, np.sin, "normal", True, ()),
    ("cos", pointwise.cos, np.cos, "normal", True, ()),
    ("tan", pointwise.tan, np.tan, "unit", True, ()),
    ("asin", pointwise.asin, np.arcsin, "unit", True, ()),
    ("acos", pointwise.acos, np.arccos, "unit", True, ()),
    ("atan", pointwise.atan, np.arctan, "normal", True, ()),
    ("sinh", pointwise.sinh, np.sinh, "normal", True, ()),
    ("cosh", pointwise.cosh, np.cosh, "normal", True, ()),
    ("tanh", pointwise.tanh, np.tanh, "normal", True, ()),
    ("sigmoid", pointwise.sigmoid, sigmoid_ref, "normal", True, ()),
    ("erf", pointwise.erf, _erf, "normal", True, ()),
    ("frac", pointwise.frac, lambda x: x - np.trunc(x), "nonzero", True, ()),
    ("logsigmoid", F.logsigmoid, lambda x: -np.logaddexp(0, -x), "normal", True, ()),
    ("softplus", F.softplus, lambda x: np.logaddexp(0, x), "normal", True, ()),
    ("softsign", F.softsign, lambda x: x / (1 + np.abs(x)), "nonzero", True, ()),
    ("tanhshrink", F.tanhshrink, lambda x: x - np.tanh(x), "normal", True, ()),
    ("mish", F.mish, lambda x: x * np.tanh(np.logaddexp(0, x)), "normal", True, ()),
    ("selu", F.selu, lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772
                                                              * np.expm1(x)), "nonzero", True, ()),
    ("elu", F.elu, lambda x: np.where(x > 0, x, np.expm1(x)), "nonzero", True, ()),
    ("celu", F.celu, lambda x: np.where(x > 0, x, np.expm1(x)), "nonzero", True, ()),
    ("leaky_relu", F.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), "nonzero", True, ()),
    ("relu6", F.relu6, lambda x: np.clip(x, 0, 6), "nonzero", True, ()),
    ("hardtanh", F.hardtanh, lambda x: np.clip(x, -1, 1), "nonzero", True, ()),
    ("hardsigmoid", F.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), "nonzero", True, ()),
    ("hardswish", F.hardswish, lambda x: x * np.clip(x + 3, 0, 6) / 6, "nonzero", True, ()),
    ("hardshrink", F.hardshrink, lambda x: np.where(np.abs(x) > 0.5, x, 0), "nonzero", True, ()),
    ("softshrink", F.softshrink, lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), "nonzero",
     True, ()),
]

# (name, fn, reference, domain a, domain b, aliases)
_BINARY = [
    ("add", pointwise.add, np.add, "normal", "normal", ()),
    ("sub", pointwise.sub, np.subtract, "normal", "normal", ("subtract",)),
    ("mul", pointwise.mul, np.multiply, "normal", "normal", ("multiply",)),
    ("div", pointwise.div, np.divide, "normal", "nonzero", ("divide", "true_divide")),
    ("pow", pointwise.pow, np.power, "positive", "normal", ()),
    ("maximum", pointwise.maximum, np.maximum, "normal", "normal", ()),
    ("minimum", pointwise.minimum, np.minimum, "normal", "normal", ()),
    ("fmax", pointwise.fmax, np.fmax, "normal", "normal", ()),
    ("fmin", pointwise.fmin, np.fmin, "normal", "normal", ()),
    ("atan2", pointwise.atan2, np.arctan2, "normal", "nonzero", ()),
]

# (name, fn, reference, domain, extra kwargs, cases)
_NONEMPTY = [c for c in REDUCE_CASES if 0 not in c[0]]
_REDUCE = [
    ("sum", reduce.sum, _reduction(np.sum), "normal", None, REDUCE_CASES),
    ("nansum", reduce.nansum, _reduction(np.nansum), "normal", None, REDUCE_CASES),
    ("mean", reduce.mean, _reduction(np.mean), "normal", None, _NONEMPTY),
    ("nanmean", reduce.nanmean, _reduction(np.nanmean), "normal", None, _NONEMPTY),
    ("prod", reduce.prod, _reduction(np.prod), "nonzero", None,
     [c for c in REDUCE_CASES if not isinstance(c[1].get("dim"), tuple)]),
    ("amax", reduce.amax, _reduction(np.amax), "normal", None, _NONEMPTY),
    ("amin", reduce.amin, _reduction(np.amin), "normal", None, _NONEMPTY),
    ("logsumexp", reduce.logsumexp, _logsumexp_ref, "normal", None,
     [c for c in REDUCE_CASES if "dim" in c[1]]),
    ("var", reduce.var, _var_ref(1), "normal", None,
     [c for c in _NONEMPTY if c[0] != (1, 6, 1) and c[1]]),
    ("std", reduce.std, lambda x, dim=None, keepdim=False: np.sqrt(_var_ref(1)(x, dim, keepdim)),
     "nonzero", None, [c for c in _NONEMPTY if c[0] != (1, 6, 1) and c[1]]),
]


# nn.functional activations that accept integer tensors (computing in the default floating dtype), as PyTorch
_PROMOTING = {"softsign", "tanhshrink"}


def _activation_errors(promoting):
    """A non-Tensor raises TypeError; an integer tensor RuntimeError unless the activation promotes it."""
    def gen(device):
        yield from _unary_errors(device)
        if not promoting:
            yield from _int_errors(device)
    return gen


def _rows_family() -> list[OpInfo]:
    rows = []
    for name, fn, ref, domain, gg, aliases in _UNARY:
        # bad inputs: a list for every unary function; an integer tensor too for the nn.functional
        # activations that, as in PyTorch, need floating point
        rows.append(OpInfo(name, fn, unary_samples(domain), reference=ref, supports_gradgrad=gg,
                           errors=_activation_errors(name in _PROMOTING) if fn.__module__.endswith("functional")
                           else _unary_errors,
                           files=_files(_OPS_TEST if fn.__module__.endswith("pointwise")
                                        else _NN_FUNCTIONAL), aliases=aliases))
    for name, fn, ref, da, db, aliases in _BINARY:
        rows.append(OpInfo(name, fn, binary_samples(da, db), reference=ref, errors=_binary_errors,
                           files=_files(_OPS_TEST, "benchmarks/bench_elementwise.py"), aliases=aliases))
    for name, fn, ref, domain, extra, cases in _REDUCE:
        rows.append(OpInfo(name, fn, reduce_samples(domain, cases, extra), reference=ref, k=8,
                           errors=_dim_errors(fn), files=_files(_OPS_TEST)))
    return rows


# ---- kernel-backed and other hand-written rows -------------------------------------------------

@_listed()
def _conv2d_samples(mk, ints):
    yield Sample((mk(2, 3, 5, 5), mk(4, 3, 3, 3), mk(4)), {}, "3x3 with bias")
    yield Sample((mk(1, 4, 6, 7), mk(6, 2, 2, 3)), {"stride": 2, "padding": 1, "groups": 2},
                 "stride 2, padding 1, 2 groups, no bias")
    yield Sample((mk(1, 1, 5, 5), mk(2, 1, 2, 2)), {"dilation": 2}, "dilation 2")
    yield Sample((mk(2, 2, 4, 4, transposed=True), mk(3, 2, 1, 1)), {}, "transposed input, 1x1")
    yield Sample((mk(0, 2, 4, 4), mk(3, 2, 3, 3), mk(3)), {}, "empty batch")


@_listed()
def _conv1d_samples(mk, ints):
    yield Sample((mk(2, 3, 7), mk(4, 3, 3), mk(4)), {}, "k3 with bias")
    yield Sample((mk(1, 4, 6), mk(2, 2, 2)), {"stride": 2, "padding": 1, "groups": 2}, "stride 2 groups 2")
    yield Sample((mk(2, 3, 5, transposed=True), mk(2, 3, 1)), {}, "transposed input")


@_listed()
def _conv_transpose2d_samples(mk, ints):
    yield Sample((mk(2, 3, 4, 4), mk(3, 2, 3, 3), mk(2)), {}, "3x3 with bias")
    yield Sample((mk(1, 2, 3, 5), mk(2, 3, 2, 2)), {"stride": 2, "padding": 1}, "stride 2 padding 1")


@_listed()
def _linear_samples(mk, ints):
    yield Sample((mk(3, 5), mk(4, 5), mk(4)), {}, "2-D with bias")
    yield Sample((mk(2, 3, 5), mk(4, 5)), {}, "3-D without bias")
    yield Sample((mk(5, 3, transposed=True), mk(2, 3)), {}, "transposed input")
    yield Sample((mk(0, 5), mk(4, 5), mk(4)), {}, "no rows")


@_listed()
def _layer_norm_samples(mk, ints):
    yield Sample((mk(3, 5), (5,), mk(5), mk(5)), {}, "(3, 5) affine")
    yield Sample((mk(2, 3, 4), (3, 4)), {}, "over two dims, no affine")
    yield Sample((mk(4, 1), (1,)), {}, "D = 1")
    yield Sample((mk(6, 3, transposed=True), (3,), mk(3), None), {"eps": 1e-3}, "transposed")
    yield Sample((mk(0, 4), (4,)), {}, "no rows")


@_listed()
def _batch_norm_samples(mk, ints):
    yield Sample((mk(5, 3), None, None, mk(3), mk(3)), {"training": True}, "(5, 3) affine")
    yield Sample((mk(2, 3, 4, 5), None, None), {"training": True}, "(2, 3, 4, 5)")
    yield Sample((mk(3, 1, 1, 2),), {"running_mean": None, "running_var": None, "training": True}, "odd")


@_listed()
def _group_norm_samples(mk, ints):
    yield Sample((mk(2, 4, 3), 2, mk(4), mk(4)), {}, "2 groups affine")
    yield Sample((mk(3, 6, 2, 2), 3), {}, "(3, 6, 2, 2)")
    yield Sample((mk(1, 2, 5), 1), {}, "one group")


@_listed()
def _instance_norm_samples(mk, ints):
    yield Sample((mk(2, 3, 5),), {}, "(2, 3, 5)")
    yield Sample((mk(1, 2, 3, 4),), {}, "(1, 2, 3, 4)")


def _softmax_like(mk, ints):
    yield Sample((mk(3, 5),), {"dim": -1}, "(3, 5) dim -1")
    yield Sample((mk(2, 3, 4),), {"dim": 1}, "(2, 3, 4) dim 1")
    yield Sample((mk(7),), {"dim": 0}, "(7,)")
    yield Sample((mk(4, 1),), {"dim": 1}, "size-1 dim")
    yield Sample((mk(5, 3, transposed=True),), {"dim": 0}, "transposed")
    yield Sample((mk(0, 3),), {"dim": 1}, "no rows")


_softmax_samples = _listed()(_softmax_like)


@_listed()
def _cross_entropy_samples(mk, ints):
    yield Sample((mk(4, 5), ints(5, 4)), {}, "(4, 5) mean")
    yield Sample((mk(3, 4, 2), ints(4, 3, 2)), {"reduction": "sum"}, "(3, 4, 2) sum")
    yield Sample((mk(1, 3), ints(3, 1)), {"reduction": "none"}, "one row")
    yield Sample((mk(3, 6, transposed=True), ints(6, 3)), {}, "transposed logits")


@_listed()
def _bce_logits_samples(mk, ints):
    yield Sample((mk(4, 3), mk(4, 3, domain="unit").abs()), {}, "(4, 3)")
    yield Sample((mk(7), mk(7, domain="unit").abs()), {"reduction": "sum"}, "(7,) sum")


@_listed()
def _sdpa_samples(mk, ints):
    yield Sample((mk(2, 5, 4), mk(2, 6, 4), mk(2, 6, 3)), {}, "(2, 5, 4) x (2, 6, 4)")
    yield Sample((mk(1, 2, 4, 3), mk(1, 2, 4, 3), mk(1, 2, 4, 3)), {"is_causal": True}, "causal")
    yield Sample((mk(3, 3), mk(5, 3), mk(5, 2)), {"scale": 0.5}, "2-D, scale 0.5")
    yield Sample((mk(2, 4, 3), mk(2, 4, 3), mk(2, 4, 3)),
                 {"attn_mask": mk(4, 4)}, "additive mask")


def _cell_weights(mk, gates, i, h):
    return mk(gates * h, i), mk(gates * h, h), mk(gates * h), mk(gates * h)


@_listed()
def _lstm_cell_samples(mk, ints):
    yield Sample((mk(3, 4), (mk(3, 5), mk(3, 5)), *_cell_weights(mk, 4, 4, 5)), {}, "B=3 I=4 H=5")
    w = _cell_weights(mk, 4, 2, 3)
    yield Sample((mk(1, 2), (mk(1, 3), mk(1, 3)), w[0], w[1]), {}, "one row, no bias")


def _lstm_cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    """F-style LSTMCell call, (h, c) = lstm_cell(input, (h, c), weights...)."""
    return rnn_cell.lstm_cell(input, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def _lstm_cell_ref2(x, hx, w_ih, w_hh, b_ih=None, b_hh=None):
    return lstm_cell_ref(x, hx[0], hx[1], w_ih, w_hh, b_ih, b_hh)


def _elman_samples(gates):
    @_listed()
    def _cell(mk, ints):
        yield Sample((mk(3, 4), mk(3, 5), *_cell_weights(mk, gates, 4, 5)), {}, "B=3 I=4 H=5")
        w = _cell_weights(mk, gates, 2, 3)
        yield Sample((mk(1, 2), mk(1, 3), w[0], w[1]), {}, "one row, no bias")
    return _cell


@_listed()
def _lstm_samples(mk, ints):
    yield Sample((mk(3, 2, 12), mk(2, 3), mk(2, 3), mk(12, 3)), {}, "T=3 B=2 H=3")
    yield Sample((mk(4, 1, 8), mk(1, 2), mk(1, 2), mk(8, 2)), {"reverse": True}, "reverse")


@_listed()
def _pool2d_samples(mk, ints):
    yield Sample((mk(2, 3, 4, 6),), {"kernel_size": 2}, "2x2")
    yield Sample((mk(1, 2, 5, 7),), {"kernel_size": 3, "stride": 2}, "3x3 stride 2, odd sizes")
    yield Sample((mk(1, 1, 4, 4, transposed=True),), {"kernel_size": (2, 1)}, "transposed")


@_listed()
def _gelu_samples(mk, ints):
    yield Sample((mk(3, 5),), {}, "(3, 5) erf")
    yield Sample((mk(7),), {"approximate": "tanh"}, "(7,) tanh")
    yield Sample((mk(4, 3, transposed=True),), {}, "transposed")
    yield Sample((mk(0, 3),), {}, "empty")


def _softmax_errors(device):
    yield (_t(np.zeros((2, 3)), device, _dtype.float64),), {"dim": 2}, IndexError
    yield (_t(np.zeros((2, 3)), device, _dtype.int64),), {"dim": 1}, RuntimeError



def _kernel_rows() -> list[OpInfo]:
    return [
        OpInfo("conv2d", conv.conv2d, _conv2d_samples, op=(conv._Conv2d,),
               kernels=("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
                        "conv2d_backward_bias"), reference=conv2d_ref, k=27,
               errors=_shape_errors(lambda z: (z(2, 3, 5), z(4, 3, 3, 3))),
               bench_shapes=(((64, 1, 28, 28), (6, 1, 5, 5)), ((32, 64, 32, 32), (64, 64, 3, 3))),
               files=("tests/test_functional_conv.py", "tests/test_conv.py",
                      "benchmarks/bench_conv.py")),
        OpInfo("conv1d", conv.conv1d, _conv1d_samples, op=(conv._Conv2d,),
               kernels=("conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight",
                        "conv2d_backward_bias"), reference=_conv1d_ref, k=9,
               errors=_shape_errors(lambda z: (z(2, 3), z(4, 3, 3))),
               files=("tests/test_functional_conv.py",)),
        OpInfo("conv_transpose2d", conv.conv_transpose2d, _conv_transpose2d_samples,
               op=(conv._ConvTranspose2d,),
               kernels=("conv2d_backward_input", "conv2d_forward", "conv2d_backward_weight",
                        "conv2d_backward_bias"), k=27,
               files=("tests/test_functional_conv.py",)),
        OpInfo("linear", conv.linear, _linear_samples, op=(conv._Linear,), kernels=("gemm",),
               reference=_linear_ref, k=5,
               errors=_shape_errors(lambda z: (z(3, 5), z(4, 6))),
               files=("tests/test_functional_conv.py", "tests/test_gemm.py",
                      "benchmarks/bench_gemm.py")),
        OpInfo("layer_norm", layer_norm, _layer_norm_samples, op=(_LayerNorm,),
               kernels=("layer_norm_forward", "layer_norm_backward"), reference=layer_norm_ref, k=12,
               errors=_shape_errors(lambda z: (z(3, 5), (4,))),
               bench_shapes=((4096, 1024),),
               files=("tests/test_functional_norm.py", "tests/test_norm.py",
                      "benchmarks/bench_norm.py")),
        OpInfo("batch_norm", batch_norm, _batch_norm_samples, op=(_BatchNormTrain,),
               kernels=("batch_norm_forward_train", "batch_norm_backward"),
               reference=_batch_norm_ref, k=40,
               bench_shapes=((64, 64, 32, 32),),
               files=("tests/test_functional_norm.py", "tests/test_norm.py",
                      "benchmarks/bench_norm.py")),
        OpInfo("group_norm", group_norm, _group_norm_samples, op=(_GroupNorm,),
               kernels=("group_norm_forward", "group_norm_backward"), reference=_group_norm_ref,
               k=12, errors=_shape_errors(lambda z: (z(2, 4, 3), 3)),
               bench_shapes=((64, 64, 32, 32),),
               files=("tests/test_functional_norm.py", "tests/test_norm.py",
                      "benchmarks/bench_norm.py")),
        OpInfo("instance_norm", instance_norm, _instance_norm_samples,
               op=(_BatchNormTrain,),
               kernels=("batch_norm_forward_train", "batch_norm_backward"),
               reference=_instance_norm_ref, k=12, files=("tests/test_functional_norm.py",)),
        OpInfo("softmax", softmax, _softmax_samples, op=(_Softmax,),
               kernels=("softmax_forward", "softmax_backward"), reference=softmax_ref, k=7,
               errors=_softmax_errors, bench_shapes=((4096, 1000),),
               files=("tests/test_functional_softmax.py", "tests/test_softmax_xent.py",
                      "benchmarks/bench_softmax_xent.py")),
        OpInfo("log_softmax", log_softmax, _softmax_samples, op=(_Softmax,),
               kernels=("softmax_forward", "softmax_backward"), reference=log_softmax_ref, k=7,
               errors=_softmax_errors, bench_shapes=((4096, 1000),),
               files=("tests/test_functional_softmax.py", "tests/test_softmax_xent.py",
                      "benchmarks/bench_softmax_xent.py")),
        OpInfo("softmin", softmin, _softmax_samples, op=(_Softmax,),
               kernels=("softmax_forward", "softmax_backward"),
               reference=lambda x, dim: softmax_ref(-x, dim), k=7, errors=_softmax_errors,
               files=("tests/test_functional_softmax.py",)),
        OpInfo("cross_entropy", cross_entropy, _cross_entropy_samples,
               op=(_CrossEntropy,),
               kernels=("cross_entropy_forward", "cross_entropy_backward"),
               reference=cross_entropy_ref, k=24,
               errors=_shape_errors(lambda z: (z(4, 5), z(3).long()), ValueError),
               bench_shapes=((4096, 1000),),
               files=("tests/test_functional_softmax.py", "tests/test_softmax_xent.py",
                      "benchmarks/bench_softmax_xent.py")),
        OpInfo("binary_cross_entropy_with_logits", binary_cross_entropy_with_logits,
               _bce_logits_samples, op=(_BCEWithLogits,),
               kernels=("binary_cross_entropy_with_logits_forward",
                        "binary_cross_entropy_with_logits_backward"),
               reference=_bce_logits_ref, k=12,
               errors=_shape_errors(lambda z: (z(4, 3), z(5)), ValueError),
               files=("tests/test_functional_softmax.py", "tests/test_softmax_xent.py")),
        OpInfo("scaled_dot_product_attention", attention.scaled_dot_product_attention,
               _sdpa_samples, op=(attention._SDPA,),
               kernels=("scaled_dot_product_attention_forward", "scaled_dot_product_attention_backward"),
               reference=sdpa_ref, k=12,
               errors=_shape_errors(lambda z: (z(2, 5, 4), z(2, 6, 3), z(2, 6, 3))),
               bench_shapes=((32, 512, 64),),
               files=("tests/test_functional_attention.py", "tests/test_attention.py",
                      "benchmarks/bench_attention.py")),
        OpInfo("lstm_cell", _lstm_cell, _lstm_cell_samples, op=(rnn_cell._LSTMCell,),
               kernels=("lstm_cell_forward", "lstm_cell_backward", "gemm"),
               reference=_lstm_cell_ref2, k=10, bench_shapes=((64, 512),),
               files=("tests/test_functional_rnn_cell.py", "tests/test_rnn_cell.py",
                      "benchmarks/bench_rnn_cell.py")),
        OpInfo("gru_cell", rnn_cell.gru_cell, _elman_samples(3), op=(rnn_cell._GRUCell,),
               kernels=("gru_cell_forward", "gru_cell_backward", "gemm"), reference=gru_cell_ref,
               k=10, bench_shapes=((64, 512),),
               files=("tests/test_functional_rnn_cell.py", "tests/test_rnn_cell.py",
                      "benchmarks/bench_rnn_cell.py")),
        OpInfo("rnn_tanh_cell", rnn_cell.rnn_tanh_cell, _elman_samples(1), op=(conv._Linear,),
               kernels=("gemm",), reference=_rnn_cell_ref(np.tanh), k=10,
               files=("tests/test_functional_rnn_cell.py",)),
        OpInfo("rnn_relu_cell", rnn_cell.rnn_relu_cell, _elman_samples(1), op=(conv._Linear,),
               kernels=("gemm", "relu_forward", "relu_backward"),
               reference=_rnn_cell_ref(lambda a: np.maximum(a, 0)), k=10,
               files=("tests/test_functional_rnn_cell.py",)),
        # The op nn.LSTM runs per layer and direction (sequences of one length).
        OpInfo("lstm", rnn_cell.lstm_layer, _lstm_samples, op=(rnn_cell._LSTMLayer,),
               kernels=("lstm_cell_forward", "lstm_cell_backward", "gemm"),
               reference=_lstm_layer_ref, k=10,
               files=("tests/test_nn_rnn.py", "benchmarks/bench_rnn_cell.py")),
        OpInfo("gelu", activation.gelu, _gelu_samples, op=(activation._Gelu,),
               kernels=("gelu_forward", "gelu_backward"), reference=_gelu_ref, errors=_unary_errors,
               files=("tests/test_functional_rnn_cell.py", "tests/test_elementwise.py",
                      "benchmarks/bench_elementwise.py")),
        OpInfo("silu", activation.silu, _silu_samples, op=(activation._Silu,),
               kernels=("silu_forward", "silu_backward"),
               reference=lambda x: x * sigmoid_ref(x), errors=_unary_errors,
               files=("tests/test_functional_rnn_cell.py", "tests/test_elementwise.py",
                      "benchmarks/bench_elementwise.py")),
        OpInfo("relu", pointwise.relu, unary_samples("nonzero"), op=(pointwise._ReluGrad,),
               kernels=("relu_forward", "relu_backward"), reference=lambda x: np.maximum(x, 0),
               files=(_OPS_TEST, "tests/test_elementwise.py", "benchmarks/bench_elementwise.py")),
        OpInfo("max_pool2d", pool.max_pool2d, _pool2d_samples, op=(pool._MaxPool2d,),
               kernels=("max_pool2d_forward", "max_pool2d_backward", "max_unpool2d_backward"),
               reference=_max_pool2d_ref,
               errors=_shape_errors(lambda z: (z(2, 3), 2)),
               bench_shapes=((64, 64, 32, 32),),
               files=("tests/test_functional_pool.py", "tests/test_pool.py",
                      "benchmarks/bench_pool.py")),
        OpInfo("avg_pool2d", pool.avg_pool2d, _pool2d_samples, op=(pool._ApplyPlaneMap,),
               kernels=("avg_pool2d_forward", "avg_pool2d_backward"), reference=_avg_pool2d_ref,
               k=9, bench_shapes=((64, 64, 32, 32),),
               files=("tests/test_functional_pool.py", "tests/test_pool.py",
                      "benchmarks/bench_pool.py")),
        OpInfo("matmul", linalg.matmul, _matmul_samples, op=(linalg.Matmul,), kernels=("gemm",),
               reference=np.matmul, k=5,
               errors=_shape_errors(lambda z: (z(3, 4), z(5, 2))),
               files=(_OPS_TEST, "tests/test_gemm.py", "benchmarks/bench_gemm.py")),
        OpInfo("cumsum", reduce.cumsum, reduce_samples(cases=[((5,), {"dim": 0}),
                                                              ((3, 4), {"dim": 1}),
                                                              ((0, 3), {"dim": 1})]),
               op=(reduce.Cumsum,), reference=lambda x, dim: np.cumsum(x, dim), k=4,
               errors=_dim_errors(reduce.cumsum), files=(_OPS_TEST,)),
        OpInfo("transpose", shape.transpose, _transpose_samples, op=(shape.Permute,),
               reference=lambda x, d0, d1: np.swapaxes(x, d0, d1),
               errors=lambda device: iter([((_t(np.zeros((2, 3)), device, _dtype.float64), 0, 2),
                                            {}, IndexError)]),
               files=(_OPS_TEST,)),
    ]


@_listed()
def _silu_samples(mk, ints):
    yield Sample((mk(3, 5),), {}, "(3, 5)")
    yield Sample((mk(4, 3, transposed=True),), {}, "transposed")
    yield Sample((mk(0, 3),), {}, "empty")


@_listed()
def _matmul_samples(mk, ints):
    yield Sample((mk(3, 4), mk(4, 5)), {}, "(3, 4) @ (4, 5)")
    yield Sample((mk(2, 3, 4), mk(4,)), {}, "batched @ vector")
    yield Sample((mk(2, 1, 3, 2), mk(3, 2, 4)), {}, "broadcast batch")
    yield Sample((mk(4, 3, transposed=True), mk(3, 2)), {}, "transposed")
    yield Sample((mk(0, 4), mk(4, 2)), {}, "no rows")


@_listed()
def _transpose_samples(mk, ints):
    yield Sample((mk(3, 4), 0, 1), {}, "(3, 4)")
    yield Sample((mk(2, 3, 4), -1, 0), {}, "(2, 3, 4)")
    yield Sample((mk(0, 2), 0, 1), {}, "empty")


ROWS: list[OpInfo] = []


def rows() -> list[OpInfo]:
    return _rows_family() + _kernel_rows()
