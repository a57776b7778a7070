"""Rows of indexing, gather/scatter, masking and where (samples written with shape.py's
placeholders: X/XT floats, Idx/Distinct indices, B masks, V fixed values)."""
from __future__ import annotations

import operator

import numpy as np

from .. import embedding, index, pointwise
from ._base import _NN_FUNCTIONAL, OpInfo
from .shape import _TABLE_TEST, XT, B, Distinct, Idx, V, X, _row, _rt


# ---- float64 references -------------------------------------------------------------------------
def _scatter_places(index, dim):
    """The full index tuple naming out[..., index, ...] along ``dim`` for each entry of ``index``."""
    places = list(np.indices(index.shape, sparse=True))
    places[dim] = index
    return tuple(places)


def _leading(src, index):
    """The part of ``src`` the index covers (src may be larger in every dim)."""
    return src[tuple(slice(0, s) for s in index.shape)] if np.ndim(src) else src


def _scatter_ref(x, dim, index, src=None, value=None, reduce=None):
    out, places = x.copy(), _scatter_places(index, dim)
    vals = np.broadcast_to(_leading(value if src is None else src, index), index.shape)
    if reduce == "add":
        np.add.at(out, places, vals)
    else:
        out[places] = vals
    return out


def _scatter_reduce_ref(x, dim, index, src, reduce, include_self=True):
    places = _scatter_places(index, dim)
    total, count = x.copy(), np.ones_like(x)
    if reduce in ("amax", "amin"):
        if not include_self:
            total[places] = -np.inf if reduce == "amax" else np.inf
        (np.maximum if reduce == "amax" else np.minimum).at(total, places, _leading(src, index))
        return total
    if not include_self:
        total[places], count[places] = 0, 0
    np.add.at(total, places, _leading(src, index))
    np.add.at(count, places, 1)
    return total if reduce == "sum" else total / np.maximum(count, 1)


def _gather_ref(x, dim, index):
    covered = tuple(slice(None) if d == dim else slice(0, s) for d, s in enumerate(index.shape))
    return np.take_along_axis(x[covered], index, dim)


def _index_add_ref(x, dim, index, source, alpha=1):
    out = x.copy()
    np.add.at(np.moveaxis(out, dim, 0), index, alpha * np.moveaxis(source, dim, 0))
    return out


def _index_fill_ref(x, dim, index, value):
    out = x.copy()
    np.moveaxis(out, dim, 0)[index] = value
    return out


def _index_put_ref(x, indices, values, accumulate=False):
    out = x.copy()
    if accumulate:
        np.add.at(out, tuple(indices), values)
    else:
        out[tuple(indices)] = values
    return out


def _masked_scatter_ref(x, mask, source):
    x, mask = np.broadcast_arrays(x, mask)
    out = x.copy()
    out[mask] = source.ravel()[:mask.sum()]
    return out


def _masked_select_ref(x, mask):
    x, mask = np.broadcast_arrays(x, mask)
    return x[mask]


def _take_along_dim_ref(x, indices, dim=None):
    if dim is None:
        return np.take_along_axis(x.ravel(), indices.ravel(), 0)
    return np.take_along_axis(x, indices, dim)


