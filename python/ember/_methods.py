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
        """A copy on the CPU (``self`` if already there), as ``torch.Tensor.cpu``; differentiable."""
        return self.to(CPU)

    def cuda(self, device=None, non_blocking: bool = False) -> Tensor:
        # non_blocking is a no-op: Ember's host-to-device copies are synchronous (always correct)
        """A copy on CUDA device ``device`` (default: the current one; ``self`` if already there), as
        ``torch.Tensor.cuda``."""
        return self.to(_as_device("cuda" if device is None else
                                  (f"cuda:{device}" if isinstance(device, int) else device)))

    def type(self, dtype=None):
        """With no argument, the legacy type name (``'ember.FloatTensor'``); with a dtype, ``self.to(dtype)``, as
        ``torch.Tensor.type``."""
        if dtype is None:
            return "ember." + ("cuda." if self.is_cuda else "") + {
                "float32": "FloatTensor", "float64": "DoubleTensor", "float16": "HalfTensor",
                "int64": "LongTensor", "int32": "IntTensor", "int16": "ShortTensor", "int8": "CharTensor",
                "uint8": "ByteTensor", "bool": "BoolTensor"}[self.dtype.name]
        return self.to(_dtype.to_dtype(dtype))

    def type_as(self, other: Tensor) -> Tensor:
        """``self.to(other.dtype)``, as ``torch.Tensor.type_as``."""
        return self.to(other.dtype)

    def pin_memory(self) -> Tensor:
        """``self``: Ember's host-to-device copies go through CuPy's own staging, so pinning has nothing to speed up."""
        return self

    def clone(self) -> Tensor:
        """A differentiable copy with its own memory, as ``torch.Tensor.clone``."""
        return ops.clone(self)

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        """Accumulate the gradient of this tensor into the ``.grad`` of the leaves it depends on (``gradient`` is
        required unless it has one element), as ``torch.Tensor.backward``."""
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

    def add_(self, o, alpha=1):
        """In-place ``add``: writes the result into ``self`` and returns it, as ``torch.Tensor.add_``."""
        return ops.inplace(self, ops.add, o, alpha=alpha)

    def sub_(self, o, alpha=1):
        """In-place ``sub``: writes the result into ``self`` and returns it, as ``torch.Tensor.sub_``."""
        return ops.inplace(self, ops.sub, o, alpha=alpha)

    def mul_(self, o):
        """In-place ``mul``: writes the result into ``self`` and returns it, as ``torch.Tensor.mul_``."""
        return ops.inplace(self, ops.mul, o)

    def div_(self, o):
        """In-place ``div``: writes the result into ``self`` and returns it, as ``torch.Tensor.div_``."""
        return ops.inplace(self, ops.div, o)

    def pow_(self, o):
        """In-place ``pow``: writes the result into ``self`` and returns it, as ``torch.Tensor.pow_``."""
        return ops.inplace(self, ops.pow, o)

    def clamp_(self, min=None, max=None):
        """In-place ``clamp``: writes the result into ``self`` and returns it, as ``torch.Tensor.clamp_``."""
        return ops.inplace(self, ops.clamp, min, max)

    def renorm_(self, p, dim, maxnorm):
        """In-place ``renorm``: writes the result into ``self`` and returns it, as ``torch.Tensor.renorm_``."""
        return ops.inplace(self, ops.renorm, p, dim, maxnorm)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        """In-place ``masked_fill``: writes the result into ``self`` and returns it, as
        ``torch.Tensor.masked_fill_``."""
        return ops.inplace(self, ops.masked_fill, mask, value)

    def addcmul_(self, t1, t2, value=1):
        """In-place ``addcmul``: writes the result into ``self`` and returns it, as ``torch.Tensor.addcmul_``."""
        return ops.inplace(self, ops.addcmul, t1, t2, value=value)

    def addcdiv_(self, t1, t2, value=1):
        """In-place ``addcdiv``: writes the result into ``self`` and returns it, as ``torch.Tensor.addcdiv_``."""
        return ops.inplace(self, ops.addcdiv, t1, t2, value=value)

    def lerp_(self, end, weight):
        """In-place ``lerp``: writes the result into ``self`` and returns it, as ``torch.Tensor.lerp_``."""
        return ops.inplace(self, ops.lerp, end, weight)

    def copy_(self, src, non_blocking=False):
        """Copies ``src`` (broadcast, cast to ``self``'s dtype and device) into ``self`` and returns it, as
        ``torch.Tensor.copy_``."""
        return ops.copy_(self, src)

    def zero_(self):
        """Fills ``self`` with zeros and returns it, as ``torch.Tensor.zero_``."""
        return ops.fill_(self, 0)

    def fill_(self, value):
        """Fills ``self`` with the scalar ``value`` and returns it, as ``torch.Tensor.fill_``."""
        return ops.fill_(self, value)

    def scatter_(self, dim, index, src=None, value=None, reduce=None):
        """In-place ``scatter`` of ``src`` (or the scalar ``value``) along ``dim`` at ``index``, as
        ``torch.Tensor.scatter_``."""
        return ops.inplace(self, ops.scatter, dim, index, src if src is not None else value, reduce=reduce)

    def scatter_add_(self, dim, index, src):
        """In-place ``scatter_add``: writes the result into ``self`` and returns it, as
        ``torch.Tensor.scatter_add_``."""
        return ops.inplace(self, ops.scatter_add, dim, index, src)

    def index_add_(self, dim, index, source, alpha=1):
        """In-place ``index_add``: adds ``alpha * source`` into ``self`` at ``index`` along ``dim``, as
        ``torch.Tensor.index_add_``."""
        return ops.inplace(self, ops.index_add, dim, index, source, alpha=alpha)

    def index_fill_(self, dim, index, value):
        """In-place ``index_fill``: writes the result into ``self`` and returns it, as ``torch.Tensor.index_fill_``."""
        return ops.inplace(self, ops.index_fill, dim, index, value)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        """Fills ``self`` with samples uniform in ``[a, b)``, as ``torch.Tensor.uniform_``."""
        return ops.random_fill_(self, "uniform", generator, low=a, high=b)

    def normal_(self, mean=0.0, std=1.0, generator=None):
        """Fills ``self`` with normal(``mean``, ``std``) samples, as ``torch.Tensor.normal_``."""
        return ops.random_fill_(self, "normal", generator, mean=mean, std=std)

    def bernoulli_(self, p=0.5, generator=None):
        """Fills ``self`` with 0/1 samples, 1 with probability ``p`` (a float or a tensor), as
        ``torch.Tensor.bernoulli_``."""
        return ops.bernoulli_(self, p, generator)

    def random_(self, low=0, high=None, generator=None):
        """Fills ``self`` with integers uniform in ``[low, high)`` (``random_(high)``: ``[0, high)``), as
        ``torch.Tensor.random_``."""
        if high is None:
            low, high = 0, low
        return ops.random_fill_(self, "integers", generator, low=low, high=high)

    def exponential_(self, lambd=1.0, generator=None):
        """Fills ``self`` with exponential samples of rate ``lambd``, as ``torch.Tensor.exponential_``."""
        return ops.exponential_(self, lambd, generator)

    def geometric_(self, p, generator=None):
        """Fills ``self`` with geometric samples (trials up to the first success, probability ``p``), as
        ``torch.Tensor.geometric_``."""
        return ops.geometric_(self, p, generator)

    def log_normal_(self, mean=1.0, std=2.0, generator=None):
        """Fills ``self`` with ``exp`` of normal(``mean``, ``std``) samples, as ``torch.Tensor.log_normal_``."""
        return ops.log_normal_(self, mean, std, generator)

    def cauchy_(self, median=0.0, sigma=1.0, generator=None):
        """Fills ``self`` with Cauchy(``median``, ``sigma``) samples, as ``torch.Tensor.cauchy_``."""
        return ops.cauchy_(self, median, sigma, generator)

    @property
    def T(self) -> Tensor:
        """The dimensions reversed (a transposed view for matrices), as ``torch.Tensor.T``."""
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> Tensor:
        """The last two dimensions swapped (a batch of transposed matrices), as ``torch.Tensor.mT``."""
        return ops.transpose(self, -2, -1)

    @property
    def H(self) -> Tensor:
        """The conjugate transpose; with no complex dtypes in Ember it is ``T``, as ``torch.Tensor.H``."""
        return self.T


