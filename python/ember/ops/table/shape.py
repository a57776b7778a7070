"""Rows of views, reshapes, joins, splits, flips and copies.

Samples and bad inputs are written as calls with placeholders for the tensors (``X(3, 4)`` a
float tensor, ``XT(4, 3)`` a transposed one, ``Idx(high, *shape)`` random int64 indices, ``Distinct``
indices distinct along a dim, ``B`` a boolean mask, ``V(values)`` fixed values): ``calls`` draws them
(seeded, in the row's device and dtype), ``raises`` builds them as zeros in float64/int64/bool.
indexing.py uses the same helpers."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ... import _dtype
from .. import pointwise, shape
from ._base import _OPS_TEST, OpInfo, Sample, _binary_errors, _listed, _t, _transposed, binary_samples, unary_samples

_TABLE_TEST = "tests/test_op_table.py"  # ops no hand-written test module covers: the table is their test


# ---- placeholders for the tensors of a call ------------------------------------------------------
@dataclass(frozen=True)
class _X:
    shape: tuple
    transposed: bool = False

    def __repr__(self):
        return f"{'XT' if self.transposed else 'X'}{self.shape}"


def X(*shape):
    """A float tensor of ``shape`` (normal values; zeros in ``raises``)."""
    return _X(shape)


def XT(*shape):
    """A non-contiguous float tensor of ``shape``: the transpose of a contiguous one."""
    return _X(shape, True)


@dataclass(frozen=True)
class _Idx:
    high: int
    shape: tuple
    dim: int | None = None
    mask: bool = False

    def __repr__(self):
        return f"B{self.shape}" if self.mask else f"Idx({self.high}, {self.shape})"


def Idx(high, *shape):
    """int64 indices in [0, high) of ``shape`` (repeats likely)."""
    return _Idx(high, shape)


def Distinct(high, shape, dim):
    """int64 indices in [0, high) of ``shape``, distinct along ``dim`` (scatter writes each place once)."""
    return _Idx(high, tuple(shape), dim)


def B(*shape):
    """A boolean mask of ``shape`` (random in samples, all True in ``raises``)."""
    return _Idx(2, shape, mask=True)


@dataclass(frozen=True)
class V:
    """A tensor of fixed ``values`` (dtype from NumPy's: int64 or bool)."""
    values: object


def _build(a, device, dtype, mk=None, ints=None):
    """The placeholders in ``a`` (also inside lists and tuples) made tensors: drawn with mk/ints,
    else zeros (float64) and all-True masks."""
    if isinstance(a, _X):
        if mk is not None:
            return mk(*a.shape, transposed=a.transposed)
        z = np.zeros(a.shape)
        return _transposed(z, device, _dtype.float64) if a.transposed else _t(z, device, _dtype.float64)
    if isinstance(a, _Idx) and a.mask:
        return ints(2, *a.shape).bool() if ints is not None else _t(np.ones(a.shape, bool), device, _dtype.bool)
    if isinstance(a, _Idx):
        if ints is None:
            return _t(np.zeros(a.shape, np.int64), device, _dtype.int64)
        if a.dim is None:
            return ints(a.high, *a.shape)
        full = list(a.shape)
        full[a.dim] = a.high
        return ints(1000, *full).argsort(a.dim).narrow(a.dim, 0, a.shape[a.dim])
    if isinstance(a, V):
        arr = np.asarray(a.values)
        arr = arr.astype(np.int64) if arr.dtype.kind in "iuf" else arr
        return _t(arr, device, _dtype.bool if arr.dtype == bool else _dtype.int64)
    if isinstance(a, (list, tuple)):
        return type(a)(_build(v, device, dtype, mk, ints) for v in a)
    return a


def calls(*cases):
    """sample_inputs from cases (args, kwargs) or (args,), placeholders drawn."""
    @_listed()
    def gen(mk, ints):
        for case in cases:
            args, kwargs = case if len(case) == 2 else (case[0], {})
            yield Sample(_build(tuple(args), None, None, mk, ints), dict(kwargs), f"{args} {kwargs}")
    return gen


def raises(*cases):
    """errors from cases (args, kwargs, exception type)."""
    def gen(device):
        for args, kwargs, exc in cases:
            yield _build(tuple(args), device, None), dict(kwargs), exc
    return gen


def _dims(dims):
    """A ``*dims`` argument as one tuple (given spread or as one sequence)."""
    return tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else tuple(dims)


# ---- float64 references -------------------------------------------------------------------------
def _each_ref(fn):
    """fn of one array, or the tuple of fn of several (given spread or as one list)."""
    def ref(*ts):
        if len(ts) == 1 and not isinstance(ts[0], (list, tuple)):
            return fn(ts[0])
        return tuple(fn(t) for t in (ts[0] if len(ts) == 1 else ts))
    return ref


def _expand_ref(x, *sizes):
    sizes = _dims(sizes)
    lead = len(sizes) - x.ndim
    return np.broadcast_to(x, tuple(x.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes)))


