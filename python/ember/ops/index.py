"""Indexing: ``x[idx]`` / ``x[idx] = v`` with ints, slices, None, Ellipsis, integer and boolean
tensors; gather/scatter, index_select/index_add, masked_fill, one_hot; and the in-place protocol
(``inplace``) every ``op_`` method goes through."""
from __future__ import annotations

import weakref

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.function import Op
from ..tensor import Tensor
from ._util import arr_of, check_same_device, result_dtype, sum_to, with_out, wrap_dim
from .pointwise import where
from .shape import pad

# The public ops (``from .index import *`` in ember.ops); helpers are imported by their module path.
__all__ = [
    "argwhere", "bucketize", "fill_", "gather", "index_add", "index_fill", "index_put", "index_select",
    "masked_fill", "masked_scatter", "masked_select", "nonzero", "scatter", "scatter_add", "scatter_reduce",
    "searchsorted", "take", "take_along_dim",
]


# ---- index normalisation ------------------------------------------------------------------------
def _raw_index(idx, x_arr):
    """Tensors inside an index become arrays on ``x``'s device; everything else passes through."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    out = []
    on_cuda = backend.is_cuda_array(x_arr)
    for i in idx:
        if isinstance(i, Tensor):
            a = i._data
            if a.dtype.kind not in "biu":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if backend.is_cuda_array(a) != on_cuda:
                a = backend.xp_of(x_arr).asarray(backend.to_host(a)) if on_cuda else backend.to_host(a)
            out.append(a)
        elif isinstance(i, (list,)) and i and not isinstance(i[0], slice):
            out.append(backend.xp_of(x_arr).asarray(np.asarray(i)))
        else:
            out.append(i)
    return tuple(out)


def _index_add_at(xp, target, idx, values):
    """target[idx] += values, accumulating repeated indices."""
    if xp is np:
        np.add.at(target, idx, values)
    else:  # pragma: no cover - GPU only
        import cupyx

        cupyx.scatter_add(target, idx, values)


def _extreme_at(xp, target, idx, values, largest: bool):
    """target[idx] = max (or min) of itself and values, over repeated indices too."""
    if xp is np:
        (np.maximum if largest else np.minimum).at(target, idx, values)
    else:  # pragma: no cover - GPU only
        import cupyx

        (cupyx.scatter_max if largest else cupyx.scatter_min)(target, idx, values)


def _index_add_along(xp, target, dim: int, index, values) -> None:
    """target.index_add_(dim, index, values): slice i of ``values`` along ``dim`` is added to
    slice index[i] of ``target``; repeated indices accumulate. On the CPU the slices of each index
    are summed first (a stable sort keeps them in order, then np.add.reduceat): several times
    faster than np.add.at, which scatters one element at a time (embedding backward)."""
    if xp is not np or index.ndim != 1 or not index.size:
        idx = [slice(None)] * target.ndim
        idx[dim] = index
        _index_add_at(xp, target, tuple(idx), values)
        return
    index = np.where(index < 0, index + target.shape[dim], index)  # one key per row
    order = np.argsort(index, kind="stable")
    keys = index[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    idx = [slice(None)] * target.ndim
    idx[dim] = keys[starts]
    target[tuple(idx)] += np.add.reduceat(np.take(values, order, axis=dim), starts, axis=dim)


class GetItem(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, idx):
        ctx.in_shape, ctx.idx = x.shape, idx
        try:
            return x[idx]
        except IndexError as exc:
            raise IndexError(str(exc)) from None

    @staticmethod
    def backward(ctx, g):
        return _IndexBackward.apply(g, in_shape=ctx.in_shape, idx=ctx.idx)


class _IndexBackward(Op):
    """zeros(in_shape)[idx] += g — the gradient of GetItem, itself differentiable."""

    needs_input_values = False

    @staticmethod
    def forward(ctx, g, in_shape, idx):
        ctx.idx = idx
        xp = backend.xp_of(g)
        out = xp.zeros(in_shape, dtype=g.dtype)
        if any(hasattr(i, "dtype") for i in idx):
            _index_add_at(xp, out, idx, g)
        else:  # basic indexing never repeats an element
            out[idx] = g
        return out

    @staticmethod
    def backward(ctx, gg):
        return GetItem.apply(gg, idx=ctx.idx)


def getitem(x, idx):
    """As torch.Tensor.__getitem__: ints, slices, None, Ellipsis, integer and boolean tensors, with
    NumPy's (= PyTorch's) placement of advanced-index dimensions."""
    return GetItem.apply(x, idx=_raw_index(idx, x._data))


class IndexPut(Op):
    """out = x with out[idx] = v (v broadcast); gradients: x gets g with the written places zeroed,
    v gets g[idx] summed back to v's shape."""

    @staticmethod
    def forward(ctx, x, v, idx, accumulate):
        ctx.idx, ctx.accumulate = idx, accumulate
        ctx.v_shape = getattr(v, "shape", ())
        out = x.copy()
        if accumulate:
            _index_add_at(backend.xp_of(x), out, idx, backend.xp_of(x).broadcast_to(v, out[idx].shape))
        else:
            out[idx] = v
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = g if ctx.accumulate else IndexPut.apply(g, 0.0, idx=ctx.idx, accumulate=False)
        if ctx.needs_input_grad[1]:
            gv = sum_to(GetItem.apply(g, idx=ctx.idx), ctx.v_shape)
        return gx, gv


