"""Reductions: sum, mean, var/std, max/min (values and indices), arg-reductions, topk, sort,
logsumexp, norm, cumsum/cumprod, prod, all/any."""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .. import _dtype, backend
from ..autograd.function import Op
from ..tensor import Tensor
from ._util import _TORCH_NAMES, dims_tuple, with_out, wrap_dim
from .index import Gather, scatter
from .pointwise import maximum, minimum, where
from .shape import cat

# The public ops (``from .reduce import *`` in ember.ops); helpers are imported by their module path.
__all__ = [
    "all", "amax", "amin", "aminmax", "any", "argmax", "argmin", "argsort", "bincount", "count_nonzero", "cumprod",
    "cumsum", "kthvalue", "logsumexp", "max", "mean", "median", "min", "nanmean", "nansum", "norm", "prod",
    "renorm", "sort", "std", "std_mean", "sum", "topk", "unique", "var", "var_mean",
]

values_indices = namedtuple("return_types", ["values", "indices"])
min_max = namedtuple("return_types", ["min", "max"])


def _nonempty_dims(name: str, input, dims) -> None:
    """PyTorch's check of a reduction without identity (max, median, ...): no reduced dim empty."""
    for d in dims:
        if input.shape[d] == 0:
            raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")


def _scalar_pick(input, dim):
    """(values, indices) of a dim-wise pick (max, kthvalue, ...) on a 0-d tensor: itself and 0."""
    wrap_dim(dim, 0)
    zero = Tensor._make(backend.xp_of(input._data).zeros((), np.int64))
    return values_indices(input.clone(), zero)


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
    """As torch.sum: the sum over ``dim`` (an int, a tuple, or all when None); integers sum as int64."""
    dims = dims_tuple(dim, input.ndim)
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else (
        np.dtype(np.int64) if input._data.dtype.kind in "biu" else None)
    return Sum.apply(input, dims=dims, keepdim=keepdim, dtype=np_dtype)


@with_out
def nansum(input, dim=None, keepdim=False):
    """As torch.nansum: sum treating NaN as zero."""
    return sum(input.masked_fill(input.isnan(), 0), dim, keepdim)


@with_out
def mean(input, dim=None, keepdim: bool = False, *, dtype=None):
    """As torch.mean: the mean over ``dim`` (all when None) of a floating tensor; NaN over no entries."""
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
    """As torch.nanmean: the mean of the non-NaN entries."""
    keep = (~input.isnan()).float() if input.dtype != _dtype.float64 else (~input.isnan()).double()
    return nansum(input, dim, keepdim) / sum(keep, dim, keepdim)


@with_out
def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None):
    """As torch.var: sum((x - mean)^2) / (N - correction) over ``dim``; correction 1 unless
    ``unbiased=False`` or ``correction`` says otherwise; NaN where N <= correction."""
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
    """As torch.std: the square root of var(...)."""
    return var(input, dim, unbiased, keepdim, correction=correction).sqrt()


