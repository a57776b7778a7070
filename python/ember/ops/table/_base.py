"""The op table's building blocks: the row type (OpInfo), one call (Sample), seeded sample
generators over odd, size-1, empty, non-contiguous and broadcast shapes, bad-input generators and
the float64 conversion the references take."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from ... import _dtype
from ...tensor import Tensor
from ..creation import tensor as _tensor


FLOATS = (_dtype.float32, _dtype.float64)


@dataclass(frozen=True)
class Sample:
    """One call: fn(*args, **kwargs). `desc` names the case in failure messages."""
    args: tuple
    kwargs: dict = field(default_factory=dict)
    desc: str = ""


@dataclass(frozen=True)
class OpInfo:
    name: str  # the public PyTorch name
    fn: Callable  # the public callable
    sample_inputs: Callable[[str, object], Iterator[Sample]]  # (device, dtype) -> samples
    op: tuple = ()  # the Op class(es) implementing it
    kernels: tuple[str, ...] = ()  # kernel bindings (CPU ``ember._C`` and CUDA ``ember._C_cuda``)
    reference: Callable | None = None  # float64 NumPy reference taking the samples' arguments
    dtypes: tuple = FLOATS
    k: int = 1  # the reduction length the tolerance scales with (sqrt(k))
    supports_grad: bool = True
    supports_gradgrad: bool = True
    errors: Callable[[str], Iterator[tuple[tuple, dict, type]]] | None = None  # bad inputs
    bench_shapes: tuple = ()
    files: tuple[str, ...] = ()  # the test and benchmark modules serving it
    aliases: tuple[str, ...] = ()  # other public names of the same callable

    @property
    def composite(self):
        """The first Op class's composite (Tensor-op) version, once written; else None."""
        return getattr(self.op[0], "composite", None) if self.op else None

    def tolerance(self, dtype) -> tuple[float, float]:
        """(atol, rtol): 32 * sqrt(k) * eps of the dtype."""
        eps = float(np.finfo(np.float32 if dtype == _dtype.float32 else np.float64).eps)
        t = 32 * math.sqrt(self.k) * eps
        return t, t


# ---- sample generation -------------------------------------------------------------------------
def _rng(name: str) -> np.random.Generator:
    return np.random.default_rng(sum(map(ord, name)))


def _t(a, device, dtype) -> Tensor:
    return _tensor(np.asarray(a), dtype=dtype, device=device)


def _transposed(a, device, dtype) -> Tensor:
    """A non-contiguous Tensor holding `a`: the transpose of a contiguous one (2-D or more)."""
    a = np.asarray(a)
    return _t(np.ascontiguousarray(np.swapaxes(a, -1, -2)), device, dtype).transpose(-1, -2)


_DOMAINS = {
    "normal": lambda r, s: r.standard_normal(s),
    "positive": lambda r, s: r.uniform(0.2, 3.0, s),
    "unit": lambda r, s: r.uniform(-0.9, 0.9, s),
    "nonzero": lambda r, s: r.choice([-1, 1], s) * r.uniform(0.2, 2.0, s),
    "above1": lambda r, s: r.uniform(1.2, 3.0, s),
}
UNARY_SHAPES = [(), (1,), (7,), (3, 1, 5), (0, 4)]


def unary_samples(domain="normal", shapes=UNARY_SHAPES, **kwargs):
    def gen(device, dtype, name=""):
        r, draw = _rng(name + domain), _DOMAINS[domain]
        for s in shapes:
            yield Sample((_t(draw(r, s), device, dtype),), dict(kwargs), f"shape {s}")
        yield Sample((_transposed(draw(r, (4, 3)), device, dtype),), dict(kwargs), "transposed")
    return gen


BROADCAST = [((3, 4), (3, 4)), ((3, 1), (1, 4)), ((2, 3, 4), (4,)), ((1,), (5, 1)), ((0, 3), (1, 3))]


def binary_samples(domain_a="normal", domain_b="normal"):
    def gen(device, dtype, name=""):
        r = _rng(name + domain_a + domain_b)
        da, db = _DOMAINS[domain_a], _DOMAINS[domain_b]
        for sa, sb in BROADCAST:
            yield Sample((_t(da(r, sa), device, dtype), _t(db(r, sb), device, dtype)), {},
                         f"{sa} with {sb}")
        yield Sample((_transposed(da(r, (4, 3)), device, dtype), _t(db(r, (3,)), device, dtype)),
                     {}, "transposed with (3,)")
    return gen


REDUCE_CASES = [((5,), {}), ((5,), {"dim": 0}), ((3, 4), {"dim": 1}),
                ((3, 4), {"dim": -2, "keepdim": True}), ((2, 3, 4), {"dim": (0, 2)}),
                ((1, 6, 1), {"dim": 1, "keepdim": True}), ((0, 3), {"dim": 1})]


def reduce_samples(domain="normal", cases=REDUCE_CASES, extra=None):
    def gen(device, dtype, name=""):
        r, draw = _rng(name), _DOMAINS[domain]
        for s, kw in cases:
            yield Sample((_t(draw(r, s), device, dtype),), dict(kw, **(extra or {})), f"{s} {kw}")
        yield Sample((_transposed(draw(r, (4, 3)), device, dtype),), dict({"dim": 0}, **(extra or {})),
                     "transposed dim 0")
    return gen


def _dim_errors(fn, **kw):
    """A dim out of range raises IndexError, as in PyTorch."""
    def gen(device):
        yield (_t(np.zeros((2, 3)), device, _dtype.float64),), dict(kw, dim=2), IndexError
        yield (_t(np.zeros((2, 3)), device, _dtype.float64),), dict(kw, dim=-3), IndexError
    return gen


def _unary_errors(device):
    """A list is not a Tensor: TypeError."""
    yield ([1.0, 2.0],), {}, TypeError


def _int_errors(device):
    """An integer tensor where the op needs floating point: RuntimeError."""
    yield (_t(np.zeros((2, 3)), device, _dtype.int64),), {}, RuntimeError


def _binary_errors(device):
    """Shapes that do not broadcast: RuntimeError."""
    yield (_t(np.zeros((2, 3)), device, _dtype.float64), _t(np.zeros((4,)), device, _dtype.float64)), \
        {}, RuntimeError



# ---- float64 conversion -----------------------------------------------------------------------
def to_numpy(a):
    """A Tensor's values as NumPy (floating point as float64); anything else unchanged."""
    if isinstance(a, Tensor):
        arr = np.asarray(a.detach().cpu().numpy())
        return arr.astype(np.float64) if arr.dtype.kind == "f" else arr
    if isinstance(a, (tuple, list)):
        return type(a)(to_numpy(x) for x in a)
    return a


def _files(*names):
    return tuple(names)


_OPS_TEST = "tests/test_ops.py"


def _listed(*samples):
    """A sample_inputs from a function building the samples with a helper `mk(shape)`."""
    def wrap(build):
        def gen(device, dtype, name=""):
            r = _rng(build.__name__)

            def mk(*s, domain="normal", transposed=False):
                a = _DOMAINS[domain](r, s)
                return _transposed(a, device, dtype) if transposed else _t(a, device, dtype)

            def ints(high, *s):
                return _t(r.integers(0, high, s), device, _dtype.int64)
            yield from build(mk, ints)
        return gen
    return wrap


def _shape_errors(make_args, exc=RuntimeError, **kwargs):
    def gen(device):
        yield make_args(lambda *s: _t(np.zeros(s), device, _dtype.float64)), kwargs, exc
    return gen


_NN_FUNCTIONAL = "tests/test_nn_functional.py"
