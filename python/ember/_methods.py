"""The op-backed Tensor methods: operators (``x + y``, ``x[i]``), in-place variants
(``exp_``, ``masked_fill_``), moves (``to``, ``cuda``, ``float``), ``T``, ``backward``, and every
function of ``ember.ops`` that takes a tensor first (``x.exp()``, ``x.sum(1)``).

``ember.tensor`` holds only the data, the autograd fields and metadata, and imports no op; this
module, imported by ``ember/__init__`` once the ops are loaded, is the one place that attaches the
ops to the class (class attributes, so that a method call costs no failed lookup).
"""
from __future__ import annotations

import builtins
import types

import numpy as np

from . import _dtype, autograd, ops
from ._device import CPU
from .tensor import Tensor, _as_device


class _Methods:
    """Holds the methods while they are defined; ``_install`` copies them onto Tensor."""

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(ops.unbind(self, 0))  # one op: its backward makes one gradient array

    # ---- device / dtype moves ---------------------------------------------------------------
    def to(self, *args, **kwargs) -> Tensor:
        """``to(device)``, ``to(dtype)``, ``to(device, dtype)``, ``to(other)``; differentiable."""
        # non_blocking is a no-op: Ember's device copies are synchronous, which is always correct
        unknown = set(kwargs) - {"device", "dtype", "non_blocking", "copy"}
        if unknown:
            raise TypeError(f"to() got an unexpected keyword argument '{sorted(unknown)[0]}'")
        args = [a for a in args if not isinstance(a, builtins.bool)]  # to(dev, dtype, non_blocking)
        dev, dt = None, None
        for a in list(args) + [kwargs.get("device"), kwargs.get("dtype")]:
            if a is None:
                continue
            if isinstance(a, Tensor):
                dev, dt = a.device, a.dtype
            elif isinstance(a, (_dtype.dtype, type)) or (isinstance(a, str) and a in _dtype._BY_NAME):
                dt = _dtype.to_dtype(a)
            else:
                dev = _as_device(a)
        out = self
        if dt is not None and dt.np != self._data.dtype:
            out = ops.cast(out, dt)
        if dev is not None and dev != out.device:
            out = ops.to_device(out, dev)
        return ops.clone(out) if out is self and kwargs.get("copy") else out

    def cpu(self) -> Tensor:
        return self.to(CPU)

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        # non_blocking is a no-op: Ember's host-to-device copies are synchronous (always correct)
        return self.to(_as_device("cuda" if device is None else
                                  (f"cuda:{device}" if isinstance(device, int) else device)))

    def type(self, dtype=None):
        if dtype is None:
            return "ember." + ("cuda." if self.is_cuda else "") + {
                "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
                "uint8": "ByteTensor", "bool": "BoolTensor"}[self.dtype.name]
        return self.to(_dtype.to_dtype(dtype))

    def float(self) -> Tensor:
        return self.to(_dtype.float32)

    def double(self) -> Tensor:
        return self.to(_dtype.float64)

    def half(self) -> Tensor:
        return self.to(_dtype.float16)

    def long(self) -> Tensor:
        return self.to(_dtype.int64)

    def int(self) -> Tensor:
        return self.to(_dtype.int32)

    def bool(self) -> Tensor:
        return self.to(_dtype.bool)

    def byte(self) -> Tensor:
        return self.to(_dtype.uint8)

    def type_as(self, other: Tensor) -> Tensor:
        return self.to(other.dtype)

    def pin_memory(self) -> Tensor:
        return self

    def clone(self) -> Tensor:
        return ops.clone(self)

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        autograd.backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    # ---- operators (implemented in ember.ops) -------------------------------------------------
    def __add__(self, o): return ops.add(self, o)
    def __radd__(self, o): return ops.add(o, self)
    def __sub__(self, o): return ops.sub(self, o)
    def __rsub__(self, o): return ops.sub(o, self)
    def __mul__(self, o): return ops.mul(self, o)
    def __rmul__(self, o): return ops.mul(o, self)
    def __truediv__(self, o): return ops.div(self, o)
    def __rtruediv__(self, o): return ops.div(o, self)
    def __floordiv__(self, o): return ops.floor_divide(self, o)
    def __rfloordiv__(self, o): return ops.floor_divide(o, self)
    def __mod__(self, o): return ops.remainder(self, o)
    def __pow__(self, o): return ops.pow(self, o)
    def __rpow__(self, o): return ops.pow(o, self)
    def __matmul__(self, o): return ops.matmul(self, o)
    def __rmatmul__(self, o): return ops.matmul(o, self)
    def __neg__(self): return ops.neg(self)
    def __pos__(self): return self
    def __abs__(self): return ops.abs(self)
    def __invert__(self): return ops.logical_not(self) if self._data.dtype == np.bool_ else ops.bitwise_not(self)
    def __and__(self, o): return ops.logical_and(self, o) if self._data.dtype == np.bool_ else ops.bitwise_and(self, o)
    def __or__(self, o): return ops.logical_or(self, o) if self._data.dtype == np.bool_ else ops.bitwise_or(self, o)
    def __xor__(self, o): return ops.logical_xor(self, o)
    __rand__, __ror__, __rxor__ = __and__, __or__, __xor__
    def __eq__(self, o): return ops.eq(self, o)
    def __ne__(self, o): return ops.ne(self, o)
    def __lt__(self, o): return ops.lt(self, o)
    def __le__(self, o): return ops.le(self, o)
    def __gt__(self, o): return ops.gt(self, o)
    def __ge__(self, o): return ops.ge(self, o)
    def __getitem__(self, idx): return ops.getitem(self, idx)
    def __setitem__(self, idx, value): ops.setitem(self, idx, value)

    def __iadd__(self, o): return ops.inplace(self, ops.add, o)
    def __isub__(self, o): return ops.inplace(self, ops.sub, o)
    def __imul__(self, o): return ops.inplace(self, ops.mul, o)
    def __itruediv__(self, o): return ops.inplace(self, ops.div, o)

    def add_(self, o, alpha=1): return ops.inplace(self, ops.add, o, alpha=alpha)
    def sub_(self, o, alpha=1): return ops.inplace(self, ops.sub, o, alpha=alpha)
    def mul_(self, o): return ops.inplace(self, ops.mul, o)
    def div_(self, o): return ops.inplace(self, ops.div, o)
    def pow_(self, o): return ops.inplace(self, ops.pow, o)
    def clamp_(self, min=None, max=None): return ops.inplace(self, ops.clamp, min, max)
    def renorm_(self, p, dim, maxnorm): return ops.inplace(self, ops.renorm, p, dim, maxnorm)
    clip_ = clamp_
    def relu_(self): return ops.inplace(self, ops.relu)
    def sigmoid_(self): return ops.inplace(self, ops.sigmoid)
    def tanh_(self): return ops.inplace(self, ops.tanh)
    def exp_(self): return ops.inplace(self, ops.exp)
    def neg_(self): return ops.inplace(self, ops.neg)
    def abs_(self): return ops.inplace(self, ops.abs)
    def sqrt_(self): return ops.inplace(self, ops.sqrt)
    def masked_fill_(self, mask, value): return ops.inplace(self, ops.masked_fill, mask, value)
    def addcmul_(self, t1, t2, value=1): return ops.inplace(self, ops.addcmul, t1, t2, value=value)
    def addcdiv_(self, t1, t2, value=1): return ops.inplace(self, ops.addcdiv, t1, t2, value=value)
    def lerp_(self, end, weight): return ops.inplace(self, ops.lerp, end, weight)
    def copy_(self, src, non_blocking=False): return ops.copy_(self, src)
    def zero_(self): return ops.fill_(self, 0)
    def fill_(self, value): return ops.fill_(self, value)
    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        return ops.inplace(self, ops.scatter, dim, index, src if src is not None else value, reduce=reduce)
    def scatter_add_(self, dim, index, src): return ops.inplace(self, ops.scatter_add, dim, index, src)
    def index_add_(self, dim, index, source, alpha=1):
        return ops.inplace(self, ops.index_add, dim, index, source, alpha=alpha)
    def index_fill_(self, dim, index, value): return ops.inplace(self, ops.index_fill, dim, index, value)

    def uniform_(self, a=0.0, b=1.0, generator=None): return ops.random_fill_(self, "uniform", generator, low=a, high=b)
    def normal_(self, mean=0.0, std=1.0, generator=None):
        return ops.random_fill_(self, "normal", generator, mean=mean, std=std)
    def bernoulli_(self, p=0.5, generator=None): return ops.bernoulli_(self, p, generator)
    def random_(self, low=0, high=None, generator=None):  # random_(high) draws from [0, high)
        if high is None:
            low, high = 0, low
        return ops.random_fill_(self, "integers", generator, low=low, high=high)
    def exponential_(self, lambd=1.0, generator=None): return ops.exponential_(self, lambd, generator)
    def geometric_(self, p, generator=None): return ops.geometric_(self, p, generator)
    def log_normal_(self, mean=1.0, std=2.0, generator=None): return ops.log_normal_(self, mean, std, generator)
    def cauchy_(self, median=0.0, sigma=1.0, generator=None): return ops.cauchy_(self, median, sigma, generator)

    @property
    def T(self) -> Tensor:
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        return ops.transpose(self, -2, -1)

    @property
    def H(self) -> Tensor:
        return self.T


# The binary operators whose op rejecting the other operand (TypeError: a list, None, an array)
# means NotImplemented, as in PyTorch: Python then tries that operand's method (a NumPy array's)
# or its fallback (== and != compare identity).
_BINARY_OPERATORS = """__add__ __radd__ __sub__ __rsub__ __mul__ __rmul__ __truediv__ __rtruediv__ __floordiv__
__rfloordiv__ __mod__ __pow__ __rpow__ __matmul__ __rmatmul__ __and__ __or__ __xor__ __rand__ __ror__
__rxor__ __eq__ __ne__ __lt__ __le__ __gt__ __ge__""".split()


def _not_implemented_on_type_error(fn):
    def operator(self, o):
        try:
            return fn(self, o)
        except TypeError:
            return NotImplemented
    operator.__name__ = operator.__qualname__ = fn.__name__
    return operator


def _install() -> None:
    for name, attr in vars(_Methods).items():
        if isinstance(attr, (types.FunctionType, property)):
            setattr(Tensor, name, _not_implemented_on_type_error(attr) if name in _BINARY_OPERATORS else attr)
    # Every function in ember.ops that takes a tensor first is also a method (x.exp(), x.sum(1)).
    for name, fn in ops.METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)


_install()
