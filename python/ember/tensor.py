"""``ember.Tensor``: an n-dimensional array (NumPy on the CPU, CuPy on CUDA) plus autograd state.

Every differentiable method is a thin call into ``ember.ops``, where each op declares its forward
and backward in one place. The array is reachable as ``tensor._data`` for kernels and ops.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from . import _dtype, backend
from ._device import CPU, device


class Tensor:
    __slots__ = ("_data", "requires_grad", "grad", "grad_fn", "_output_nr", "_hooks",
                 "_accumulator", "_retains_grad", "_version", "__weakref__", "__dict__")

    # ``ember.Tensor(2, 3)`` (uninitialised float tensor) and ``ember.Tensor([1, 2])`` (data), as torch.
    def __init__(self, *args, device=None) -> None:
        if len(args) == 1 and not isinstance(args[0], numbers.Integral):
            data = args[0]
            arr = data._data if isinstance(data, Tensor) else np.asarray(
                data, dtype=_dtype.get_default_dtype().np)
        else:
            shape = args[0] if len(args) == 1 and isinstance(args[0], (tuple, list)) else args
            arr = np.empty(tuple(int(s) for s in shape), dtype=_dtype.get_default_dtype().np)
        if device is not None:
            arr = backend.to_device_array(arr, _as_device(device))
        self._init(arr)

    def _init(self, arr, requires_grad: bool = False) -> None:
        self._data = arr
        self.requires_grad = requires_grad
        self.grad = None
        self.grad_fn = None
        self._output_nr = 0
        self._hooks = None
        self._accumulator = None
        self._retains_grad = False
        self._version = 0  # bumped by in-place writes; backward checks the values it saved

    @classmethod
    def _make(cls, arr, requires_grad: bool = False) -> "Tensor":
        t = object.__new__(Tensor)
        t._init(arr, requires_grad)
        return t

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> "Size":
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self.ndim)]

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> _dtype.dtype:
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        if backend.is_cuda_array(self._data):
            return device("cuda", self._data.device.id)
        return CPU

    @property
    def is_cuda(self) -> bool:
        return backend.is_cuda_array(self._data)

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def data(self) -> "Tensor":
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data if isinstance(value, Tensor) else value

    def element_size(self) -> int:
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self.ndim)]

    def storage_offset(self) -> int:
        return 0

    def data_ptr(self) -> int:
        return int(self._data.data.ptr) if self.is_cuda else int(self._data.ctypes.data)

    # ---- conversion -------------------------------------------------------------------------
    def item(self):
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return backend.to_host(self._data).reshape(()).item()

    def tolist(self):
        return backend.to_host(self._data).tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if self.is_cuda:
            if not force:
                raise TypeError("can't convert cuda:0 device type tensor to numpy. "
                                "Use Tensor.cpu() to copy the tensor to host memory first.")
            return self._data.get()
        return self._data

    def __array__(self, dtype=None, copy=None):
        arr = backend.to_host(self._data)
        return arr.astype(dtype) if dtype is not None else arr

    def __dlpack__(self, *args, **kwargs):
        return self._data.__dlpack__(*args, **kwargs)

    def __dlpack_device__(self):
        return self._data.__dlpack_device__()

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self):
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(ops.unbind(self, 0))  # one op: its backward makes one gradient array

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError("Boolean value of Tensor with more than one value is ambiguous")
        return builtins.bool(self.item())

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        if self.ndim == 0 or (spec and self._data.size == 1):
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        from ._format import tensor_repr

        return tensor_repr(self)

    __str__ = __repr__

    def __hash__(self) -> int:
        return id(self)

    def __reduce_ex__(self, protocol):
        return (_rebuild, (backend.to_host(self._data), str(self.device), self.requires_grad))

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support "
                               "the deepcopy protocol at the moment")
        out = type(self).__new__(type(self))
        out._init(self._data.copy(), self.requires_grad)
        out.__dict__.update({k: v for k, v in getattr(self, "__dict__", {}).items()})
        memo[id(self)] = out
        return out

    # ---- device / dtype moves ---------------------------------------------------------------
    def to(self, *args, **kwargs) -> "Tensor":
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

    def cpu(self) -> "Tensor":
        return self.to(CPU)

    def cuda(self, device=None, non_blocking: bool = False) -> "Tensor":
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

    def float(self) -> "Tensor":
        return self.to(_dtype.float32)

    def double(self) -> "Tensor":
        return self.to(_dtype.float64)

    def half(self) -> "Tensor":
        return self.to(_dtype.float16)

    def long(self) -> "Tensor":
        return self.to(_dtype.int64)

    def int(self) -> "Tensor":
        return self.to(_dtype.int32)

    def bool(self) -> "Tensor":
        return self.to(_dtype.bool)

    def byte(self) -> "Tensor":
        return self.to(_dtype.uint8)

    def type_as(self, other: "Tensor") -> "Tensor":
        return self.to(other.dtype)

    def pin_memory(self) -> "Tensor":
        return self

    # ---- autograd ---------------------------------------------------------------------------
    def detach(self) -> "Tensor":
        return Tensor._make(self._data)

    def detach_(self) -> "Tensor":
        self.grad_fn = None
        self.requires_grad = False
        return self

    def clone(self) -> "Tensor":
        return ops.clone(self)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want "
                               "to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.is_leaf or self._retains_grad:
            return
        self._retains_grad = True
        import weakref

        ref = weakref.ref(self)

        def _retain(g):
            t = ref()
            if t is not None:
                t.grad = g.detach().clone() if t.grad is None else t.grad + g.detach()

        _retain.retains_grad = True
        self.grad_fn.pre_hooks.setdefault(self._output_nr, []).append(_retain)

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.is_leaf:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = self.grad_fn.pre_hooks.setdefault(self._output_nr, [])
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def backward(self, gradient=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
        from .autograd import backward

        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

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
    def index_add_(self, dim, index, source, alpha=1): return ops.inplace(self, ops.index_add, dim, index, source, alpha=alpha)
    def index_fill_(self, dim, index, value): return ops.inplace(self, ops.index_fill, dim, index, value)

    def uniform_(self, a=0.0, b=1.0, generator=None): return ops.random_fill_(self, "uniform", generator, low=a, high=b)
    def normal_(self, mean=0.0, std=1.0, generator=None): return ops.random_fill_(self, "normal", generator, mean=mean, std=std)
    def bernoulli_(self, p=0.5, generator=None): return ops.bernoulli_(self, p, generator)
    def random_(self, low=0, high=None, generator=None): return ops.random_fill_(self, "integers", generator, low=low if high is not None else 0, high=high if high is not None else low)
    def exponential_(self, lambd=1.0, generator=None): return ops.exponential_(self, lambd, generator)
    def geometric_(self, p, generator=None): return ops.geometric_(self, p, generator)
    def log_normal_(self, mean=1.0, std=2.0, generator=None): return ops.log_normal_(self, mean, std, generator)
    def cauchy_(self, median=0.0, sigma=1.0, generator=None): return ops.cauchy_(self, median, sigma, generator)

    @property
    def T(self) -> "Tensor":  # noqa: N802
        return ops.permute(self, tuple(reversed(range(self.ndim))))

    @property
    def mT(self) -> "Tensor":  # noqa: N802
        return ops.transpose(self, -2, -1)

    @property
    def H(self) -> "Tensor":  # noqa: N802
        return self.T

    @property
    def real(self) -> "Tensor":
        return self


class Size(tuple):
    """``tensor.shape``: a tuple that prints as ``ember.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, i):
        r = tuple.__getitem__(self, i)
        return Size(r) if isinstance(i, slice) else r


class _RemovableHandle:
    def __init__(self, container, item) -> None:
        self._container, self._item = container, item

    def remove(self) -> None:
        if self._item in self._container:
            self._container.remove(self._item)


def _rebuild(arr, dev, requires_grad):
    t = Tensor._make(backend.to_device_array(arr, device(dev)))
    t.requires_grad = requires_grad
    return t


def _as_device(d) -> device:
    if isinstance(d, int):
        return device("cuda", d)
    return device(d)


def _wrap_dim(dim: int, ndim: int) -> int:
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


from . import ops  # noqa: E402  (ops import Tensor from this module)

# Every function in ember.ops that takes a tensor first is also a method (x.exp(), x.sum(1)):
# class attributes, so that a method call costs no failed lookup and __getattr__ call.
for _name, _fn in ops.METHODS.items():
    if not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)
del _name, _fn