# ---- rows ---------------------------------------------------------------------------------------
def _index_rows() -> list[OpInfo]:
    return [
        _row("getitem", operator.getitem,
             [((X(3, 4), (Idx(3, 5),)),), ((X(3, 4), (slice(None), slice(1, None, 2))),), ((X(3, 4), 1),),
              ((X(2, 3, 4), (Ellipsis, None, -1)),), ((XT(4, 3), Idx(4, 2, 2)),), ((X(3, 4), B(3, 4)),),
              ((X(3, 4), ([0, 2, 2], slice(None))),), ((X(2, 3, 4), (V([0, 1]), slice(None), V([3, 0]))),),
              ((X(3, 4), slice(2, 2)),), ((X(0, 3), (slice(None), 1)),)],
             lambda x, idx: x[idx],
             [((X(3, 4), 3), {}, IndexError), ((X(3, 4), (0, 0, 0)), {}, IndexError),
              ((X(3, 4), X(1)), {}, IndexError)],
             op=(index.GetItem,)),
        _row("index_select", index.index_select,
             [((X(3, 4), 0, Idx(3, 5)),), ((X(3, 4), 1, Idx(4, 2)),), ((X(5), 0, V(2)),), ((XT(4, 3), 1, Idx(3, 4)),),
              ((X(3, 4), 0, Idx(3, 0)),)],
             lambda x, dim, idx: np.take(x, np.atleast_1d(idx), axis=dim),
             [((X(3, 4), 0, V([3])), {}, IndexError), ((X(3, 4), 0, V([-1])), {}, IndexError),
              ((X(3, 4), 0, V([[0]])), {}, IndexError), _rt(X(3, 4), 0, X(1))],
             op=(index.IndexSelect,)),
        _row("take", index.take,
             [((X(3, 4), Idx(12, 5)),), ((X(3, 4), Idx(12, 2, 2)),), ((X(5), V(-1)),), ((XT(4, 3), Idx(12, 3)),),
              ((X(3, 4), Idx(12, 0)),)],
             lambda x, idx: x.ravel()[idx], [((X(3, 4), V([12])), {}, IndexError)], op=(index.GetItem,)),
        _row("index_put", index.index_put,
             [((X(3, 4), (V([2, 0]),), X(2, 4)),), ((X(3, 4), (Idx(3, 5), Idx(4, 5)), X(5)), {"accumulate": True}),
              ((X(3, 4), (B(3, 4),), X()),), ((XT(4, 3), (V([1]), V([0, 2])), X(2)),),
              ((X(3, 4), (Idx(3, 0),), X(0, 4)),)],
             _index_put_ref, [((X(3, 4), (V([3]),), X()), {}, IndexError)], op=(index.IndexPut,),
             files=(_TABLE_TEST,)),
        _row("index_fill", index.index_fill,
             [((X(3, 4), 1, V([0, 2, -2]), X()),), ((X(3, 4), 0, Idx(3, 4), -2.0),), ((X(3, 4), 1, V([1]), 1.5),),
              ((XT(4, 3), 0, V([1]), 0.0),),
              ((X(0, 3), 1, V([2]), 1.0),)],
             _index_fill_ref, [((X(3, 4), 0, V([3]), 1.0), {}, IndexError)], op=(index.IndexPut,),
             files=(_TABLE_TEST,)),
        _row("index_add", index.index_add,
             [((X(3, 4), 0, Idx(3, 5), X(5, 4)),), ((X(3, 4), 1, V([0, 0, 3]), X(3, 3)), {"alpha": 2.0}),
              ((XT(4, 3), 1, Idx(3, 2), X(4, 2)),), ((X(3, 4), 0, Idx(3, 0), X(0, 4)),)],
             _index_add_ref, [_rt(X(3, 4), 0, X(1), X(1, 4))], op=(index.IndexAdd,)),
    ]


def _gather_scatter_rows() -> list[OpInfo]:
    return [
        _row("gather", index.gather,
             [((X(3, 4), 1, Idx(4, 3, 2)),), ((X(3, 4), 0, Idx(3, 2, 4)),), ((X(3, 4), 1, Idx(4, 2, 3)),),
              ((XT(4, 3), -1, Idx(3, 4, 3)),), ((X(2, 3, 4), 2, Idx(4, 2, 3, 1)),), ((X(3, 4), 1, Idx(4, 3, 0)),)],
             _gather_ref,
             [_rt(X(3, 4), 0, V([[3]])), _rt(X(3, 4), 0, V([[-1]])), _rt(X(3, 4), 0, V([1])),
              _rt(X(3, 4), 0, X(1, 1)), ((X(3, 4), 2, V([[0]])), {}, IndexError)],
             op=(index.Gather,)),
        _row("take_along_dim", index.take_along_dim,
             [((X(3, 4), Idx(4, 3, 2), 1),), ((X(3, 4), Idx(12, 5)),), ((X(1, 4), Idx(4, 3, 2), 1),),
              ((X(3, 4), V([[-1, 0]]), 1),), ((XT(4, 3), Idx(4, 2, 3), 0),), ((X(0, 3), Idx(3, 0, 1), 1),)],
             _take_along_dim_ref, [_rt(X(3, 4), V([0]), 1)], op=(index.Gather,), files=(_TABLE_TEST,)),
        _row("scatter", index.scatter,
             [((X(3, 4), 1, Distinct(4, (3, 2), 1), X(3, 2)),), ((X(3, 4), 0, Distinct(3, (2, 4), 0), X(2, 5)),),
              ((X(3, 4), 1, Distinct(4, (2, 3), 1)), {"value": 2.5}), ((XT(4, 3), 0, Distinct(4, (2, 3), 0), X(2, 3)),),
              ((X(3, 4), 1, Idx(4, 3, 5), X(3, 5)), {"reduce": "add"}), ((X(3, 4), 1, Idx(4, 3, 0), X(3, 0)),)],
             _scatter_ref,
             [_rt(X(3, 4), 0, V([[3]]), X(1, 1)), _rt(X(3, 4), 0, V([[-1]]), X(1, 1)),
              _rt(X(3, 4), 0, X(1, 1), X(1, 1)), ((X(3, 4), 2, V([[0]]), X(1, 1)), {}, IndexError)],
             op=(index.Scatter,), files=(_TABLE_TEST,)),
        _row("scatter_add", index.scatter_add,
             [((X(3, 4), 1, Idx(4, 3, 5), X(3, 5)),), ((X(3, 4), 0, Idx(3, 2, 4), X(2, 4)),),
              ((XT(4, 3), 1, Idx(3, 4, 2), X(4, 2)),), ((X(3, 4), 0, Idx(3, 0, 4), X(0, 4)),)],
             lambda x, dim, index, src: _scatter_ref(x, dim, index, src, reduce="add"),
             [_rt(X(3, 4), 0, V([[3]]), X(1, 1))], op=(index.Scatter,)),
        _row("scatter_reduce", index.scatter_reduce,
             [((X(3, 4), 0, Idx(3, 2, 4), X(2, 4), "mean"), {"include_self": False}),
              ((X(3, 4), 1, Idx(4, 3, 5), X(3, 5), "amax"),), ((X(3, 4), 1, Idx(4, 3, 5), X(3, 5), "sum"),),
              ((X(5), 0, V([0, 0, 2]), X(3), "amin"), {"include_self": False}),
              ((X(5), 0, V([0, 0, 2]), X(3), "mean"),), ((X(5), 0, V([0, 0, 2]), X(3), "sum"), {"include_self": False}),
              ((XT(4, 3), 1, Idx(3, 4, 2), X(4, 2), "mean"),), ((X(3, 4), 0, Idx(3, 0, 4), X(0, 4), "mean"),)],
             _scatter_reduce_ref, [_rt(X(3, 4), 0, V([[3]]), X(1, 1), "sum"), _rt(X(3), 0, V([0]), X(1), "foo")],
             op=(index.Scatter, index._ScatterExtreme), files=(_TABLE_TEST,)),
    ]


