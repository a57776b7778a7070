"""Rows of clamps, lerp/addcmul, norms, matrix products and the remaining reductions (sort, topk, median...)."""
from __future__ import annotations

import numpy as np

from ... import _dtype
from .. import linalg, pointwise, reduce, shape
from ..index import Gather
from ._base import (
    _OPS_TEST,
    OpInfo,
    Sample,
    _binary_errors,
    _files,
    _listed,
    _rng,
    _t,
    binary_samples,
)

_SURFACE_TEST = "tests/test_surface.py"
_TABLE_TEST = "tests/test_op_table.py"  # ops with no hand-written test module of their own
_GEMM = ("gemm",)


def _bad(*cases):
    """Bad inputs: each case is (make_args(z), kwargs, exception), z(*shape, dtype=float64) a
    zeros tensor on the device."""
    def gen(device):
        def z(*s, dtype=_dtype.float64):
            return _t(np.zeros(s), device, dtype)
        for make, kwargs, exc in cases:
            yield make(z), kwargs, exc
    return gen


def _dim2(**kwargs):
    """A dim out of range of a (2, 3) tensor: IndexError, as PyTorch."""
    return (lambda z: (z(2, 3),), dict(kwargs, dim=2), IndexError)


_LIST = (lambda z: ([1.0, 2.0], z(2)), {}, TypeError)  # a list is not a Tensor
_INT = (lambda z: (z(2, 3, dtype=_dtype.int64),), {}, RuntimeError)  # floating point needed


def _axis(x, dim):
    """NumPy's axis for a PyTorch dim (a 0-d tensor takes dim 0 and has no axis)."""
    return None if x.ndim == 0 or dim is None else tuple(dim) if isinstance(dim, (list, tuple)) else dim


# ---- pointwise ---------------------------------------------------------------------------------
def _clamp_ref(x, min=None, max=None):  # noqa: A002
    out = x if min is None else np.maximum(x, min)
    return out if max is None else np.minimum(out, max)


@_listed()
def _clamp_samples(mk, ints):
    yield Sample((mk(3, 4), -0.5, 0.5), {}, "number bounds")
    # broadcast tensor bounds, some min above max (the result is then max)
    yield Sample((mk(3, 4), mk(4, domain="unit") - 0.5, mk(3, 1, domain="unit") + 0.5), {},
                 "broadcast tensor bounds")
    yield Sample((mk(7),), {"min": -0.2}, "min only")
    yield Sample((mk(1, 5),), {"max": mk(5, domain="unit")}, "tensor max only, size-1 dim")
    yield Sample((mk(4, 3, transposed=True), -0.3, 0.3), {}, "transposed")
    yield Sample((mk(), 0.1), {}, "0-d")
    yield Sample((mk(0, 3), mk(3) - 2), {}, "empty")


@_listed()
def _bound_samples(mk, ints):
    """(x, bound) for clamp_min / clamp_max."""
    yield Sample((mk(3, 4), 0.1), {}, "number")
    yield Sample((mk(2, 5), mk(5)), {}, "broadcast tensor")
    yield Sample((mk(7), mk(1)), {}, "size-1 tensor")
    yield Sample((mk(4, 3, transposed=True), -0.2), {}, "transposed")
    yield Sample((mk(0, 3), 0.0), {}, "empty")


_CLAMP_ERRORS = _bad(_LIST, (lambda z: (z(2, 3),), {}, RuntimeError),  # neither bound
                     (lambda z: (z(2, 3), z(4)), {}, RuntimeError))  # not broadcastable


@_listed()
def _lerp_samples(mk, ints):
    yield Sample((mk(3, 4), mk(3, 4), 0.3), {}, "number weight")
    yield Sample((mk(3, 1), mk(1, 4), mk(3, 4, domain="unit")), {}, "broadcast tensor weight")
    yield Sample((mk(5), mk(5), mk(1)), {}, "size-1 weight")
    yield Sample((mk(4, 3, transposed=True), mk(3), 0.7), {}, "transposed")
    yield Sample((mk(0, 3), mk(3), 0.5), {}, "empty")