def index_put(x, indices, values, accumulate: bool = False):
    """As torch.index_put: a copy of ``x`` with x[indices] = values (broadcast), or += when ``accumulate``."""
    idx = _raw_index(tuple(indices), x._data)
    v = values if isinstance(values, Tensor) else arr_of(values, x._data.dtype, x._data)
    if isinstance(v, Tensor) and v._data.dtype != x._data.dtype:
        v = v.to(x.dtype)
    return IndexPut.apply(x, v, idx=idx, accumulate=accumulate)


def setitem(x, idx, value):
    """As torch.Tensor.__setitem__: x[idx] = value in place (value broadcast to the indexed shape)."""
    check_same_device(x, value)
    raw = _raw_index(idx, x._data)
    recording = grad_mode.is_grad_enabled() and (
        x.requires_grad or (isinstance(value, Tensor) and value.requires_grad))
    if not recording:
        v = value._data if isinstance(value, Tensor) else value
        if isinstance(value, Tensor) and backend.is_cuda_array(v) != backend.is_cuda_array(x._data):
            v = backend.to_device_array(v, x.device)
        x._data[raw] = v
        x._version += 1
        return
    inplace(x, lambda old: index_put(old, idx if isinstance(idx, tuple) else (idx,), value))


# ---- the in-place protocol ------------------------------------------------------------------------
def inplace(t: Tensor, fn, *args, **kwargs) -> Tensor:
    """Run ``fn(t, *args)`` and write the result into ``t``'s memory (views see it). When autograd
    records, ``t`` takes over the result's history; the old value is snapshotted only if the op's
    backward reads it. Mirrors PyTorch's rules (no in-place on leaves that require grad)."""
    recording = grad_mode.is_grad_enabled() and (
        t.requires_grad or any(isinstance(a, Tensor) and a.requires_grad for a in args))
    if recording and t.is_leaf and t.requires_grad:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if not recording:
        with grad_mode.no_grad():
            r = fn(t, *args, **kwargs)
        _store(t, r._data)
        return t
    old = Tensor._make(t._data.copy())
    old.requires_grad, old.grad_fn, old._output_nr = t.requires_grad, t.grad_fn, t._output_nr
    old._accumulator = t._accumulator
    r = fn(old, *args, **kwargs)
    _store(t, r._data)
    t.requires_grad, t.grad_fn, t._output_nr = r.requires_grad, r.grad_fn, r._output_nr
    if r.grad_fn is not None:
        outs = list(r.grad_fn.ctx._outputs)
        outs[r._output_nr] = (weakref.ref(t), t._version)
        r.grad_fn.ctx._outputs = tuple(outs)
    return t


def _store(t: Tensor, arr) -> None:
    if arr.dtype != t._data.dtype and not np.can_cast(arr.dtype, t._data.dtype, casting="same_kind"):
        raise RuntimeError(f"result type {arr.dtype} can't be cast to the desired output type "
                           f"{t._data.dtype}")
    if arr.shape != t._data.shape:
        raise RuntimeError(f"output with shape {list(t._data.shape)} doesn't match the broadcast shape "
                           f"{list(arr.shape)}")
    t._data[...] = arr
    t._version += 1


def copy_(t: Tensor, src) -> Tensor:
    """As torch.Tensor.copy_: ``src`` (broadcast, cast and moved to ``t``'s device) written into ``t``."""
    src = src if isinstance(src, Tensor) else Tensor._make(np.asarray(src))

    def take_src(old):
        s = src.to(old.device) if src.device != old.device else src
        return s.to(old.dtype).expand(tuple(old.shape)).clone()

    return inplace(t, take_src)