def _cat_ref(tensors, dim=0):
    kept = [t for t in tensors if t.shape != (0,)] or tensors[:1]  # 1-d empty tensors are skipped
    return np.concatenate(kept, dim)


def _chunk_ref(x, chunks, dim=0):
    n = x.shape[dim]
    size = -(-n // chunks)
    return tuple(np.split(x, range(size, n, size), axis=dim)) if n else (x,) * chunks


def _split_ref(x, split_size_or_sections, dim=0):
    n = x.shape[dim]
    if isinstance(split_size_or_sections, int):
        cuts = list(range(split_size_or_sections, n, split_size_or_sections))
    else:
        cuts = list(np.cumsum(split_size_or_sections)[:-1])
    return tuple(np.split(x, cuts, axis=dim))


def _tensor_split_ref(x, indices_or_sections, dim=0):
    split = np.array_split if isinstance(indices_or_sections, int) else np.split
    return tuple(split(x, indices_or_sections, axis=dim))


def _flatten_ref(x, start_dim=0, end_dim=-1):
    if x.ndim == 0:
        return x.reshape(1)
    s, e = start_dim % x.ndim, end_dim % x.ndim
    return x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])


def _unflatten_ref(x, dim, sizes):
    d = dim % x.ndim
    return x.reshape(x.shape[:d] + tuple(sizes) + x.shape[d + 1:])


def _squeeze_ref(x, dim=None):
    if dim is None or x.ndim == 0:
        return np.squeeze(x)
    dims = (dim,) if isinstance(dim, int) else dim
    return np.squeeze(x, tuple(d % x.ndim for d in dims if x.shape[d] == 1))


def _narrow_ref(x, dim, start, length):
    start = start + x.shape[dim] if start < 0 else start
    return np.take(x, np.arange(start, start + length), axis=dim)


def _diag_embed_ref(x, offset=0, dim1=-2, dim2=-1):
    """The planes hold x's last dim on diagonal ``offset``: out[..., i, i + offset] = x[..., i]."""
    n = x.shape[-1] + abs(offset)
    out = np.zeros(x.shape[:-1] + (n, n))
    for i in range(x.shape[-1]):
        out[..., i - min(offset, 0), i + max(offset, 0)] = x[..., i]
    return np.moveaxis(out, (-2, -1), (dim1 % out.ndim, dim2 % out.ndim))


def _meshgrid_ref(*ts, indexing="ij"):
    ts = ts[0] if len(ts) == 1 and isinstance(ts[0], (list, tuple)) else ts
    return tuple(np.meshgrid(*ts, indexing=indexing))


# ---- rows ---------------------------------------------------------------------------------------
_E = (2, 3)  # the shape of the zeros bad inputs are built from


def _dim_out_of_range(*args):
    """(X(2, 3), *args) raising IndexError: args name a dim the input lacks."""
    return ((X(*_E), *args), {}, IndexError)


def _rt(*args, **kwargs):
    return (args, kwargs, RuntimeError)


def _row(name, fn, cases, reference, errors=(), files=(_OPS_TEST,), **kw):
    return OpInfo(name, fn, cases if callable(cases) else calls(*cases), reference=reference,
                  errors=raises(*errors) if errors else None, files=files, **kw)


