"""Helpers shared by every op: turning arguments into arrays on the right device, PyTorch's type
promotion, and reducing a broadcast gradient back to its input's shape (the one place where
broadcasting is undone)."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype, backend
from .._device import CPU
from ..tensor import Tensor

_KIND_RANK = {"b": 0, "u": 1, "i": 1, "f": 2}


def xp(*arrays):
    for a in arrays:
        if backend.is_cuda_array(a):
            return backend.xp_of(a)
    return np


def is_scalar(v) -> bool:
    return isinstance(v, (numbers.Number, np.generic)) or (isinstance(v, Tensor) and v.ndim == 0 and False)


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


def device_of(*args):
    for a in args:
        if isinstance(a, Tensor):
            return a.device
    return CPU


def check_same_device(*tensors) -> None:
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
        return dims
    return (wrap_dim(dim, ndim),)
