"""``ember.Tensor``: an n-dimensional array (NumPy on the CPU, CuPy on CUDA) plus autograd state.

This module is the core layer: the data, the autograd fields and metadata, and nothing that runs
an op. The differentiable methods (operators, ``to``, ``exp_``, ``x.sum(1)``, ...) are thin calls
into ``ember.ops``, attached to the class by ``ember._methods``. The array is reachable as
``tensor._data`` for kernels and ops.
"""
from __future__ import annotations

import builtins
import numbers

import numpy as np

from . import _dtype, backend
from ._device import CPU, device
from ._format import tensor_repr


class Tensor:
    """An n-dimensional array with autograd state, as ``torch.Tensor``: ``ember.Tensor(2, 3)`` is an uninitialised
    float tensor of that shape, ``ember.Tensor([1, 2])`` copies data (prefer ``ember.tensor``)."""

    __slots__ = (
        "__dict__",
        "__weakref__",
        "_accumulator",
        "_data",
        "_hooks",
        "_output_nr",
        "_retains_grad",
        "_version",
        "grad",
        "grad_fn",
        "requires_grad",
    )

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
    def _make(cls, arr, requires_grad: bool = False) -> Tensor:
        t = object.__new__(Tensor)
        t._init(arr, requires_grad)
        return t

    # ---- metadata ---------------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        """The size of each dimension, an ``ember.Size`` (a tuple), as ``torch.Tensor.shape``."""
        return Size(self._data.shape)

    def size(self, dim: int | None = None):
        """``ember.Size`` of all dimensions, or the size of dimension ``dim`` (negative counts from the end), as
        ``torch.Tensor.size``."""
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self.ndim)]

    def dim(self) -> int:
        """The number of dimensions, as ``torch.Tensor.dim`` (alias ``ndimension``)."""
        return self._data.ndim

    ndimension = dim

    @property
    def ndim(self) -> int:
        """The number of dimensions, as ``torch.Tensor.ndim``."""
        return self._data.ndim

    def numel(self) -> int:
        """The number of elements, as ``torch.Tensor.numel`` (alias ``nelement``)."""
        return int(self._data.size)

    nelement = numel

    @property
    def dtype(self) -> _dtype.dtype:
        """The element type, an ``ember.dtype`` such as ``ember.float32``, as ``torch.Tensor.dtype``."""
        return _dtype.from_numpy_dtype(self._data.dtype)

    @property
    def device(self) -> device:
        """Where the data lives: ``device('cpu')`` or ``device('cuda', i)``, as ``torch.Tensor.device``."""
        if backend.is_cuda_array(self._data):
            return device("cuda", self._data.device.id)
        return CPU

    @property
    def is_cuda(self) -> bool:
        """True if the data lives on a CUDA device, as ``torch.Tensor.is_cuda``."""
        return backend.is_cuda_array(self._data)

    @property
    def is_leaf(self) -> bool:
        """True for tensors no recorded op produced (user-created ones, parameters), as ``torch.Tensor.is_leaf``."""
        return self.grad_fn is None

    @property
    def data(self) -> Tensor:
        """This tensor's data as a new tensor outside the graph; assigning swaps the data in, as
        ``torch.Tensor.data``."""
        return Tensor._make(self._data)

    @data.setter
    def data(self, value: Tensor) -> None:
        self._data = value._data if isinstance(value, Tensor) else value

    def element_size(self) -> int:
        """Bytes per element, as ``torch.Tensor.element_size``."""
        return self._data.itemsize

    def is_floating_point(self) -> bool:
        """True if the dtype is a floating-point type, as ``torch.Tensor.is_floating_point``."""
        return self._data.dtype.kind == "f"

    def is_contiguous(self) -> bool:
        """True if the elements are laid out in row-major order without gaps, as ``torch.Tensor.is_contiguous``."""
        return bool(self._data.flags.c_contiguous)

    def stride(self, dim: int | None = None):
        """The step in elements between neighbours along each dimension (or along ``dim``), as
        ``torch.Tensor.stride``."""
        st = tuple(s // self._data.itemsize for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self.ndim)]

    def storage_offset(self) -> int:
        """Always 0: Ember does not track an offset into a shared storage (PyTorch gives a view's offset there)."""
        return 0

    def data_ptr(self) -> int:
        """The address of the first element (host or device memory), as ``torch.Tensor.data_ptr``."""
        return int(self._data.data.ptr) if self.is_cuda else int(self._data.ctypes.data)

    # ---- conversion -------------------------------------------------------------------------
    def item(self):
        """The value of a one-element tensor as a Python number, as ``torch.Tensor.item``."""
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return backend.to_host(self._data).reshape(()).item()

    def tolist(self):
        """The data as (nested) Python lists of numbers, copied to the host, as ``torch.Tensor.tolist``."""
        return backend.to_host(self._data).tolist()

    def numpy(self, force: bool = False) -> np.ndarray:
        """The CPU data as a NumPy array sharing memory; refuses tensors that require grad or live on CUDA unless
        ``force=True`` (which copies CUDA data), as ``torch.Tensor.numpy``."""
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

    # ---- autograd ---------------------------------------------------------------------------
    def detach(self) -> Tensor:
        """A tensor sharing this data, cut from the graph (no grad_fn, requires_grad False), as
        ``torch.Tensor.detach``."""
        return Tensor._make(self._data)

    def detach_(self) -> Tensor:
        """Cuts this tensor from the graph in place (no grad_fn, requires_grad False), as ``torch.Tensor.detach_``."""
        self.grad_fn = None
        self.requires_grad = False
        return self

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Sets ``requires_grad`` in place (leaf, floating-point tensors only) and returns the tensor, as
        ``torch.Tensor.requires_grad_``."""
        if not self.is_leaf and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If you want "
                               "to use a computed variable in a subgraph that doesn't require "
                               "differentiation use var_no_grad = var.detach().")
        if requires_grad and self._data.dtype.kind != "f":
            raise RuntimeError("only Tensors of floating point dtype can require gradients")
        self.requires_grad = requires_grad
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after ``backward``, as ``torch.Tensor.retain_grad``."""
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
        """True once ``retain_grad`` was called on this non-leaf tensor, as ``torch.Tensor.retains_grad``."""
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

    @property
    def real(self) -> Tensor:
        """The tensor itself: Ember has no complex dtypes, so every tensor is its own real part."""
        return self


class Size(tuple):
    """``tensor.shape``: a tuple that prints as ``ember.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"ember.Size({list(self)})"

    def numel(self) -> int:
        """The number of elements a tensor of this shape holds (the product of the sizes), as ``torch.Size.numel``."""
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