def _view_rows() -> list[OpInfo]:
    return [
        _row("reshape", shape.reshape,
             [((X(3, 4), 2, 6),), ((X(2, 3), (-1,)),), ((X(), 1, 1),), ((XT(4, 3), 3, 4),), ((X(0, 4), 4, 0),)],
             lambda x, *s: x.reshape(_dims(s)), [_rt(X(*_E), 4, 2)], op=(shape.Reshape,)),
        _row("view", shape.view,
             [((X(3, 4), 2, 6),), ((X(2, 3), -1),), ((XT(4, 6), 2, 2, 6),), ((X(0, 3), 3, 0),)],
             lambda x, *s: x.reshape(_dims(s)), [_rt(XT(4, 3), -1), _rt(X(*_E), 4)], op=(shape.Reshape,)),
        _row("reshape_as", shape.reshape_as, [((X(3, 4), X(2, 6)),), ((XT(4, 3), X(12)),), ((X(0, 2), X(2, 0)),)],
             lambda x, other: x.reshape(other.shape), files=(_TABLE_TEST,)),
        _row("view_as", shape.view_as, [((X(2, 3), X(6)),), ((X(1, 4), X(2, 2)),), ((X(0, 2), X(2, 0)),)],
             lambda x, other: x.reshape(other.shape), files=(_TABLE_TEST,)),
        _row("flatten", shape.flatten,
             [((X(2, 3, 4), 1),), ((X(3, 1, 5),),), ((X(),),), ((XT(4, 3),),), ((X(2, 0, 3), 0, 1),),
              ((X(2, 3, 4),), {"start_dim": -2})],
             _flatten_ref, [_rt(X(*_E), 1, 0), _dim_out_of_range(2)]),
        _row("unflatten", shape.unflatten,
             [((X(2, 6), 1, (3, 2)),), ((X(6), 0, (-1, 2)),), ((X(4, 1), 1, (1, 1)),), ((XT(4, 6), 0, (2, 2)),),
              ((X(0, 4), 1, (2, 2)),)],
             _unflatten_ref, [_rt(X(2, 6), 1, (4, 2)), _dim_out_of_range(2, (3,))]),
        OpInfo("ravel", shape.ravel, unary_samples(), reference=np.ravel, files=(_TABLE_TEST,)),
        OpInfo("clone", shape.clone, unary_samples(), op=(shape.Clone,), reference=np.copy,
               files=("tests/test_tensor.py", "tests/test_autograd.py")),
        OpInfo("contiguous", shape.contiguous, unary_samples(), op=(shape.Contiguous,), reference=np.copy,
               files=(_OPS_TEST,)),
        OpInfo("positive", pointwise.positive, unary_samples(), reference=np.positive, files=(_TABLE_TEST,)),
        _row("squeeze", shape.squeeze,
             [((X(3, 1, 5),),), ((X(3, 1, 5), 1),), ((X(3, 1, 5), 0),), ((X(1, 3, 1), (0, 2)),), ((X(),),),
              ((XT(1, 4),),), ((X(0, 1), -1),)],
             _squeeze_ref, [_dim_out_of_range(2)]),
        _row("unsqueeze", shape.unsqueeze,
             [((X(3, 4), 1),), ((X(), 0),), ((X(2, 3), -1),), ((XT(4, 3), 0),), ((X(0, 2), 2),)],
             np.expand_dims, [_dim_out_of_range(3), _dim_out_of_range(-4)]),
        _row("atleast_1d", shape.atleast_1d, [((X(),),), ((X(3),),), ((XT(2, 3),),), (([X(), X(2, 1)],),)],
             _each_ref(np.atleast_1d), files=(_TABLE_TEST,)),
        _row("atleast_2d", shape.atleast_2d, [((X(),),), ((X(3),),), ((XT(2, 3),),), ((X(0),),), ((X(), X(2)),)],
             _each_ref(np.atleast_2d), files=(_TABLE_TEST,)),
    ]