def _mask_rows() -> list[OpInfo]:
    return [
        _row("masked_fill", index.masked_fill,
             [((X(3, 4), B(3, 4), 1.5),), ((X(3, 4), B(4), X()),), ((XT(4, 3), B(4, 1), -1.0),),
              ((X(0, 3), B(3), 2.0),)],
             lambda x, mask, value: np.where(mask, value, x),
             [_rt(X(3, 4), V([1, 0, 1, 0]), 1.0), _rt(X(3, 4), B(3, 4), X(1))], op=(index.MaskedFill,)),
        _row("masked_scatter", index.masked_scatter,
             [((X(3, 4), B(3, 4), X(12)),), ((X(3, 4), B(4), X(3, 5)),), ((XT(4, 3), B(4, 3), X(12)),),
              ((X(3, 1), B(2, 1, 4), X(24)),), ((X(0, 3), B(3), X(2)),)],
             _masked_scatter_ref, [_rt(X(3, 4), B(3, 4), X(5)), _rt(X(3, 4), V([1, 0, 1, 0]), X(12))],
             op=(index.IndexPut,), files=(_TABLE_TEST,)),
        _row("masked_select", index.masked_select,
             [((X(3, 4), B(3, 4)),), ((X(3, 1), B(4)),), ((XT(4, 3), B(4, 3)),), ((X(0, 3), B(3)),)],
             _masked_select_ref, [_rt(X(3, 4), V([1, 0, 1, 0]))], op=(index.GetItem,), files=(_TABLE_TEST,)),
        _row("where", pointwise.where,
             [((B(3, 4), X(3, 4), X(3, 4)),), ((B(3, 1), X(1, 4), X(4)),), ((B(4), XT(3, 4), 0.5),),
              ((B(0, 3), X(3), X(1, 3)),)],
             np.where, [_rt(B(2, 3), X(2, 3), X(4))], op=(pointwise.Where,)),
        # padding_idx and scale_grad_by_freq change only the weight's gradient (no longer the
        # derivative of the lookup): their samples come after the two that gradcheck takes
        _row("embedding_lookup", embedding.embedding_lookup,
             [((X(5, 3), Idx(5, 4), None, False),), ((X(4, 2), Idx(4, 2, 3), None, False),),
              ((XT(6, 3), Idx(6, 4), None, False),), ((X(5, 3), V([0, 2, 0, 4]), 0, False),),
              ((X(5, 3), V([1, 1, 3]), None, True),), ((X(5, 3), Idx(5, 0), None, False),)],
             lambda weight, indices, *flags: weight[indices], [((X(3, 2), V([3]), None, False), {}, IndexError)],
             op=(embedding._Embedding,), files=(_NN_FUNCTIONAL,)),
    ]


def rows() -> list[OpInfo]:
    return _index_rows() + _gather_scatter_rows() + _mask_rows()