def fill_(t: Tensor, value) -> Tensor:
    """As torch.Tensor.fill_: every entry of ``t`` set to ``value``, in place."""
    if isinstance(value, Tensor) and value.requires_grad:
        return copy_(t, value)
    if grad_mode.is_grad_enabled() and t.requires_grad and t.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    t._data[...] = value._data if isinstance(value, Tensor) else value
    t._version += 1
    if t.requires_grad and t.grad_fn is not None:  # its history no longer matters
        t.grad_fn, t.requires_grad = None, False
    return t


# ---- gather / scatter ------------------------------------------------------------------------------
def _check_index_tensor(index, name="index"):
    if not isinstance(index, Tensor) or index._data.dtype.kind not in "iu":
        raise RuntimeError(f"{name}(): Expected dtype int64 for index")


def _check_in_range(index, n: int, dim: int, exc=RuntimeError, message=None) -> None:
    """Every entry of the index array in [0, n) (these ops, as in PyTorch, take no negative index)."""
    if index.size and (int(index.min()) < 0 or int(index.max()) >= n):
        bad = int(index.max()) if int(index.max()) >= n else int(index.min())
        raise exc(message or f"index {bad} is out of bounds for dimension {dim} with size {n}")


def _from_end(index: Tensor, n: int) -> Tensor:
    """``index`` with its negative entries counted from the end of a dimension of size n."""
    a = index._data
    return Tensor._make(backend.xp_of(a).where(a < 0, a + n, a))


def _zeros_of(g, shape) -> Tensor:
    return Tensor._make(backend.xp_of(g._data).zeros(shape, dtype=g._data.dtype))