def _layout_rows() -> list[OpInfo]:
    return [
        _row("permute", shape.permute,
             [((X(2, 3, 4), 2, 0, 1),), ((X(3, 4), (1, 0)),), ((X(), ()),), ((XT(4, 3), -1, -2),),
              ((X(0, 2, 3), (1, 2, 0)),)],
             lambda x, *d: np.transpose(x, _dims(d)), [_rt(X(*_E), 0, 0), _rt(X(*_E), 0), _dim_out_of_range(0, 2)],
             op=(shape.Permute,)),
        _row("movedim", shape.movedim,
             [((X(2, 3, 4), 0, -1),), ((X(2, 3, 4), (0, 1), (2, 0)),), ((XT(4, 3), 0, 1),), ((X(0, 2), 1, 0),)],
             np.moveaxis, [_rt(X(*_E), (0, 0), (0, 1)), _rt(X(*_E), (0,), (0, 1)), _dim_out_of_range(0, 2)],
             op=(shape.Permute,), aliases=("moveaxis",)),
        _row("swapaxes", shape.swapaxes,
             [((X(3, 4), 0, 1),), ((X(2, 3, 4), -1, 0),), ((XT(4, 3), 0, 1),), ((X(0, 2), 0, 1),)],
             np.swapaxes, [_dim_out_of_range(0, 2)], op=(shape.Permute,), aliases=("swapdims",)),
        _row("t", shape.t, [((X(3, 4),),), ((X(5),),), ((X(),),), ((XT(4, 3),),), ((X(0, 2),),)],
             np.transpose, [_rt(X(2, 3, 4))], op=(shape.Permute,)),
        _row("expand", shape.expand,
             [((X(3, 1), 3, 4),), ((X(1), (2, 5)),), ((X(), 3),), ((XT(1, 3), 2, 5, 3),), ((X(0, 1), 0, 3),),
              ((X(2, 1), -1, 4),)],
             _expand_ref, [_rt(X(*_E), 3, 3), _rt(X(*_E), 3), _rt(X(3), -1, 3)], op=(shape.Expand,)),
        _row("broadcast_to", shape.broadcast_to,
             [((X(3, 1), (2, 3, 4)),), ((X(1), (5,)),), ((X(), (2, 2)),), ((XT(4, 3), (2, 4, 3)),),
              ((X(0, 1), (2, 0, 3)),), ((X(3, 1), (-1, 4)),)],
             _expand_ref, [_rt(X(*_E), (4, 3)), _rt(X(*_E), (3,))], op=(shape.Expand,)),
        _row("expand_as", shape.expand_as, [((X(3, 1), X(2, 3, 4)),), ((X(1), X(5)),), ((X(), X(0, 2)),)],
             lambda x, other: np.broadcast_to(x, other.shape), op=(shape.Expand,), files=(_TABLE_TEST,)),
        OpInfo("broadcast_tensors", shape.broadcast_tensors, binary_samples(), op=(shape.Expand,),
               reference=lambda *ts: tuple(np.broadcast_arrays(*ts)), errors=_binary_errors, files=(_TABLE_TEST,)),
        _row("meshgrid", shape.meshgrid,
             [((X(3), X(4)),), (([X(2), X(3)],), {"indexing": "xy"}), ((X(2), X(1), X(3)), {"indexing": "xy"}),
              ((X(), X(2)),), ((X(0), X(2)),)],
             _meshgrid_ref, [_rt(X(2, 2), X(3))], files=(_TABLE_TEST,)),
        _row("narrow", shape.narrow,
             [((X(3, 5), 1, 1, 3),), ((X(6), 0, -2, 2),), ((XT(4, 3), 0, 1, 2),), ((X(3, 4), 1, 4, 0),)],
             _narrow_ref, [_rt(X(3, 4), 1, 2, 3), ((X(3, 4), 1, -5, 1), {}, IndexError), _dim_out_of_range(2, 0, 1)],
             files=(_TABLE_TEST,)),
        _row("select", shape.select,
             [((X(3, 4), 0, 1),), ((X(2, 3, 4), -1, -1),), ((X(5), 0, 2),), ((XT(4, 3), 1, 0),), ((X(0, 3), 1, 2),)],
             lambda x, dim, index: np.take(x, index, axis=dim),
             [((X(3, 4), 0, 3), {}, IndexError), _dim_out_of_range(2, 0)], files=(_TABLE_TEST,)),
    ]