def _addc_samples(domain):
    """(input, tensor1, tensor2) for addcmul / addcdiv, tensor2 drawn from ``domain``."""
    @_listed()
    def _addc(mk, ints):
        yield Sample((mk(3, 4), mk(3, 4), mk(3, 4, domain=domain)), {"value": 0.5}, "value 0.5")
        yield Sample((mk(3, 1), mk(1, 4), mk(4, domain=domain)), {}, "broadcast")
        yield Sample((mk(1), mk(5), mk(5, domain=domain)), {"value": -2}, "size-1 input")
        yield Sample((mk(4, 3, transposed=True), mk(3), mk(4, 3, domain=domain, transposed=True)), {},
                     "transposed")
        yield Sample((mk(0, 3), mk(3), mk(1, 3, domain=domain)), {}, "empty")
    return _addc


_TERNARY_ERRORS = (_LIST, (lambda z: (z(2, 3), z(4), z(3)), {}, RuntimeError))


# ---- reductions --------------------------------------------------------------------------------
@_listed()
def _pick_samples(mk, ints):
    """Inputs and dims of the reductions that pick an entry (max, min, aminmax)."""
    yield Sample((mk(3, 4),), {}, "all")
    yield Sample((mk(3, 5),), {"dim": 1}, "dim 1")
    yield Sample((mk(3, 4),), {"dim": -2, "keepdim": True}, "dim -2 keepdim")
    yield Sample((mk(1, 6, 1),), {"dim": 1}, "size-1 dims")
    yield Sample((mk(4, 3, transposed=True),), {"dim": 0}, "transposed")
    yield Sample((mk(),), {"dim": 0}, "0-d")
    yield Sample((mk(0, 3),), {"dim": 1}, "empty rows")


def _max_min_samples(device, dtype, name=""):
    yield from _pick_samples(device, dtype, name)
    r = _rng("max_min")
    yield Sample((_t(r.standard_normal((3, 4)), device, dtype), _t(r.standard_normal(4), device, dtype)), {},
                 "a Tensor second: maximum / minimum")


def _pick_ref(np_fn, binary):
    def ref(x, dim=None, keepdim=False):
        if isinstance(dim, np.ndarray):
            return binary(x, dim)
        return np_fn(x, axis=_axis(x, dim), keepdims=keepdim and x.ndim > 0)
    return ref


def _pick_errors(**kwargs):
    return _bad(_dim2(**kwargs), (lambda z: (z(0, 3),), {}, RuntimeError),  # no identity
                (lambda z: (z(0, 3),), dict(kwargs, dim=0), IndexError))  # an empty dim


def _aminmax_ref(x, dim=None, keepdim=False):
    return (_pick_ref(np.min, None)(x, dim, keepdim), _pick_ref(np.max, None)(x, dim, keepdim))


def _kth_ref(x, k, dim=-1, keepdim=False):
    if x.ndim == 0:
        return x
    v = np.take(np.sort(x, axis=dim), [k - 1], axis=dim)
    return v if keepdim else np.squeeze(v, dim)


