"""Helpers shared by every op: turning arguments into arrays on the right device, PyTorch's type
promotion, and reducing a broadcast gradient back to its input's shape (the one place where
broadcasting is undone)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype, backend
from ..autograd import grad_mode
from ..tensor import Tensor

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}


def result_dtype(*args) -> np.dtype:
    """PyTorch promotion: tensors decide among themselves; a Python scalar (or 0-d tensor) only
    lifts the category (bool < int < float), landing on the default dtype of that category."""
    if len(args) == 2:  # the common cases, with nothing to promote: skip the general rule
        a, b = args
        if isinstance(a, Tensor):
            if isinstance(b, Tensor):
                if a._data.dtype == b._data.dtype:
                    return a._data.dtype
            elif a._data.dtype.kind == "f" and isinstance(b, (int, float)):
                return a._data.dtype  # a Python number never lifts a float tensor
        elif isinstance(b, Tensor) and b._data.dtype.kind == "f" and isinstance(a, (int, float)):
            return b._data.dtype
    tensor_dtypes = [a._data.dtype for a in args if isinstance(a, Tensor) and a.ndim > 0]
    zero_dim = [a._data.dtype for a in args if isinstance(a, Tensor) and a.ndim == 0]
    scalars = [a for a in args if not isinstance(a, Tensor) and a is not None]
    if not tensor_dtypes:
        tensor_dtypes, zero_dim = zero_dim, []
    if tensor_dtypes:  # the highest category present decides, within it NumPy's rule (int8 + uint8: int16)
        top = max(_KIND_RANK.get(d.kind, 2) for d in tensor_dtypes)
        tensor_dtypes = [d for d in tensor_dtypes if _KIND_RANK.get(d.kind, 2) == top]
    base = np.result_type(*tensor_dtypes) if tensor_dtypes else None
    rank = _KIND_RANK.get(base.kind, 2) if base is not None else -1
    for d in zero_dim:
        r = _KIND_RANK.get(d.kind, 2)
        if r > rank:
            base, rank = d, r
    for s in scalars:
        if isinstance(s, (bool, np.bool_)):
            r, d = 0, np.dtype(np.bool_)
        elif isinstance(s, (numbers.Integral, np.integer)):
            r, d = 1, np.dtype(np.int64)
        else:
            r, d = 2, _dtype.get_default_dtype().np
        if r > rank:
            base, rank = d, r
    return base


def float_dtype(*args) -> np.dtype:
    """The dtype of a floating-point result (ints and bools become the default float dtype)."""
    d = result_dtype(*args)
    return d if d.kind == "f" else _dtype.get_default_dtype().np


def check_same_device(*tensors) -> None:
    """RuntimeError unless every non-scalar tensor among ``tensors`` is on one device (0-d tensors may be anywhere,
    as in PyTorch)."""
    if backend._cupy is None:
        return  # CUDA never loaded: every array is a NumPy array
    devs = {t.device for t in tensors if isinstance(t, Tensor) and t.ndim > 0}
    if len(devs) > 1:
        names = ", ".join(sorted(str(d) for d in devs))
        raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                           f"devices, {names}!")


def to_tensor(v, like=None, dtype=None) -> Tensor:
    """A Tensor for ``v``; scalars and array-likes land on ``like``'s device."""
    if isinstance(v, Tensor):
        return v if dtype is None or v._data.dtype == dtype else v.to(_dtype.from_numpy_dtype(dtype))
    if dtype is None:
        dtype = result_dtype(v) if not isinstance(v, (list, tuple, np.ndarray)) else None
    arr = np.asarray(v, dtype=dtype)
    if like is not None and like.is_cuda:
        arr = backend.to_device_array(arr, like.device)
    return Tensor._make(arr)


def arr_of(v, dtype, like_arr):
    """Raw array (or scalar) of ``v`` with ``dtype`` on the device of ``like_arr``."""
    if isinstance(v, Tensor):
        a = v._data
        if backend.is_cuda_array(like_arr) != backend.is_cuda_array(a) and a.ndim > 0:
            raise RuntimeError("Expected all tensors to be on the same device, but found at least "
                               "two devices, cpu and cuda:0!")
        if backend.is_cuda_array(like_arr) and not backend.is_cuda_array(a):
            a = backend.xp_of(like_arr).asarray(a)
        return a.astype(dtype, copy=False)
    if isinstance(v, (float, int, numbers.Number, np.generic)):  # (the built-in types first: fast)
        return np.dtype(dtype).type(v)
    a = np.asarray(v, dtype=dtype)
    return backend.xp_of(like_arr).asarray(a) if backend.is_cuda_array(like_arr) else a