def _join_rows() -> list[OpInfo]:
    cat_errors = [_rt([X(*_E), X(2, 4)]), (([X(*_E)], 2), {}, IndexError), (([],), {}, ValueError), _rt([X()])]
    cat_cases = [(([X(2, 3), X(1, 3)],),), (([X(2, 2), XT(2, 3)],), {"dim": 1}), (([X(0), X(2, 3)],),),
                 (([X(2, 3, 1), X(2, 3, 2)],), {"dim": -1}), (([X(3, 0), X(3, 2)], 1),), (([X(2), Idx(5, 3)],),)]
    return [
        _row("cat", shape.cat, cat_cases, _cat_ref, cat_errors, op=(shape.Cat,),
             aliases=("concat", "concatenate"), files=(_OPS_TEST, "tests/test_tensor.py")),
        _row("stack", shape.stack,
             [(([X(2, 3), X(2, 3)],),), (([X(3), X(3), X(3)],), {"dim": -1}), (([XT(3, 2), X(3, 2)], 1),),
              (([X(0, 2), X(0, 2)], 2),), (([X()],),)],
             lambda ts, dim=0: np.stack(ts, dim), [_rt([X(*_E), X(3, 2)]), _rt([]), (([X(2)], 3), {}, IndexError)],
             op=(shape.Cat,)),
        _row("hstack", shape.hstack,
             [(([X(2), X(3)],),), (([X(2, 1), XT(2, 3)],),), (([X(), X(2)],),), (([X(0), X(2)],),)],
             np.hstack, [_rt([X(2, 3), X(3, 3)])], op=(shape.Cat,), files=(_TABLE_TEST,)),
        _row("vstack", shape.vstack,
             [(([X(3), X(2, 3)],),), (([X(), X()],),), (([XT(2, 3), X(1, 3)],),), (([X(0, 3), X(2, 3)],),)],
             np.vstack, [_rt([X(2, 3), X(2, 4)])], op=(shape.Cat,), files=(_TABLE_TEST,)),
        _row("split", shape.split,
             [((X(5), 2),), ((X(3, 4), [1, 3], 1),), ((X(7, 2), 3, 0),), ((XT(4, 3), 2, -1),), ((X(0, 3), 2),)],
             _split_ref, [_rt(X(4), [1, 2]), _rt(X(4), 0), _dim_out_of_range(1, 2)], op=(shape.Split,)),
        _row("chunk", shape.chunk,
             [((X(7), 3),), ((X(2, 5), 2, 1),), ((X(6), 4),), ((XT(4, 3), 2, -1),), ((X(0, 3), 2),)],
             _chunk_ref, [_rt(X(3), 0), _dim_out_of_range(2, 2)], op=(shape.Split,)),
        _row("tensor_split", shape.tensor_split,
             [((X(7), 3),), ((X(3, 5), [1, 4], 1),), ((X(4), [5, 2]),), ((X(5), [-2]),), ((XT(4, 3), 2, 1),),
              ((X(0, 3), 2),)],
             _tensor_split_ref, [_rt(X(4), 0), _dim_out_of_range(2, 2)], files=(_TABLE_TEST,)),
        _row("unbind", shape.unbind,
             [((X(3, 4),),), ((X(2, 3), 1),), ((X(1, 5), -2),), ((XT(4, 3), 1),), ((X(3, 0),),)],
             lambda x, dim=0: tuple(np.moveaxis(x, dim, 0)), [_dim_out_of_range(2), ((X(),), {}, IndexError)],
             op=(shape.Unbind,)),
    ]


