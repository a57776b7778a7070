"""Reductions: sum, mean, var/std, max/min (values and indices), arg-reductions, topk, sort,
logsumexp, norm, cumsum/cumprod, prod, all/any."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _dtype, backend
from ..autograd.function import Op
from ..tensor import Tensor
from ._util import dims_tuple, with_out, wrap_dim
from .index import scatter
from .pointwise import maximum, minimum, where
from .shape import cat

# The public ops (``from .reduce import *`` in ember.ops); helpers are imported by their module path.
__all__ = [
    "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "argsort", "bincount", "count_nonzero", "cumprod",
    "cumsum", "kthvalue", "logsumexp", "max", "mean", "median", "min", "nanmean", "nansum", "norm", "prod",
    "renorm", "sort", "std", "std_mean", "sum", "topk", "unique", "var", "var_mean",
]

values_indices = namedtuple("return_types", ["values", "indices"])


def _expand_back(g: Tensor, in_shape, dims, keepdim: bool) -> Tensor:
    """Broadcast a reduced gradient back over the reduced dims."""
    if not keepdim:
        shape = list(in_shape)
        for d in dims:
            shape[d] = 1
        g = g.reshape(tuple(shape))
    return g.expand(tuple(in_shape))


class Sum(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dims, keepdim, dtype):
        ctx.in_shape, ctx.dims, ctx.keepdim = x.shape, dims, keepdim
        return backend.xp_of(x).sum(x, axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return _expand_back(g, ctx.in_shape, ctx.dims, ctx.keepdim)


@with_out
def sum(input, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A001
    dims = dims_tuple(dim, input.ndim)
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else (
        np.dtype(np.int64) if input._data.dtype.kind in "biu" else None)
    return Sum.apply(input, dims=dims, keepdim=keepdim, dtype=np_dtype)


@with_out
def nansum(input, dim=None, keepdim=False):
    return sum(input.masked_fill(input.isnan(), 0), dim, keepdim)


@with_out
def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    if input._data.dtype.kind != "f" and dtype is None:
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating "
                           f"point or complex dtype. Got: {input.dtype.name.capitalize()}")
    x = input if dtype is None else input.to(dtype)
    dims = dims_tuple(dim, x.ndim)
    n = 1
    for d in dims:
        n *= x.shape[d]
    return sum(x, dims, keepdim) / (n if n else float("nan"))


@with_out
def nanmean(input, dim=None, keepdim=False):
    keep = (~input.isnan()).float() if input.dtype != _dtype.float64 else (~input.isnan()).double()
    return nansum(input, dim, keepdim) / sum(keep, dim, keepdim)


@with_out
def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    if unbiased is not None and correction is not None:
        raise ValueError("var(): pass either 'unbiased' or 'correction', not both")
    if isinstance(dim, bool):  # var(x, False) is var(x, unbiased=False) in PyTorch
        unbiased, dim = dim, None
    corr = correction if correction is not None else (1 if unbiased is None or unbiased else 0)
    dims = dims_tuple(dim, input.ndim)
    n = 1
    for d in dims:
        n *= input.shape[d]
    centered = input - mean(input, dims, keepdim=True)
    denom = n - corr
    return sum(centered * centered, dims, keepdim) / (denom if denom > 0 else float("nan"))


@with_out
def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


# ---- max / min ----------------------------------------------------------------------------------
class _Extreme(Op):
    """Full reduction (amax-style): the gradient is shared equally among tied extrema."""

    @staticmethod
    def forward(ctx, x, dims, keepdim, largest):
        xp = backend.xp_of(x)
        ctx.dims, ctx.keepdim = dims, keepdim
        return (xp.max if largest else xp.min)(x, axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        x = ctx.inputs[0]
        y = _expand_back(ctx.output().detach(), x.shape, ctx.dims, ctx.keepdim)
        mask = (x == y).to(x.dtype)
        count = sum(mask, ctx.dims, keepdim=True)
        return _expand_back(g, x.shape, ctx.dims, ctx.keepdim) * mask / count


class _ExtremeDim(Op):
    """max/min along one dim returning (values, indices); the gradient goes to the chosen index."""

    @staticmethod
    def forward(ctx, x, dim, keepdim, largest):
        xp = backend.xp_of(x)
        idx = (xp.argmax if largest else xp.argmin)(x, axis=dim)
        idx_k = xp.expand_dims(idx, dim)
        vals = xp.take_along_axis(x, idx_k, axis=dim)
        ctx.dim, ctx.keepdim, ctx.in_shape = dim, keepdim, x.shape
        if not keepdim:
            vals = xp.squeeze(vals, dim)
        ctx.index = idx_k
        out_idx = Tensor._make(idx_k if keepdim else idx)
        ctx.mark_non_differentiable(out_idx)
        return vals, out_idx

    @staticmethod
    def backward(ctx, g, _gi):
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.dim)
        zeros = Tensor._make(backend.xp_of(g._data).zeros(ctx.in_shape, dtype=g._data.dtype))
        return scatter(zeros, ctx.dim, Tensor._make(ctx.index), g)


def _max_min(input, dim, keepdim, largest, other=None):
    if isinstance(dim, Tensor) or other is not None:
        return (maximum if largest else minimum)(input, dim if other is None else other)
    if input.numel() == 0 and (dim is None or input.shape[wrap_dim(dim, input.ndim)] == 0):
        raise RuntimeError(f"{'max' if largest else 'min'}(): Expected reduction dim to be specified for "
                           "input.numel() == 0. Specify the reduction dim with the 'dim' argument.")
    if dim is None:
        return _Extreme.apply(input, dims=tuple(range(input.ndim)), keepdim=False, largest=largest)
    vals, idx = _ExtremeDim.apply(input, dim=wrap_dim(dim, input.ndim), keepdim=keepdim, largest=largest)
    return values_indices(vals, idx)


@with_out
def max(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    return _max_min(input, dim, keepdim, True, other)


@with_out
def min(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    return _max_min(input, dim, keepdim, False, other)


@with_out
def amax(input, dim=(), keepdim=False):
    return _Extreme.apply(input, dims=dims_tuple(dim, input.ndim), keepdim=keepdim, largest=True)


@with_out
def amin(input, dim=(), keepdim=False):
    return _Extreme.apply(input, dims=dims_tuple(dim, input.ndim), keepdim=keepdim, largest=False)


@with_out
def aminmax(input, *, dim=None, keepdim=False):
    return namedtuple("return_types", ["min", "max"])(amin(input, dim if dim is not None else (), keepdim),
                                                       amax(input, dim if dim is not None else (), keepdim))


def _arg(input, dim, keepdim, largest):
    xp = backend.xp_of(input._data)
    fn = xp.argmax if largest else xp.argmin
    if dim is None:
        out = fn(input._data.reshape(-1))
        return Tensor._make(xp.asarray(out, dtype=np.int64).reshape((1,) * input.ndim if keepdim else ()))
    d = wrap_dim(dim, input.ndim)
    out = fn(input._data, axis=d)
    if keepdim:
        out = xp.expand_dims(out, d)
    return Tensor._make(out.astype(np.int64, copy=False))


@with_out
def argmax(input, dim=None, keepdim: bool = False):
    return _arg(input, dim, keepdim, True)


@with_out
def argmin(input, dim=None, keepdim: bool = False):
    return _arg(input, dim, keepdim, False)


class _TakeSorted(Op):
    """values = gather(x, dim, indices) for sort/topk; backward scatters into zeros."""

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.dim, ctx.in_shape = dim, x.shape
        return backend.xp_of(x).take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        zeros = Tensor._make(backend.xp_of(g._data).zeros(ctx.in_shape, dtype=g._data.dtype))
        return scatter(zeros, ctx.dim, ctx.inputs[1], g), None


@with_out
def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    d = wrap_dim(dim, input.ndim) if input.ndim else 0
    xp = backend.xp_of(input._data)
    if input.ndim == 0:
        return values_indices(input.clone(), Tensor._make(xp.zeros((), np.int64)))
    key = -input._data if descending and input._data.dtype.kind in "fi" else input._data
    idx = xp.argsort(key, axis=d, kind="stable")
    if descending and input._data.dtype.kind not in "fi":
        idx = xp.flip(idx, axis=d)
    idx_t = Tensor._make(idx.astype(np.int64, copy=False))
    return values_indices(_TakeSorted.apply(input, idx_t, dim=d), idx_t)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input, dim, descending, stable).indices


@with_out
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    d = wrap_dim(dim, input.ndim)
    if not 0 <= k <= input.shape[d]:
        raise RuntimeError(f"selected index k out of range (k={k}, dim size {input.shape[d]})")
    vals, idx = sort(input, d, descending=largest)
    sl = [slice(None)] * input.ndim
    sl[d] = slice(0, k)
    return values_indices(vals[tuple(sl)], idx[tuple(sl)])


@with_out
def kthvalue(input, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, input.ndim)
    vals, idx = sort(input, d)
    v, i = vals.narrow(d, k - 1, 1), idx.narrow(d, k - 1, 1)
    return values_indices(v if keepdim else v.squeeze(d), i if keepdim else i.squeeze(d))


@with_out
def median(input, dim=None, keepdim=False):
    if dim is None:
        flat = input.reshape(-1)
        return sort(flat).values[(flat.numel() - 1) // 2]
    d = wrap_dim(dim, input.ndim)
    return kthvalue(input, (input.shape[d] - 1) // 2 + 1, d, keepdim)


@with_out
def logsumexp(input, dim=None, keepdim: bool = False):
    dims = dims_tuple(dim, input.ndim)
    m = amax(input, dims, keepdim=True).detach()
    m = m.masked_fill(~m.isfinite(), 0)  # all -inf rows: avoid inf - inf
    out = (input - m).exp().sum(dims, keepdim=True).log() + m
    return out if keepdim else out.reshape(tuple(s for i, s in enumerate(input.shape) if i not in dims))


class _VectorNorm(Op):
    """The p-norm ``(sum |x|^p)^(1/p)`` over ``dims``, the one Ember uses everywhere (ember.norm,
    Tensor.norm, F.normalize, cosine_similarity, pairwise_distance, pdist, cdist, clip_grad_norm_).
    p = inf / -inf: max / min of |x|; p = 0: the number of non-zeros. The backward is PyTorch's
    norm_backward: finite where the norm is 0 (0 for p >= 1), an inf-norm's gradient shared among
    the entries of maximal |x|."""

    @staticmethod
    def forward(ctx, x, p, dims, keepdim):
        ctx.p, ctx.dims, ctx.keepdim = p, dims, keepdim
        xp = backend.xp_of(x)
        a = xp.abs(x)
        if p == 2:
            r = xp.sqrt((a * a).sum(axis=dims, keepdims=keepdim))
        elif p == 1:
            r = a.sum(axis=dims, keepdims=keepdim)
        elif p == float("inf"):
            r = a.max(axis=dims, keepdims=keepdim)
        elif p == -float("inf"):
            r = a.min(axis=dims, keepdims=keepdim)
        elif p == 0:
            r = (x != 0).sum(axis=dims, keepdims=keepdim)
        else:
            with np.errstate(divide="ignore"):
                r = (a ** p).sum(axis=dims, keepdims=keepdim) ** (1.0 / p)
        return xp.asarray(r, dtype=x.dtype)

    @staticmethod
    def backward(ctx, g):
        x, p = ctx.inputs[0], ctx.p
        n = ctx.output()
        if not ctx.keepdim:
            for d in ctx.dims:
                n, g = n.unsqueeze(d), g.unsqueeze(d)
        if p == 0:  # piecewise constant
            zeros = Tensor._make(backend.xp_of(x._data).zeros(x.shape, x._data.dtype))
            return zeros, None, None, None
        if p == 1:
            return x.sign() * g, None, None, None
        if p in (float("inf"), -float("inf")):
            a = x.abs()
            hit = ((a == n) | a.isnan()).to(x.dtype)
            return x.sign() * hit * (g / hit.sum(ctx.dims, keepdim=True)), None, None, None
        zero = n == 0
        if p < 1:
            # |x|^(p-1) is infinite at x == 0, where the entry contributes nothing: 0 there
            scaled = where(x == 0, 0.0, x.sign() * where(x == 0, 1.0, x.abs()) ** (p - 1))
            return scaled * g * n ** (1 - p), None, None, None
        safe = where(zero, 1.0, n)
        if p == 2:
            scaled = x
        else:
            scaled = x * x.abs() ** (p - 2) if p > 2 else x.sign() * x.abs() ** (p - 1)
        return scaled * where(zero, 0.0, g / safe ** (p - 1)), None, None, None


def vector_norm(x, ord=2, dim=None, keepdim: bool = False, *, dtype=None):  # noqa: A002
    """PyTorch's ``linalg.vector_norm``: the entries of ``x`` over ``dim`` (all when None) as one
    vector; ``dtype`` casts ``x`` first."""
    if isinstance(ord, str):
        raise RuntimeError(f"linalg.vector_norm: ord must be a number, got '{ord}'")
    if dtype is not None:
        x = x.to(dtype)
    if x._data.dtype.kind != "f":
        raise RuntimeError("linalg.vector_norm: Expected a floating point or complex tensor as "
                           f"input. Got {x.dtype.name.capitalize()}")
    return _VectorNorm.apply(x, float(ord), dims_tuple(dim, x.ndim), keepdim)


@with_out
def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    if p == "nuc":
        raise NotImplementedError("nuclear norm is not supported")
    if p == "fro":
        p = 2  # Frobenius over any dims: the 2-norm of those entries as one vector
    elif isinstance(p, str):
        raise RuntimeError(f"norm(): unsupported p='{p}'")
    return vector_norm(input, p, dim, keepdim, dtype=dtype)


def renorm(input, p, dim: int, maxnorm):
    """Rescale each slice ``input.select(dim, i)`` whose ``p``-norm exceeds ``maxnorm`` to norm
    ``maxnorm`` (max-norm regularisation: ``w.data.renorm_(2, 0, c)`` bounds each unit's
    incoming weights). Same shape as ``input``, which needs at least 2 dimensions."""
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    if p <= 0:
        raise RuntimeError(f"renorm: non-positive-norm not supported, got p={p}")
    d = wrap_dim(dim, input.ndim)
    n = norm(input, p, tuple(i for i in range(input.ndim) if i != d), keepdim=True)
    # PyTorch's rule: scale by maxnorm / (norm + 1e-7) only where the norm exceeds maxnorm
    return input * where(n > maxnorm, maxnorm / (n + 1e-7), 1.0)


class Cumsum(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dim, dtype):
        ctx.dim = dim
        return backend.xp_of(x).cumsum(x, axis=dim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dim).cumsum(ctx.dim).flip(ctx.dim)


@with_out
def cumsum(input, dim: int, *, dtype=None):
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else (
        np.dtype(np.int64) if input._data.dtype.kind in "biu" else None)
    return Cumsum.apply(input, dim=wrap_dim(dim, input.ndim), dtype=np_dtype)


@with_out
def cumprod(input, dim: int, *, dtype=None):
    # exp(cumsum(log|x|)) with signs would lose zeros; a product scan as a composite keeps exactness.
    d = wrap_dim(dim, input.ndim)
    parts = [input.narrow(d, 0, 1)]
    for i in range(1, input.shape[d]):
        parts.append(parts[-1] * input.narrow(d, i, 1))
    return cat(parts, d) if parts else input.clone()


@with_out
def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    if dim is None:
        flat = input.reshape(-1)
        return cumprod(flat, 0)[-1] if flat.numel() else Tensor._make(
            backend.xp_of(input._data).ones((), input._data.dtype))
    d = wrap_dim(dim, input.ndim)
    out = cumprod(input, d).narrow(d, input.shape[d] - 1, 1)
    return out if keepdim else out.squeeze(d)


@with_out
def all(input, dim=None, keepdim=False):  # noqa: A001
    xp = backend.xp_of(input._data)
    return Tensor._make(xp.asarray(xp.all(input._data, axis=None if dim is None else dims_tuple(dim, input.ndim),
                                          keepdims=keepdim)))


@with_out
def any(input, dim=None, keepdim=False):  # noqa: A001
    xp = backend.xp_of(input._data)
    return Tensor._make(xp.asarray(xp.any(input._data, axis=None if dim is None else dims_tuple(dim, input.ndim),
                                          keepdims=keepdim)))


def count_nonzero(input, dim=None):
    return sum(input != 0, dim)


def bincount(input, weights=None, minlength=0):
    xp = backend.xp_of(input._data)
    w = None if weights is None else weights._data
    return Tensor._make(xp.bincount(input._data, weights=w, minlength=minlength))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    xp = backend.xp_of(input._data)
    res = xp.unique(input._data, return_inverse=return_inverse, return_counts=return_counts)
    if not isinstance(res, tuple):
        return Tensor._make(res)
    out = [Tensor._make(res[0])]
    if return_inverse:
        out.append(Tensor._make(res[1].reshape(input.shape).astype(np.int64)))
    if return_counts:
        out.append(Tensor._make(res[-1].astype(np.int64)))
    return tuple(out)