def _median_ref(x, dim=None, keepdim=False):
    if dim is None:
        return np.sort(x.ravel())[(x.size - 1) // 2] if x.size else np.nan
    return _kth_ref(x, (x.shape[dim] - 1) // 2 + 1 if x.ndim else 1, dim, keepdim)


@_listed()
def _median_samples(mk, ints):
    yield Sample((mk(3, 4),), {}, "all, even count: the lower median")
    yield Sample((mk(4, 3),), {"dim": 0}, "dim 0 of 4")
    yield Sample((mk(3, 5),), {"dim": 1, "keepdim": True}, "dim 1 of 5, keepdim")
    yield Sample((mk(4, 3, transposed=True),), {"dim": 0}, "transposed")
    yield Sample((mk(1, 1),), {"dim": -1}, "size 1")
    yield Sample((mk(),), {"dim": 0}, "0-d")
    yield Sample((mk(0, 3),), {}, "empty: NaN")
    yield Sample((mk(0, 3),), {"dim": 1}, "empty rows")


@_listed()
def _kthvalue_samples(mk, ints):
    yield Sample((mk(3, 5), 2), {}, "k 2 of the last dim")
    yield Sample((mk(4, 3), 4, 0, True), {}, "k 4 of dim 0, keepdim")
    yield Sample((mk(1, 6, 1), 1, 1), {}, "size-1 dims")
    yield Sample((mk(4, 3, transposed=True), 3, 0), {}, "transposed")
    yield Sample((mk(), 1), {}, "0-d")
    yield Sample((mk(0, 3), 2), {}, "empty rows")


def _sort_ref(x, dim=-1, descending=False, stable=False):
    if x.ndim == 0:
        return x
    s = np.sort(x, axis=dim)
    return np.flip(s, dim) if descending else s


@_listed()
def _sort_samples(mk, ints):
    yield Sample((mk(3, 5),), {}, "(3, 5) last dim")
    yield Sample((mk(4, 3), 0, True), {}, "dim 0 descending")
    yield Sample((mk(7),), {"stable": True}, "(7,) stable")
    yield Sample((mk(4, 3, transposed=True),), {"dim": 0}, "transposed")
    yield Sample((mk(1, 1),), {}, "size 1")
    yield Sample((mk(),), {}, "0-d")
    yield Sample((mk(0, 3),), {"dim": 0}, "empty")


def _topk_ref(x, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    s = _sort_ref(x, dim, descending=largest)
    return s if x.ndim == 0 else np.take(s, range(k), axis=dim)


@_listed()
def _topk_samples(mk, ints):
    yield Sample((mk(3, 5), 2), {}, "2 largest of the last dim")
    yield Sample((mk(4, 3), 3, 0, False), {}, "3 smallest of dim 0")
    yield Sample((mk(7), 7), {}, "all of (7,)")
    yield Sample((mk(4, 3, transposed=True), 2), {"dim": 0}, "transposed")
    yield Sample((mk(3, 4), 0), {}, "k 0")
    yield Sample((mk(), 1), {}, "0-d")
    yield Sample((mk(0, 3), 2), {}, "empty rows")


_K_ERRORS = (lambda z: (z(2, 3), 4), {}, RuntimeError)  # k beyond the dim's size


@_listed()
def _cumprod_samples(mk, ints):
    yield Sample((mk(3, 4), 1), {}, "(3, 4) dim 1")
    yield Sample((mk(2, 4).clamp(min=0), 1), {}, "zeros: exact gradients through them")
    yield Sample((mk(5), -1), {}, "(5,) dim -1")
    yield Sample((mk(4, 3, transposed=True), 0), {}, "transposed")
    yield Sample((mk(1, 1), 0), {}, "size 1")
    yield Sample((mk(), 0), {}, "0-d")
    yield Sample((mk(0, 3), 1), {}, "empty")


def _stat_mean_ref(root):
    def ref(x, dim=None, unbiased=None, keepdim=False, correction=None):
        if isinstance(dim, bool):
            unbiased, dim = dim, None
        c = correction if correction is not None else (0 if unbiased is False else 1)
        v = np.var(x, axis=_axis(x, dim), keepdims=keepdim, ddof=c)
        return np.sqrt(v) if root else v, np.mean(x, axis=_axis(x, dim), keepdims=keepdim)
    return ref


@_listed()
def _stat_mean_samples(mk, ints):
    yield Sample((mk(3, 5),), {}, "all")
    yield Sample((mk(3, 5), 1), {}, "dim 1")
    yield Sample((mk(2, 3, 4),), {"dim": (0, 2), "keepdim": True, "correction": 0}, "two dims, correction 0")
    yield Sample((mk(3, 5), False), {}, "unbiased=False positionally")
    yield Sample((mk(4, 3, transposed=True),), {"dim": 0}, "transposed")
    yield Sample((mk(0, 3),), {"dim": 1}, "empty rows")


def _vector_norm_ref(x, ord=2, dim=None, keepdim=False):  # noqa: A002
    a, ax = np.abs(x), _axis(x, dim)
    if ord in (np.inf, -np.inf):
        return (a.max if ord > 0 else a.min)(axis=ax, keepdims=keepdim)
    if ord == 0:
        return (a != 0).sum(axis=ax, keepdims=keepdim).astype(np.float64)
    return (a ** ord).sum(axis=ax, keepdims=keepdim) ** (1 / ord)


def _norm_ref(x, p="fro", dim=None, keepdim=False):
    return _vector_norm_ref(x, 2 if p == "fro" else p, dim, keepdim)


def _norm_samples(p):
    """Samples of norm (``p`` = "p") and vector_norm (``p`` = "ord")."""
    @_listed()
    def _norms(mk, ints):
        yield Sample((mk(3, 4),), {}, "2-norm of all")
        yield Sample((mk(2, 3) * 0,), {"dim": 1}, "zero: gradient 0")
        yield Sample((mk(3, 5),), {p: 1, "dim": 1}, "1-norm, dim 1")
        yield Sample((mk(2, 3, 4),), {p: 3, "dim": (0, 2), "keepdim": True}, "3-norm of two dims")
        yield Sample((mk(4, 3, transposed=True),), {p: float("inf"), "dim": 0}, "inf-norm, transposed")
        yield Sample((mk(3, 4),), {p: -float("inf"), "dim": -1}, "-inf-norm")
        yield Sample((mk(5),), {p: 0.5}, "0.5-norm")
        yield Sample((mk(3, 4),), {p: 0, "dim": 1}, "0-norm: the non-zero count")
        yield Sample((mk(),), {"dim": 0}, "0-d")
        yield Sample((mk(0, 3),), {"dim": 1}, "empty rows")
    return _norms


def _renorm_ref(x, p, dim, maxnorm):
    axes = tuple(i for i in range(x.ndim) if i != dim % x.ndim)
    n = _vector_norm_ref(x, p, axes, keepdim=True)
    return x * np.where(n > maxnorm, maxnorm / (n + 1e-7), 1.0)


@_listed()
def _renorm_samples(mk, ints):
    yield Sample((mk(3, 4), 2, 0, 1.5), {}, "2-norm of rows")
    yield Sample((mk(2, 3, 2), 1, 1, 2.0), {}, "1-norm of dim-1 slices")
    yield Sample((mk(4, 3, transposed=True), 3, -1, 1.0), {}, "transposed")
    yield Sample((mk(1, 5), 2, 0, 0.5), {}, "one slice")
    yield Sample((mk(0, 3), 2, 1, 1.0), {}, "empty")


# ---- products ----------------------------------------------------------------------------------
@_listed()
def _mm_samples(mk, ints):
    yield Sample((mk(3, 5), mk(5, 4)), {}, "(3, 5) @ (5, 4)")
    yield Sample((mk(4, 3, transposed=True), mk(3, 2)), {}, "transposed")
    yield Sample((mk(1, 1), mk(1, 6)), {}, "size 1")
    yield Sample((mk(0, 4), mk(4, 2)), {}, "no rows")
    yield Sample((mk(3, 0), mk(0, 2)), {}, "empty inner dim: zeros")


@_listed()
def _bmm_samples(mk, ints):
    yield Sample((mk(2, 3, 5), mk(2, 5, 4)), {}, "2 x (3, 5) @ (5, 4)")
    yield Sample((mk(2, 4, 3, transposed=True), mk(2, 3, 2)), {}, "transposed")
    yield Sample((mk(1, 1, 3), mk(1, 3, 1)), {}, "size 1")
    yield Sample((mk(0, 2, 3), mk(0, 3, 4)), {}, "no batch")


@_listed()
def _mv_samples(mk, ints):
    yield Sample((mk(3, 5), mk(5)), {}, "(3, 5) @ (5,)")
    yield Sample((mk(4, 3, transposed=True), mk(3, 4)[:, 1]), {}, "transposed, strided vector")
    yield Sample((mk(1, 1), mk(1)), {}, "size 1")
    yield Sample((mk(0, 3), mk(3)), {}, "no rows")
    yield Sample((mk(2, 0), mk(0)), {}, "empty inner dim: zeros")


def _vector_pairs(mk, ints):
    """Two vectors of one length (dot, outer)."""
    yield Sample((mk(5), mk(5)), {}, "(5,)")
    yield Sample((mk(3, 4)[:, 1], mk(3)), {}, "strided")
    yield Sample((mk(1), mk(1)), {}, "size 1")
    yield Sample((mk(0), mk(0)), {}, "empty")


_dot_samples = _listed()(_vector_pairs)


@_listed()
def _inner_samples(mk, ints):
    yield Sample((mk(3, 5), mk(2, 5)), {}, "(3, 5) and (2, 5)")
    yield Sample((mk(2, 3, 4), mk(4)), {}, "3-D and 1-D")
    yield Sample((mk(5), mk(5)), {}, "1-D: the dot product")
    yield Sample((mk(), mk(2, 3)), {}, "0-d: a product")
    yield Sample((mk(4, 3, transposed=True), mk(2, 3)), {}, "transposed")
    yield Sample((mk(0, 3), mk(3)), {}, "empty")


@_listed()
def _outer_samples(mk, ints):
    yield Sample((mk(3), mk(4)), {}, "(3,) and (4,)")
    yield from _vector_pairs(mk, ints)


def _add_product_ref(product):
    def ref(input, a, b, beta=1, alpha=1):
        out = alpha * product(a, b)
        return out if beta == 0 else out + beta * input
    return ref


@_listed()
def _addmm_samples(mk, ints):
    yield Sample((mk(4), mk(3, 2), mk(2, 4)), {"beta": 0.5, "alpha": 2}, "broadcast input, beta and alpha")
    yield Sample((mk(3, 4), mk(3, 5, transposed=True), mk(5, 4)), {}, "transposed")
    yield Sample((mk(3, 1), mk(3, 2), mk(2, 1)), {}, "size 1")
    yield Sample((mk(3, 4) * float("nan"), mk(3, 2), mk(2, 4)), {"beta": 0}, "beta 0 ignores NaN")
    yield Sample((mk(3, 4), mk(3, 0), mk(0, 4)), {}, "empty inner dim")


@_listed()
def _addmv_samples(mk, ints):
    yield Sample((mk(3), mk(3, 2), mk(2)), {"beta": -1, "alpha": 0.5}, "beta and alpha")
    yield Sample((mk(1), mk(4, 3, transposed=True), mk(3)), {}, "size-1 input, transposed")
    yield Sample((mk(3) * float("nan"), mk(3, 2), mk(2)), {"beta": 0}, "beta 0 ignores NaN")
    yield Sample((mk(0), mk(0, 3), mk(3)), {}, "no rows")


@_listed()
def _baddbmm_samples(mk, ints):
    yield Sample((mk(1, 4), mk(2, 3, 2), mk(2, 2, 4)), {"alpha": 0.5}, "broadcast input")
    yield Sample((mk(2, 3, 2), mk(2, 3, 4, transposed=True), mk(2, 4, 2)), {"beta": 2}, "transposed")
    yield Sample((mk(2, 3, 4) * float("nan"), mk(2, 3, 2), mk(2, 2, 4)), {"beta": 0}, "beta 0 ignores NaN")
    yield Sample((mk(0, 3, 4), mk(0, 3, 2), mk(0, 2, 4)), {}, "no batch")


def _cdist_ref(x1, x2, p=2.0):
    return _vector_norm_ref(x1[..., :, None, :] - x2[..., None, :, :], p, -1)


@_listed()
def _cdist_samples(mk, ints):
    yield Sample((mk(3, 2), mk(4, 2)), {}, "(3, 2) and (4, 2)")
    x = mk(3, 2)
    yield Sample((x, x), {}, "zero distances: gradient 0")
    yield Sample((mk(2, 3, 2), mk(1, 4, 2), 1.0), {}, "1-norm, broadcast batch")
    yield Sample((mk(2, 3, transposed=True), mk(4, 3), float("inf")), {}, "inf-norm, transposed")
    yield Sample((mk(1, 1), mk(5, 1)), {}, "size 1")
    yield Sample((mk(0, 2), mk(4, 2)), {}, "no rows")


def _cross_ref(a, b, dim=None):
    if dim is None:
        dim = np.broadcast_shapes(a.shape, b.shape).index(3)
    return np.cross(a, b, axis=dim)


@_listed()
def _cross_samples(mk, ints):
    yield Sample((mk(4, 3), mk(4, 3)), {"dim": -1}, "(4, 3) dim -1")
    yield Sample((mk(3, 2), mk(3, 1)), {"dim": 0}, "broadcast")
    yield Sample((mk(2, 3, 3), mk(2, 3, 3)), {}, "default dim: the first of size 3")
    yield Sample((mk(3, 4, transposed=True), mk(3, 4)), {"dim": 0}, "transposed")
    yield Sample((mk(0, 3), mk(0, 3)), {"dim": 1}, "empty")


@_listed()
def _einsum_samples(mk, ints):
    yield Sample(("bij,bjk->bik", mk(1, 2, 3), mk(4, 3, 2)), {}, "batched, broadcast batch")
    yield Sample(("iij->ij", mk(3, 3, 2)), {}, "a diagonal")
    yield Sample(("ii->", mk(3, 3)), {}, "the trace")
    yield Sample(("...ij,...jk->...ik", mk(2, 3, 2), mk(2, 4)), {}, "ellipsis")
    yield Sample(("ij,jk", mk(3, 2), mk(2, 4, transposed=True)), {}, "implicit output, transposed")
    yield Sample(("ijk->j", mk(2, 3, 1)), {}, "summed out, size 1")
    yield Sample(("i,j->ij", mk(0), mk(3)), {}, "empty")


@_listed()
def _tensordot_samples(mk, ints):
    yield Sample((mk(3, 4, 2), mk(4, 2, 2)), {}, "two dims")
    yield Sample((mk(3, 4, 5), mk(5, 3), ([0, 2], [1, 0])), {}, "listed dims")
    yield Sample((mk(4, 3, transposed=True), mk(3, 2), 1), {}, "one dim, transposed")
    yield Sample((mk(3), mk(2), 0), {}, "no dims: outer product")
    yield Sample((mk(0, 3), mk(3, 2), 1), {}, "empty")


@_listed()
def _matrix_power_samples(mk, ints):
    yield Sample((mk(3, 3), 3), {}, "cube")
    yield Sample((mk(2, 2, 2), 2), {}, "batched square")
    yield Sample((mk(3, 3, transposed=True), 1), {}, "transposed, first power")
    yield Sample((mk(2, 3, 3), 0), {}, "zeroth power: identity")
    yield Sample((mk(0, 2, 2), 2), {}, "no batch")


@_listed()
def _trace_samples(mk, ints):
    yield Sample((mk(3, 4),), {}, "(3, 4)")
    yield Sample((mk(4, 4, transposed=True),), {}, "transposed")
    yield Sample((mk(1, 1),), {}, "(1, 1)")
    yield Sample((mk(0, 3),), {}, "empty: 0")


def _pointwise_rows() -> list[OpInfo]:
    clamp = OpInfo("clamp", pointwise.clamp, _clamp_samples, op=(pointwise.Clamp,), reference=_clamp_ref,
                   errors=_CLAMP_ERRORS, files=_files(_OPS_TEST, _SURFACE_TEST), aliases=("clip",))
    rows = [clamp]
    for name, fn, ref in (("clamp_min", pointwise.clamp_min, np.maximum),
                          ("clamp_max", pointwise.clamp_max, np.minimum)):
        rows.append(OpInfo(name, fn, _bound_samples, op=(pointwise.Clamp,), reference=ref,
                           errors=_bad(_LIST), files=_files(_TABLE_TEST)))
    for name, fn, ref, op in (("fmod", pointwise.fmod, np.fmod, pointwise.Fmod),
                              ("remainder", pointwise.remainder, np.remainder, pointwise.Remainder)):
        rows.append(OpInfo(name, fn, binary_samples("normal", "nonzero"), op=(op,), reference=ref,
                           errors=_binary_errors, files=_files(_SURFACE_TEST)))
    rows += [
        OpInfo("lerp", pointwise.lerp, _lerp_samples, reference=lambda s, e, w: s + w * (e - s),
               errors=_bad(*_TERNARY_ERRORS, (lambda z: (z(3, dtype=_dtype.int64), z(3, dtype=_dtype.int64),
                                                         0.5), {}, NotImplementedError)),
               files=_files(_TABLE_TEST)),
        OpInfo("addcmul", pointwise.addcmul, _addc_samples("normal"),
               reference=lambda x, a, b, value=1: x + value * a * b, errors=_bad(*_TERNARY_ERRORS),
               files=_files(_TABLE_TEST)),
        OpInfo("addcdiv", pointwise.addcdiv, _addc_samples("nonzero"),
               reference=lambda x, a, b, value=1: x + value * a / b,
               errors=_bad(*_TERNARY_ERRORS, (lambda z: tuple(z(3, dtype=_dtype.int64) for _ in range(3)), {},
                                              RuntimeError)),
               files=_files(_TABLE_TEST)),
    ]
    return rows


def _reduction_rows() -> list[OpInfo]:
    rows = [
        OpInfo("max", reduce.max, _max_min_samples, op=(reduce._ExtremeDim, reduce._Extreme),
               reference=_pick_ref(np.max, np.maximum), errors=_pick_errors(), files=_files(_OPS_TEST)),
        OpInfo("min", reduce.min, _max_min_samples, op=(reduce._ExtremeDim, reduce._Extreme),
               reference=_pick_ref(np.min, np.minimum), errors=_pick_errors(), files=_files(_OPS_TEST)),
        OpInfo("aminmax", reduce.aminmax, _pick_samples, op=(reduce._Extreme,), reference=_aminmax_ref,
               errors=_pick_errors(), files=_files(_TABLE_TEST)),
        OpInfo("median", reduce.median, _median_samples, op=(Gather,), reference=_median_ref,
               errors=_bad(_dim2(), (lambda z: (z(0, 3),), {"dim": 0}, IndexError)), files=_files(_TABLE_TEST)),
        OpInfo("kthvalue", reduce.kthvalue, _kthvalue_samples, op=(Gather,), reference=_kth_ref,
               errors=_bad(_dim2(k=1), _K_ERRORS, (lambda z: (z(2, 3), 0), {}, RuntimeError)),
               files=_files(_TABLE_TEST)),
        OpInfo("sort", reduce.sort, _sort_samples, op=(Gather,), reference=_sort_ref, errors=_bad(_dim2()),
               files=_files(_OPS_TEST)),
        OpInfo("topk", reduce.topk, _topk_samples, op=(Gather,), reference=_topk_ref,
               errors=_bad(_dim2(k=1), _K_ERRORS), files=_files(_OPS_TEST)),
        OpInfo("cumprod", reduce.cumprod, _cumprod_samples,
               reference=lambda x, dim: np.cumprod(x, axis=_axis(x, dim)).reshape(x.shape), k=4,
               errors=_bad(_dim2()), files=_files(_TABLE_TEST)),
        OpInfo("renorm", reduce.renorm, _renorm_samples, op=(reduce._VectorNorm,), reference=_renorm_ref, k=4,
               errors=_bad((lambda z: (z(3), 2, 0, 1.0), {}, RuntimeError),  # 1-D
                           (lambda z: (z(2, 3), 0, 0, 1.0), {}, RuntimeError),  # p <= 0
                           (lambda z: (z(2, 3), 2, 2, 1.0), {}, IndexError)),
               files=_files(_OPS_TEST, "tests/test_nn_layers.py")),
    ]
    for name, fn, root in (("var_mean", reduce.var_mean, False), ("std_mean", reduce.std_mean, True)):
        rows.append(OpInfo(name, fn, _stat_mean_samples, reference=_stat_mean_ref(root), k=8,
                           errors=_bad(_dim2()), files=_files(_TABLE_TEST)))
    for name, fn, p, ref, files in (("norm", reduce.norm, "p", _norm_ref, (_OPS_TEST, "tests/test_nn_functional.py")),
                                    ("vector_norm", reduce.vector_norm, "ord", _vector_norm_ref, (_SURFACE_TEST,))):
        rows.append(OpInfo(name, fn, _norm_samples(p), op=(reduce._VectorNorm,), reference=ref, k=8,
                           errors=_bad(_INT, _dim2()), files=_files(*files)))
    return rows


def _shapes(*shape_pairs, exc=RuntimeError):
    """Bad-input cases: zeros of the given shapes, each raising ``exc``."""
    return tuple((lambda z, s=s: tuple(z(*d) for d in s), {}, exc) for s in shape_pairs)


def _product_rows() -> list[OpInfo]:
    return [
        OpInfo("mm", linalg.mm, _mm_samples, op=(linalg.Matmul,), kernels=_GEMM, reference=np.matmul, k=5,
               errors=_bad(*_shapes(((3, 5), (4, 4)), ((5,), (5, 4)))), files=_files(_SURFACE_TEST)),
        OpInfo("bmm", linalg.bmm, _bmm_samples, op=(linalg.Matmul,), kernels=_GEMM, reference=np.matmul, k=5,
               errors=_bad(*_shapes(((2, 3, 5), (3, 5, 4)), ((3, 5), (5, 4)))), files=_files(_OPS_TEST)),
        OpInfo("mv", linalg.mv, _mv_samples, op=(linalg.Matmul,), kernels=_GEMM, reference=np.matmul, k=5,
               errors=_bad(*_shapes(((3, 5), (4,)), ((3, 5), (5, 1)))), files=_files(_TABLE_TEST)),
        OpInfo("dot", linalg.dot, _dot_samples, op=(linalg.Matmul,), kernels=_GEMM, reference=np.dot, k=5,
               errors=_bad(*_shapes(((5,), (4,)), ((5, 1), (5,)))), files=_files(_TABLE_TEST),
               aliases=("vdot",)),
        OpInfo("inner", linalg.inner, _inner_samples, op=(linalg.Einsum,), reference=np.inner, k=5,
               errors=_bad(*_shapes(((3, 5), (4,)))), files=_files(_TABLE_TEST)),
        OpInfo("outer", linalg.outer, _outer_samples, reference=np.outer,
               errors=_bad(*_shapes(((3, 1), (4,)))), files=_files(_OPS_TEST), aliases=("ger",)),
        OpInfo("addmm", linalg.addmm, _addmm_samples, op=(linalg.Matmul,), kernels=_GEMM,
               reference=_add_product_ref(np.matmul), k=5,
               errors=_bad(*_shapes(((3, 4), (3, 2), (3, 4)), ((3, 4), (2, 3, 2), (2, 4)), ((5, 4), (3, 2), (2, 4)))),
               files=_files(_TABLE_TEST)),
        OpInfo("addmv", linalg.addmv, _addmv_samples, op=(linalg.Matmul,), kernels=_GEMM,
               reference=_add_product_ref(np.matmul), k=5,
               errors=_bad(*_shapes(((3,), (3, 2), (3,)), ((3,), (3, 2), (2, 1)))), files=_files(_TABLE_TEST)),
        OpInfo("baddbmm", linalg.baddbmm, _baddbmm_samples, op=(linalg.Matmul,), kernels=_GEMM,
               reference=_add_product_ref(np.matmul), k=5,
               errors=_bad(*_shapes(((3, 4), (3, 2), (2, 4)), ((2, 3, 4), (2, 3, 2), (3, 2, 4)))),
               files=_files(_TABLE_TEST)),
        OpInfo("cdist", linalg.cdist, _cdist_samples, op=(reduce._VectorNorm,), reference=_cdist_ref, k=4,
               errors=_bad(*_shapes(((3,), (4,)), ((3, 2), (4, 3))),
                           (lambda z: (z(3, 2), z(4, 2), -1.0), {}, RuntimeError)),
               files=_files(_SURFACE_TEST)),
        OpInfo("cross", linalg.cross, _cross_samples, reference=_cross_ref,
               errors=_bad(*_shapes(((4, 2), (4, 2))), (lambda z: (z(4, 3), z(4, 3)), {"dim": 0}, RuntimeError)),
               files=_files(_TABLE_TEST)),
        OpInfo("einsum", linalg.einsum, _einsum_samples, op=(linalg.Einsum,), reference=np.einsum, k=4,
               errors=_bad((lambda z: ("ij,jk->ik", z(3, 2), z(3, 4)), {}, RuntimeError),
                           (lambda z: ("ij->ik", z(3, 2)), {}, RuntimeError)),
               files=_files(_OPS_TEST, "tests/test_attention.py")),
        OpInfo("tensordot", linalg.tensordot, _tensordot_samples, op=(linalg.Einsum,), reference=np.tensordot,
               k=8, errors=_bad((lambda z: (z(3, 4), z(5, 3), 1), {}, RuntimeError)), files=_files(_TABLE_TEST)),
        OpInfo("matrix_power", linalg.matrix_power, _matrix_power_samples, op=(linalg.Matmul,), kernels=_GEMM,
               reference=np.linalg.matrix_power, k=9,
               errors=_bad((lambda z: (z(3), 2), {}, RuntimeError), (lambda z: (z(2, 3), 2), {}, RuntimeError)),
               files=_files(_SURFACE_TEST)),
        OpInfo("trace", shape.trace, _trace_samples, reference=np.trace, k=4,
               errors=_bad(*_shapes(((3,),), ((2, 2, 2),))), files=_files(_TABLE_TEST)),
    ]


def rows() -> list[OpInfo]:
    return _pointwise_rows() + _reduction_rows() + _product_rows()