# The dtype shorthands: ``x.float()`` is ``x.to(ember.float32)`` and so on.
_CASTS = {"float": _dtype.float32, "double": _dtype.float64, "half": _dtype.float16,
          "long": _dtype.int64, "int": _dtype.int32, "bool": _dtype.bool, "byte": _dtype.uint8}


def _cast_method(name: str, dtype: _dtype.dtype):
    def cast(self) -> Tensor:
        return self.to(dtype)

    cast.__name__ = cast.__qualname__ = name
    cast.__doc__ = f"``self.to(ember.{dtype.name})``, as ``torch.Tensor.{name}``."
    return cast


def _inplace_unary(name: str):
    """``Tensor.<name>_``: ``ops.<name>`` written into ``self``."""
    op = getattr(ops, name)

    def method(self) -> Tensor:
        return ops.inplace(self, op)

    method.__name__ = method.__qualname__ = f"{name}_"
    method.__doc__ = (f"In-place ``{name}``: writes the result into ``self`` and returns it, as "
                      f"``torch.Tensor.{name}_``.")
    return method


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
    for name, dtype in _CASTS.items():
        setattr(Tensor, name, _cast_method(name, dtype))
    for name in ("abs", "exp", "neg", "relu", "sigmoid", "sqrt", "tanh"):  # the unary in-place ops (x.exp_())
        setattr(Tensor, f"{name}_", _inplace_unary(name))
    # Every function in ember.ops that takes a tensor first is also a method (x.exp(), x.sum(1)).
    for name, fn in ops.METHODS.items():
        if not hasattr(Tensor, name):
            setattr(Tensor, name, fn)


_install()