def sum_to(grad: Tensor, shape) -> Tensor:
    """Sum ``grad`` over the dimensions that broadcasting added or stretched to reach ``shape``."""
    shape = tuple(shape)
    if tuple(grad.shape) == shape:
        return grad
    lead = grad.ndim - len(shape)
    dims = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape)
                                      if s == 1 and grad.shape[i + lead] != 1)
    out = grad.sum(dims, keepdim=True) if dims else grad  # (reduce.sum: a layer above)
    return out.reshape(shape)


def wrap_dim(dim: int, ndim: int) -> int:
    """``dim`` in ``[0, ndim)`` (negative counts from the end; a 0-d tensor takes -1 and 0), else PyTorch's
    IndexError."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim % n


def dims_tuple(dim, ndim: int):
    """Normalise ``dim`` (None, int, or sequence) to a sorted tuple of non-negative dims."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        if len(dim) == 0:
            return tuple(range(ndim))
        dims = tuple(sorted(wrap_dim(d, ndim) for d in dim))
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"dim {dims[0]} appears multiple times in the list of dims")
    else:
        dims = (wrap_dim(dim, ndim),)
    return dims if ndim else ()  # a 0-d tensor takes dim 0 or -1 and has no dim to reduce


# ---- out= ---------------------------------------------------------------------------------------
_TORCH_NAMES = {"float16": "Half", "float32": "Float", "float64": "Double", "int8": "Char",
                "int16": "Short", "int32": "Int", "int64": "Long", "uint8": "Byte", "bool": "Bool"}


def _can_cast(src: np.dtype, dst: np.dtype) -> bool:
    """PyTorch's canCast: never to a lower category (float -> integer, non-bool -> bool)."""
    return _KIND_RANK.get(src.kind, 2) <= _KIND_RANK.get(dst.kind, 2)


def _check_out_grad(name: str, outs) -> None:
    if grad_mode.is_grad_enabled() and True in [o.requires_grad for o in outs]:
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")


def write_out(result, out, name: str):
    """PyTorch's ``out=`` contract, shared by every op that takes it: ``result`` (a Tensor, or a
    tuple of Tensors for ``out=(values, indices)``) is written into ``out``, which is returned.
    ``out`` is resized when its shape differs (with PyTorch's warning unless it was empty); the
    values are cast to ``out``'s dtype, which may not be of a lower category (float into an integer
    tensor raises); and autograd does not record through ``out=``, so an argument that requires
    grad while grad mode is on is an error."""
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): argument 'out' must be a tuple of {len(result)} Tensors")
        _check_out_grad(name, list(result) + list(out))
        for r, o in zip(result, out):
            _write_one(r, o, name)
        return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
    _check_out_grad(name, (result, out))
    _write_one(result, out, name)
    return out


def _write_one(r, out, name: str) -> None:
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    src = r._data
    if not _can_cast(src.dtype, out._data.dtype):
        raise RuntimeError(f"result type {_TORCH_NAMES[src.dtype.name]} can't be cast to the "
                           f"desired output type {_TORCH_NAMES[out._data.dtype.name]}")
    if r.device != out.device:
        raise RuntimeError(f"Expected out tensor to have device {r.device}, but got {out.device} "
                           "instead")
    if tuple(src.shape) != tuple(out._data.shape):
        if out._data.size:
            import warnings

            warnings.warn(f"An output with one or more elements was resized since it had shape "
                          f"{list(out._data.shape)}, which does not match the required output "
                          f"shape {list(src.shape)}. This behavior is deprecated, and in a future "
                          "PyTorch release outputs will not be resized unless they have zero "
                          "elements. You can explicitly reuse an out tensor t by resizing it, "
                          "inplace, to zero elements with t.resize_(0).", UserWarning, stacklevel=4)
        out._data = backend.xp_of(src).empty(src.shape, dtype=out._data.dtype)
    out._data[...] = src
    out._version += 1


def with_out(fn=None, *, factory: bool = False):
    """Give ``fn`` PyTorch's ``out=`` keyword through ``write_out``. A ``factory`` (zeros, arange,
    rand, ...) takes its dtype and device from ``out`` unless they are given, as in PyTorch."""
    if fn is None:
        return lambda f: with_out(f, factory=factory)
    import functools

    name = fn.__name__

    @functools.wraps(fn)
    def wrapper(*args, out=None, **kwargs):
        if out is None:
            return fn(*args, **kwargs)
        if factory and isinstance(out, Tensor):
            if kwargs.get("dtype") is None:
                kwargs["dtype"] = out.dtype
            if kwargs.get("device") is None:
                kwargs["device"] = out.device
            if kwargs.get("requires_grad"):
                raise RuntimeError(f"{name}(): functions with out=... arguments don't support "
                                   "automatic differentiation, but one of the arguments requires "
                                   "grad.")
        return write_out(fn(*args, **kwargs), out, name)

    return wrapper