def _copy_rows() -> list[OpInfo]:
    def flip_ref(x, *dims):
        return np.flip(x, _dims(dims)) if x.ndim else x

    def tri(np_fn):
        return [((X(3, 4),),), ((X(4, 3), -1),), ((X(2, 3, 3), 1),), ((XT(4, 3),),), ((X(0, 2),),)], np_fn, [_rt(X(3))]
    return [
        _row("flip", shape.flip,
             [((X(3, 4), 0),), ((X(2, 3, 4), (0, 2)),), ((X(), (0,)),), ((XT(4, 3), -1),), ((X(0, 3), 1),)],
             flip_ref, [_rt(X(*_E), 0, 0), _dim_out_of_range(2)], op=(shape.Flip,)),
        _row("fliplr", shape.fliplr, [((X(3, 4),),), ((XT(4, 3),),), ((X(2, 3, 2),),), ((X(0, 2),),)],
             np.fliplr, [_rt(X(3))], op=(shape.Flip,), files=(_TABLE_TEST,)),
        _row("flipud", shape.flipud, [((X(3, 4),),), ((X(5),),), ((XT(4, 3),),), ((X(0, 2),),)],
             np.flipud, [_rt(X())], op=(shape.Flip,), files=(_TABLE_TEST,)),
        _row("roll", shape.roll,
             [((X(5), 2),), ((X(3, 4), (1, -1), (0, 1)),), ((X(2, 3), 4),), ((XT(4, 3), 1, 0),), ((X(0, 3), 1, 1),)],
             lambda x, shifts, dims=None: np.roll(x, shifts, dims), [_rt(X(3, 4), (1, 2), (0,)),
                                                                     _dim_out_of_range(1, 2)]),
        _row("repeat", shape.repeat,
             [((X(2, 3), 2, 1),), ((X(3), (2, 2)),), ((X(), 3),), ((XT(4, 3), 1, 2),), ((X(2, 3), 0, 2),)],
             lambda x, *sizes: np.tile(x, _dims(sizes)), [_rt(X(*_E), 2)]),
        _row("tile", shape.tile, [((X(2, 3), (2,)),), ((X(3), (2, 2)),), ((XT(4, 3), (1, 2)),), ((X(0, 2), (2, 1)),)],
             np.tile),
        _row("repeat_interleave", shape.repeat_interleave,
             [((X(3), 2),), ((X(2, 3), 2, 1),), ((X(2, 2), 3),), ((X(3), V([1, 0, 2]), 0),), ((XT(4, 3), 2, 0),),
              ((X(0, 2), 3, 0),)],
             lambda x, repeats, dim=None: np.repeat(x, repeats, axis=dim),
             [_rt(X(3), -1), _rt(X(3), V([1, 2]), 0)], files=(_TABLE_TEST,)),
        _row("tril", shape.tril, *tri(np.tril), op=(shape._Triangle,)),
        _row("triu", shape.triu, *tri(np.triu), op=(shape._Triangle,)),
        _row("diag", shape.diag, [((X(3),),), ((X(3, 4), 1),), ((X(2), -1),), ((XT(4, 3), -2),), ((X(0),),)],
             np.diag, [_rt(X(2, 3, 4)), _rt(X())]),
        _row("diagonal", shape.diagonal,
             [((X(3, 4),),), ((X(3, 4), 1),), ((X(2, 3, 4), -1, 2, 0),), ((XT(4, 3), 0, 1, 0),), ((X(0, 3),),)],
             np.diagonal, [_rt(X(*_E), 0, 1, 1), _dim_out_of_range(0, 0, 2)], files=(_TABLE_TEST,)),
        _row("diag_embed", shape.diag_embed,
             [((X(3),),), ((X(2, 3), 1),), ((X(2, 3), -1, 0, 2),), ((XT(4, 3), 0, -1, 0),), ((X(0, 2),),)],
             _diag_embed_ref, [_rt(X(*_E), 0, 0, 0), _dim_out_of_range(0, 0, 3)], files=(_TABLE_TEST,)),
    ]


def rows() -> list[OpInfo]:
    return _view_rows() + _layout_rows() + _join_rows() + _copy_rows()