def _with_mean(stat, input, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool):  # var_mean(x, False): the unbiased flag, as in var
        unbiased, dim = dim, None
    return stat(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """As torch.var_mean: (var(...), mean(...)) over the same dims."""
    return _with_mean(var, input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    """As torch.std_mean: (std(...), mean(...)) over the same dims."""
    return _with_mean(std, input, dim, unbiased, keepdim, correction)


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
    name = "max" if largest else "min"
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return _Extreme.apply(input, dims=tuple(range(input.ndim)), keepdim=False, largest=largest)
    if input.ndim == 0:
        return _scalar_pick(input, dim)
    d = wrap_dim(dim, input.ndim)
    _nonempty_dims(name, input, (d,))
    vals, idx = _ExtremeDim.apply(input, dim=d, keepdim=keepdim, largest=largest)
    return values_indices(vals, idx)


@with_out
def max(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """As torch.max: the largest entry (a 0-d tensor); with ``dim``, (values, indices) along it
    (the gradient goes to the index taken); with a Tensor, maximum(input, other)."""
    return _max_min(input, dim, keepdim, True, other)


@with_out
def min(input, dim=None, keepdim: bool = False, *, other=None):  # noqa: A001
    """As torch.min: the smallest entry; with ``dim``, (values, indices); with a Tensor, minimum."""
    return _max_min(input, dim, keepdim, False, other)


def _amax_amin(name, input, dim, keepdim, largest):
    dims = dims_tuple(dim, input.ndim)
    _nonempty_dims(name, input, dims)
    return _Extreme.apply(input, dims=dims, keepdim=keepdim, largest=largest)


@with_out
def amax(input, dim=(), keepdim=False):
    """As torch.amax: the maximum over ``dim`` (all when empty); tied maxima share the gradient."""
    return _amax_amin("amax", input, dim, keepdim, True)


@with_out
def amin(input, dim=(), keepdim=False):
    """As torch.amin: the minimum over ``dim`` (all when empty); tied minima share the gradient."""
    return _amax_amin("amin", input, dim, keepdim, False)


@with_out
def aminmax(input, *, dim=None, keepdim=False):
    """As torch.aminmax: (min, max) over ``dim`` (an int) or over all entries."""
    if dim is None and input.numel() == 0:
        raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the operation has "
                           "no identity.")
    dims = () if dim is None else wrap_dim(dim, input.ndim)
    return min_max(_amax_amin("aminmax", input, dims, keepdim, False),
                   _amax_amin("aminmax", input, dims, keepdim, True))


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
    """As torch.argmax: the index of the largest entry (of the flattened input when dim is None)."""
    return _arg(input, dim, keepdim, True)


@with_out
def argmin(input, dim=None, keepdim: bool = False):
    """As torch.argmin: the index of the smallest entry (of the flattened input when dim is None)."""
    return _arg(input, dim, keepdim, False)


@with_out
def sort(input, dim: int = -1, descending: bool = False, stable: bool = False):
    """As torch.sort: (values, indices) sorted along ``dim`` (always stably here); the gradient
    goes back to the positions taken."""
    if input.ndim == 0:
        return _scalar_pick(input, dim)
    d = wrap_dim(dim, input.ndim)
    xp = backend.xp_of(input._data)
    key = -input._data if descending and input._data.dtype.kind in "fi" else input._data
    idx = xp.argsort(key, axis=d, kind="stable")
    if descending and input._data.dtype.kind not in "fi":
        idx = xp.flip(idx, axis=d)
    idx_t = Tensor._make(idx.astype(np.int64, copy=False))
    return values_indices(Gather.apply(input, idx_t, dim=d), idx_t)


def argsort(input, dim=-1, descending=False, stable=False):
    """As torch.argsort: the indices of sort(...)."""
    return sort(input, dim, descending, stable).indices


def _check_k(name, input, k, d, low):
    n = input.shape[d] if input.ndim else 1
    if not low <= k <= n:
        raise RuntimeError(f"{name}(): selected number k out of range for dimension {d} (k={k}, size {n})")


@with_out
def topk(input, k: int, dim: int = -1, largest: bool = True, sorted: bool = True):  # noqa: A002
    """As torch.topk: (values, indices) of the k largest (``largest=False``: smallest) entries
    along ``dim``, in sorted order."""
    d = wrap_dim(dim, input.ndim)
    _check_k("topk", input, k, d, 0)
    if input.ndim == 0:
        return _scalar_pick(input, dim)
    vals, idx = sort(input, d, descending=largest)
    sl = [slice(None)] * input.ndim
    sl[d] = slice(0, k)
    return values_indices(vals[tuple(sl)], idx[tuple(sl)])


@with_out
def kthvalue(input, k, dim=-1, keepdim=False):
    """As torch.kthvalue: (values, indices) of the k-th smallest entry (k from 1) along ``dim``."""
    d = wrap_dim(dim, input.ndim)
    _check_k("kthvalue", input, k, d, 1)
    if input.ndim == 0:
        return _scalar_pick(input, dim)
    vals, idx = sort(input, d)
    v, i = vals.narrow(d, k - 1, 1), idx.narrow(d, k - 1, 1)
    return values_indices(v if keepdim else v.squeeze(d), i if keepdim else i.squeeze(d))


@with_out
def median(input, dim=None, keepdim=False):
    """As torch.median: the lower median (the ((n - 1) // 2)-th smallest) of all entries (NaN for
    none); with ``dim``, (values, indices) along it."""
    if dim is None:
        flat = input.reshape(-1)
        if not flat.numel():
            return Tensor._make(backend.xp_of(input._data).full((), np.nan, input._data.dtype))
        return sort(flat).values[(flat.numel() - 1) // 2]
    if input.ndim == 0:
        return _scalar_pick(input, dim)
    d = wrap_dim(dim, input.ndim)
    _nonempty_dims("median", input, (d,))
    return kthvalue(input, (input.shape[d] - 1) // 2 + 1, d, keepdim)


@with_out
def logsumexp(input, dim=None, keepdim: bool = False):
    """As torch.logsumexp: log(sum(exp(input))) over ``dim``, computed without overflow."""
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
                           f"input. Got {_TORCH_NAMES[x._data.dtype.name]}")
    dims = dims_tuple(dim, x.ndim)
    if abs(float(ord)) == float("inf") and 0 in [x.shape[d] for d in dims]:
        raise RuntimeError("linalg.vector_norm cannot compute the inf norm on an empty tensor because the "
                           "operation does not have an identity")
    return _VectorNorm.apply(x, float(ord), dims, keepdim)


@with_out
def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None):
    """As torch.norm: the p-norm ('fro' = 2) of the entries over ``dim`` (all when None) as one
    vector; its gradient at a zero norm is 0 (p >= 1)."""
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
    """As torch.cumsum: running sums along ``dim``; integers sum as int64."""
    d = wrap_dim(dim, input.ndim)
    if input.ndim == 0:  # (NumPy's cumsum of a 0-d array is 1-D)
        return cumsum(input.reshape(1), 0, dtype=dtype).reshape(())
    np_dtype = _dtype.to_dtype(dtype).np if dtype is not None else (
        np.dtype(np.int64) if input._data.dtype.kind in "biu" else None)
    return Cumsum.apply(input, dim=d, dtype=np_dtype)


@with_out
def cumprod(input, dim: int, *, dtype=None):
    """As torch.cumprod: running products along ``dim`` (integers as int64, ``dtype`` cast first);
    exact gradients through zeros."""
    d = wrap_dim(dim, input.ndim)
    if dtype is not None or input._data.dtype.kind in "biu":
        input = input.to(_dtype.int64 if dtype is None else dtype)
    if input.ndim == 0:
        return input.clone()
    # exp(cumsum(log|x|)) with signs would lose zeros; a product scan as a composite keeps exactness.
    parts = [input.narrow(d, 0, 1)]
    for i in range(1, input.shape[d]):
        parts.append(parts[-1] * input.narrow(d, i, 1))
    return cat(parts, d) if parts else input.clone()


@with_out
def prod(input, dim=None, keepdim: bool = False, *, dtype=None):
    """As torch.prod: the product over ``dim`` (one int) or over all entries (1 for none)."""
    if dim is None:
        flat = cumprod(input.reshape(-1), 0, dtype=dtype)
        return flat[-1] if flat.numel() else Tensor._make(backend.xp_of(flat._data).ones((), flat._data.dtype))
    d = wrap_dim(dim, input.ndim)
    if input.ndim == 0:
        return cumprod(input, d, dtype=dtype)
    out = cumprod(input, d, dtype=dtype).narrow(d, input.shape[d] - 1, 1)
    return out if keepdim else out.squeeze(d)


@with_out
def all(input, dim=None, keepdim=False):  # noqa: A001
    """As torch.all: whether every entry (over ``dim``) is non-zero, a bool Tensor."""
    xp = backend.xp_of(input._data)
    return Tensor._make(xp.asarray(xp.all(input._data, axis=None if dim is None else dims_tuple(dim, input.ndim),
                                          keepdims=keepdim)))


@with_out
def any(input, dim=None, keepdim=False):  # noqa: A001
    """As torch.any: whether some entry (over ``dim``) is non-zero, a bool Tensor."""
    xp = backend.xp_of(input._data)
    return Tensor._make(xp.asarray(xp.any(input._data, axis=None if dim is None else dims_tuple(dim, input.ndim),
                                          keepdims=keepdim)))


def count_nonzero(input, dim=None):
    """As torch.count_nonzero: the number of non-zero entries over ``dim``."""
    return sum(input != 0, dim)


def bincount(input, weights=None, minlength=0):
    """As torch.bincount: the count (or the summed weights) of each value of a 1-D int tensor."""
    xp = backend.xp_of(input._data)
    w = None if weights is None else weights._data
    return Tensor._make(xp.bincount(input._data, weights=w, minlength=minlength))


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    """As torch.unique (of the flattened input): the sorted distinct values, optionally with the
    inverse indices and the counts."""
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