class Gather(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.dim, ctx.in_shape = dim, x.shape
        _check_in_range(index, x.shape[dim], dim)
        return backend.xp_of(x).take_along_axis(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return scatter_add(_zeros_of(g, ctx.in_shape), ctx.dim, ctx.inputs[1], g), None


@with_out
def gather(input, dim: int, index, *, sparse_grad=False):
    """As torch.gather: out[i][j] = input[index[i][j]][j] (dim 0; likewise for other dims), shaped
    like ``index``."""
    if sparse_grad:
        raise NotImplementedError("gather(): sparse_grad=True is not supported (Ember has no "
                                  "sparse tensors)")
    _check_index_tensor(index, "gather")
    check_same_device(input, index)
    d = wrap_dim(dim, input.ndim)
    if index.ndim != input.ndim:
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    if any(index.shape[i] > input.shape[i] for i in range(input.ndim) if i != d):
        # take_along_axis needs equal sizes: slice the input to the index's extent as PyTorch allows
        sl = tuple(slice(0, index.shape[i]) if i != d else slice(None) for i in range(input.ndim))
        raise RuntimeError(f"Size does not match at some dimension: index {list(index.shape)} vs input "
                           f"{list(input.shape)} (sliced {sl})")
    if tuple(index.shape) != tuple(input.shape):
        sl = tuple(slice(0, index.shape[i]) if i != d else slice(None) for i in range(input.ndim))
        input = input[sl]
    return Gather.apply(input, index, dim=d)


@with_out
def take_along_dim(input, indices, dim=None):
    """As torch.take_along_dim: gather along ``dim`` (the flattened input when None) with input and
    indices broadcast over the other dimensions; negative indices count from the end."""
    _check_index_tensor(indices, "take_along_dim")
    if dim is None:
        input, indices, dim = input.reshape(-1), indices.reshape(-1), 0
    if indices.ndim != input.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of "
                           f"dimensions, but got {input.ndim} dimensions for input, and {indices.ndim} "
                           "dimensions for indices")
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    indices = _from_end(indices, n)
    common = list(np.broadcast_shapes(*(tuple(s[:d]) + (1,) + tuple(s[d + 1:]) for s in (input.shape, indices.shape))))
    return gather(input.expand(tuple(common[:d]) + (n,) + tuple(common[d + 1:])), d,
                  indices.expand(tuple(common[:d]) + (indices.shape[d],) + tuple(common[d + 1:])))


def _scatter_index(index_arr, dim):
    """Full index tuple addressing out[..., index, ...] along ``dim`` for every element of index."""
    xp = backend.xp_of(index_arr)
    grids = list(xp.indices(index_arr.shape, sparse=True))
    grids[dim] = index_arr
    return tuple(grids)


class Scatter(Op):
    @staticmethod
    def forward(ctx, x, index, src, dim, reduce):
        ctx.dim, ctx.reduce = dim, reduce
        xp = backend.xp_of(x)
        _check_in_range(index, x.shape[dim], dim)
        out = x.copy()
        full = _scatter_index(index, dim)
        vals = src[tuple(slice(0, s) for s in index.shape)] if hasattr(src, "shape") and src.shape else src
        if reduce in ("add", "sum"):
            _index_add_at(xp, out, full, xp.broadcast_to(vals, index.shape))
        elif reduce is None:
            out[full] = vals
        else:
            raise NotImplementedError(f"scatter: reduce='{reduce}' is not supported (None or 'add')")
        ctx.full = full
        return out

    @staticmethod
    def backward(ctx, g):
        _x, index, src = ctx.inputs[:3]
        gx = gsrc = None
        if ctx.needs_input_grad[0]:
            gx = g if ctx.reduce in ("add", "sum") else IndexPut.apply(g, 0.0, idx=ctx.full, accumulate=False)
        if ctx.needs_input_grad[2]:
            gsrc = gather(g, ctx.dim, index)
            if tuple(gsrc.shape) != tuple(src.shape):
                gsrc = _pad_to(gsrc, src.shape)
        return gx, None, gsrc


def _pad_to(t, shape):
    widths = []
    for have, want in reversed(list(zip(t.shape, shape))):
        widths += [0, want - have]
    return pad(t, widths)


@with_out
def scatter(input, dim: int, index, src=None, value=None, *, reduce=None):
    """As torch.scatter: a copy of ``input`` with out[index[i][j]][j] = src[i][j] (dim 0; likewise
    for other dims), or += with reduce="add"; ``src`` may be a number."""
    _check_index_tensor(index, "scatter")
    if src is None:
        src = value
    if index.ndim == 0 and input.ndim == 1:  # a scalar index addresses one element, as in PyTorch
        index = index.reshape(1)
        if isinstance(src, Tensor) and src.ndim == 0:
            src = src.reshape(1)
    d = wrap_dim(dim, input.ndim)
    s = src if isinstance(src, Tensor) else arr_of(src, input._data.dtype, input._data)
    if isinstance(s, Tensor) and s._data.dtype != input._data.dtype:
        s = s.to(input.dtype)
    return Scatter.apply(input, index, s, dim=d, reduce=reduce)


@with_out
def scatter_add(input, dim: int, index, src):
    """As torch.scatter_add: scatter with repeated indices accumulating into ``input``'s copy."""
    return scatter(input, dim, index, src, reduce="add")


class _ScatterExtreme(Op):
    """scatter_reduce with amax/amin: each place the extreme of the values scattered to it (and of
    its own value with include_self); tied values share the place's gradient equally, as in PyTorch."""

    needs_input_values = False

    @staticmethod
    def forward(ctx, x, index, src, dim, largest, include_self):
        _check_in_range(index, x.shape[dim], dim)
        xp = backend.xp_of(x)
        places = _scatter_index(index, dim)
        vals = src[tuple(slice(0, n) for n in index.shape)]
        out = x.copy()
        reached = xp.zeros(x.shape, dtype=bool)
        reached[places] = True
        if not include_self:
            out[reached] = -np.inf if largest else np.inf
        _extreme_at(xp, out, places, vals, largest)
        # the (constant) masks of the values that attain their place's extreme, and their count
        # an input value tying its place's extreme takes a share even without include_self (its
        # share is then dropped), as PyTorch's backward does
        self_tie = x == out
        self_hit = self_tie if include_self else self_tie & ~reached
        src_hit = vals == xp.take_along_axis(out, index, axis=dim)
        count = self_tie.astype(x.dtype)
        _index_add_at(xp, count, places, src_hit.astype(x.dtype))
        ctx.dim, ctx.src_shape = dim, src.shape
        ctx.self_share, ctx.src_hit, ctx.count = self_hit / count, src_hit.astype(x.dtype), count
        return out

    @staticmethod
    def backward(ctx, g):
        index = ctx.inputs[1]
        gx = g * Tensor._make(ctx.self_share) if ctx.needs_input_grad[0] else None
        gsrc = None
        if ctx.needs_input_grad[2]:
            gsrc = gather(g / Tensor._make(ctx.count), ctx.dim, index) * Tensor._make(ctx.src_hit)
            if tuple(gsrc.shape) != tuple(ctx.src_shape):
                gsrc = _pad_to(gsrc, ctx.src_shape)
        return gx, None, gsrc


_REDUCTIONS = ("sum", "mean", "amax", "amin")


@with_out
def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    """As torch.scatter_reduce for reduce "sum", "mean", "amax" and "amin": the entries of ``src``
    scattered to one place combined (with that place's input value when ``include_self``); places
    no index names keep the input value."""
    if reduce == "prod":
        raise NotImplementedError("scatter_reduce: reduce='prod' is not supported (sum, mean, amax, amin are)")
    if reduce not in _REDUCTIONS:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if reduce in ("amax", "amin"):
        _check_index_tensor(index, "scatter_reduce")
        check_same_device(input, index, src)
        s = src if src._data.dtype == input._data.dtype else src.to(input.dtype)
        return _ScatterExtreme.apply(input, index, s, dim=wrap_dim(dim, input.ndim), largest=reduce == "amax",
                                     include_self=include_self)
    # without self, the places scattered to start from zero
    base = input if include_self else scatter(input, dim, index, 0.0)
    total = scatter_add(base, dim, index, src)
    if reduce == "sum":
        return total
    xp = backend.xp_of(input._data)
    ones = Tensor._make(xp.ones(tuple(index.shape), dtype=input._data.dtype))
    count = scatter_add(Tensor._make(xp.full(input.shape, 1.0 if include_self else 0.0, dtype=input._data.dtype)),
                        dim, index, ones)
    return total / count.clamp(min=1)  # places nothing reached: count 0 and their own value


class IndexSelect(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, index, dim):
        ctx.dim, ctx.in_shape = dim, x.shape
        _check_in_range(index, x.shape[dim], dim, IndexError, "index out of range in self")
        return backend.xp_of(x).take(x, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return index_add(_zeros_of(g, ctx.in_shape), ctx.dim, ctx.inputs[1], g), None


@with_out
def index_select(input, dim: int, index):
    """As torch.index_select: the entries of ``dim`` at the 1-d ``index``, in its order."""
    _check_index_tensor(index, "index_select")
    if index.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    check_same_device(input, index)
    return IndexSelect.apply(input, index.reshape(-1) if index.ndim == 0 else index, dim=wrap_dim(dim, input.ndim))


class IndexAdd(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, index, src, dim, alpha):
        ctx.dim, ctx.alpha = dim, alpha
        out = x.copy()
        _index_add_along(backend.xp_of(x), out, dim, index, src * alpha if alpha != 1 else src)
        return out

    @staticmethod
    def backward(ctx, g):
        gsrc = None
        if ctx.needs_input_grad[2]:
            gsrc = index_select(g, ctx.dim, ctx.inputs[1])
            if ctx.alpha != 1:
                gsrc = gsrc * ctx.alpha
        return g if ctx.needs_input_grad[0] else None, None, gsrc


@with_out
def index_add(input, dim: int, index, source, *, alpha=1):
    """As torch.index_add: a copy of ``input`` with alpha * source's slice i of ``dim`` added to slice
    index[i] (repeats accumulate)."""
    _check_index_tensor(index, "index_add")
    src = source if source._data.dtype == input._data.dtype else source.to(input.dtype)
    d = wrap_dim(dim, input.ndim)
    # negative indices count from the end here (the backward's index_select takes none)
    return IndexAdd.apply(input, _from_end(index, input.shape[d]), src, dim=d, alpha=alpha)


@with_out
def index_fill(input, dim, index, value):
    """As torch.index_fill: a copy of ``input`` with the slices of ``dim`` at ``index`` set to ``value``."""
    _check_index_tensor(index, "index_fill")
    d = wrap_dim(dim, input.ndim)
    places = _from_end(index, input.shape[d])._data
    _check_in_range(places, input.shape[d], d, IndexError)
    idx = [slice(None)] * input.ndim
    # each slice once: a tensor value's gradient counts a repeated index once, as in PyTorch
    idx[d] = Tensor._make(backend.xp_of(places).unique(places))
    return index_put(input, tuple(idx), value)


class MaskedFill(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, mask, value):
        ctx.shape = x.shape
        xp = backend.xp_of(x)
        return xp.where(mask, xp.asarray(value, dtype=x.dtype), x)

    @staticmethod
    def backward(ctx, g):
        mask = ctx.inputs[1]
        gx = sum_to(g.masked_fill(mask, 0), ctx.shape) if ctx.needs_input_grad[0] else None
        gv = None
        if ctx.needs_input_grad[2]:
            gv = where(mask, g, 0.0).sum()
        return gx, None, gv


def masked_fill(input, mask, value):
    """As torch.masked_fill: ``input`` with ``value`` where the (broadcast) boolean ``mask`` is true."""
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{getattr(mask, 'dtype', type(mask).__name__)}")
    check_same_device(input, mask)
    if isinstance(value, Tensor):
        if value.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor")
        if not value.requires_grad:
            value = value.item()
    return MaskedFill.apply(input, mask, value)


def _broadcast_with_mask(input, mask, name):
    """(input, mask) expanded to their broadcast shape; the mask must be boolean."""
    if not isinstance(mask, Tensor) or mask._data.dtype != np.bool_:
        raise RuntimeError(f"{name}: expected BoolTensor for mask")
    check_same_device(input, mask)
    try:
        shape = np.broadcast_shapes(tuple(input.shape), tuple(mask.shape))
    except ValueError:
        raise RuntimeError(f"{name}: the shapes of input {list(input.shape)} and mask {list(mask.shape)} "
                           "are not broadcastable") from None
    return input.expand(shape), mask.expand(shape)


@with_out
def masked_select(input, mask):
    """As torch.masked_select: the 1-d entries of ``input`` where the boolean mask (both broadcast)
    is true."""
    return getitem(*_broadcast_with_mask(input, mask, "masked_select"))


def masked_scatter(input, mask, source):
    """As torch.masked_scatter: ``input`` (broadcast with ``mask``) with its masked places taken, in
    row-major order, from the first entries of ``source``."""
    input, mask = _broadcast_with_mask(input, mask, "masked_scatter")
    n = int(mask.sum().item())
    if source.numel() < n:
        raise RuntimeError("masked_scatter: Number of elements of source < number of ones in mask")
    return index_put(input, (mask,), source.reshape(-1)[:n])


@with_out
def nonzero(input, *, as_tuple: bool = False):
    """As torch.nonzero: the (count, ndim) indices of the nonzero entries, or one 1-d tensor per dim."""
    xp = backend.xp_of(input._data)
    idx = xp.nonzero(input._data)
    if as_tuple:
        return tuple(Tensor._make(i.astype(np.int64)) for i in idx)
    return Tensor._make(xp.stack(idx, axis=1).astype(np.int64) if idx else xp.zeros((0, 0), np.int64))


def argwhere(input):
    """As torch.argwhere: nonzero(input) as a (count, ndim) tensor."""
    return nonzero(input)


def one_hot(tensor, num_classes: int = -1):
    """As F.one_hot: int64 (*tensor.shape, num_classes), 1 at each class index."""
    if tensor._data.dtype.kind not in "iu":
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    xp = backend.xp_of(tensor._data)
    if num_classes == -1:
        num_classes = int(tensor._data.max()) + 1 if tensor.numel() else 0
    if tensor.numel() and (int(tensor._data.min()) < 0 or int(tensor._data.max()) >= num_classes):
        raise RuntimeError("Class values must be smaller than num_classes." if int(tensor._data.min()) >= 0
                           else "Class values must be non-negative.")
    out = (tensor._data[..., None] == xp.arange(num_classes)).astype(np.int64)
    return Tensor._make(out)


@with_out
def take(input, index):
    """As torch.take: the entries of the flattened ``input`` at ``index`` (negative from the end),
    shaped like ``index``."""
    return getitem(input.reshape(-1), index)


@with_out
def searchsorted(sorted_sequence, input, *, right=False):
    """As torch.searchsorted: for each value, its insertion index in the sorted 1-d sequence (int64)."""
    xp = backend.xp_of(sorted_sequence._data)
    v = input._data if isinstance(input, Tensor) else xp.asarray(input)
    return Tensor._make(xp.searchsorted(sorted_sequence._data, v, side="right" if right else "left").astype(np.int64))


@with_out
def bucketize(input, boundaries, *, right=False):
    """As torch.bucketize: the bucket of each value among ``boundaries`` (searchsorted of them)."""
    return searchsorted(boundaries, input, right=right)


def result_type_of(*args):
    """The NumPy dtype the arguments promote to, as torch.result_type."""
    return result_dtype(*args)
