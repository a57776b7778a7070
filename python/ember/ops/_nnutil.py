"""Argument handling shared by the kernel-backed neural-network ops (conv, pool, norm, softmax,
attention, rnn_cell, activation): PyTorch's int-or-tuple arguments, the floating dtype a kernel
computes in, and the loss reductions."""
from __future__ import annotations

import warnings

import numpy as np

from .. import _dtype, backend
from ..tensor import Tensor
from ._util import check_same_device

# PyTorch's short type names, used in its dtype error messages ("Input type (double) ...").
_SHORT = {"float16": "Half", "float32": "Float", "float64": "Double", "int64": "Long",
          "int32": "Int", "int16": "Short", "int8": "Char", "uint8": "Byte", "bool": "Bool"}


def short_name(t: Tensor) -> str:
    """PyTorch's short name of a tensor's dtype ("Float", "Long", ...), for error messages."""
    return _SHORT.get(t.dtype.name, t.dtype.name)


def ntuple(value, n: int, name: str) -> tuple[int, ...]:
    """``value`` as an n-tuple of ints (an int repeats; a sequence must have n entries)."""
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            value = tuple(value) * n
        if len(value) != n:
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} "
                               f"values to match the convolution dimensions, but got {name}={list(value)}")
        return tuple(int(v) for v in value)
    return (int(value),) * n


def float_inputs(op: str, *tensors):
    """Check that the tensors (None allowed) are floating and of one dtype and device; returns
    (tensors in the compute dtype, the result dtype). Float16 computes in float32: the kernels
    are float32/float64 only, and the result is cast back."""
    present = [t for t in tensors if t is not None]
    for t in present:
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): expected a Tensor argument, but got {type(t).__name__}")
    check_same_device(*present)
    first = present[0]
    for t in present:
        if t._data.dtype.kind != "f":
            raise RuntimeError(f"{op}: expected floating-point tensors, but got a tensor of dtype "
                               f"{t.dtype.name} (convert it with .float())")
        if t._data.dtype != first._data.dtype:
            raise RuntimeError(f"{op}: expected all tensors to have the same dtype, but got "
                               f"{first.dtype.name} and {t.dtype.name}")
    result = first.dtype
    if result.itemsize >= 4:
        return tensors, result
    return tuple(None if t is None else t.to(_dtype.float32) for t in tensors), result


def cast_back(out: Tensor, dtype) -> Tensor:
    """``out`` in the result dtype that float_inputs returned (float16 results were computed in float32)."""
    return out if out._data.dtype == dtype.np else out.to(dtype)


def contiguous(a):
    """The raw array ``a``, C-contiguous (the kernels' layout contract). Not ascontiguousarray
    alone: it turns a 0-d array into a 1-d one."""
    return a if a.flags.c_contiguous else backend.xp_of(a).ascontiguousarray(a)


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """PyTorch's mapping of the deprecated size_average/reduce flags onto ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                  f"{_legacy(size_average, reduce)}' instead.", UserWarning, stacklevel=3)
    return _legacy(size_average, reduce)


def _legacy(size_average, reduce) -> str:
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    if not reduce:
        return "none"
    return "mean" if size_average else "sum"


def check_reduction(reduction: str) -> None:
    """ValueError unless ``reduction`` is 'none', 'mean' or 'sum' (PyTorch's message)."""
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")


def reduce_loss(loss: Tensor, reduction: str) -> Tensor:
    """Apply 'none' | 'mean' | 'sum' to an elementwise loss."""
    check_reduction(reduction)
    if reduction == "none":
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def index_array(t: Tensor):
    """An integer tensor's array as C-contiguous int64 (the dtype the kernels read)."""
    a = t._data
    if a.dtype != np.int64:
        a = a.astype(np.int64)
    return contiguous(a)
