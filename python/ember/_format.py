"""``repr(tensor)`` in PyTorch's layout: ``tensor([[1., 2.], ...], dtype=..., requires_grad=True)``."""
from __future__ import annotations

from functools import partial

import numpy as np

from . import backend

_DEFAULT_SUFFIXLESS = {"float32", "int64", "bool"}


def _shown(arr: np.ndarray, threshold: int = 1000, edgeitems: int = 3) -> np.ndarray:
    """The elements a summarised print shows: the first and last ``edgeitems`` of long axes."""
    if arr.size <= threshold:
        return arr
    for axis, n in enumerate(arr.shape):
        if n > 2 * edgeitems:
            arr = np.take(arr, list(range(edgeitems)) + list(range(n - edgeitems, n)), axis=axis)
    return arr


def _padded(one, arr: np.ndarray):
    """``one`` right-aligned to the widest shown element, as PyTorch aligns its columns."""
    width = max((len(one(v)) for v in _shown(arr).flat), default=0)
    return lambda v: one(v).rjust(width)


def _float_str(v: float, style: str) -> str:
    if not np.isfinite(v):
        return str(v)  # nan, inf, -inf
    if style == "integral":
        return f"{v:.0f}."
    return f"{v:.4e}" if style == "sci" else f"{v:.4f}"


def _bool_str(v: bool) -> str:
    return "True" if v else "False"


def _body(arr: np.ndarray, indent: int) -> str:
    # PyTorch sets a summary's column ellipsis off by two spaces: "2.,  ..., 7."
    return _numpy_body(arr, indent).replace(", ..., ", ",  ..., ")


def _numpy_body(arr: np.ndarray, indent: int) -> str:
    if arr.dtype.kind == "f":
        shown = _shown(arr)  # like PyTorch, the style follows the printed elements only
        finite = shown[np.isfinite(shown)]
        integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        amax = float(np.abs(finite).max()) if finite.size else 0.0
        amin = float(np.abs(finite[finite != 0]).min()) if np.any(finite != 0) else 0.0
        sci = amax >= 1e8 or ((amin > 0 and (amin < 1e-4 or amax / amin > 1e3)) and not integral)
        style = "sci" if sci else "integral" if integral else "fixed"
        one = partial(_float_str, style=style)
        return np.array2string(arr, separator=", ", prefix=" " * indent,
                               formatter={"float_kind": _padded(one, arr)},
                               threshold=1000, edgeitems=3, max_line_width=80)
    if arr.dtype == np.bool_:
        return np.array2string(arr, separator=", ", prefix=" " * indent, threshold=1000,
                               formatter={"bool": _padded(_bool_str, arr)})
    return np.array2string(arr, separator=", ", prefix=" " * indent, threshold=1000, edgeitems=3,
                           max_line_width=80)


def tensor_repr(t) -> str:
    arr = backend.to_host(t._data)
    suffix = []
    if t.is_cuda:
        suffix.append(f"device='{t.device}'")
    if arr.size == 0 and arr.ndim != 1:
        body = "[]"
        suffix.insert(0, f"size={tuple(arr.shape)}")
    else:
        body = _body(arr, len("tensor("))
    if t.dtype.name not in _DEFAULT_SUFFIXLESS or (arr.size == 0 and t.dtype.name != "float32"):
        suffix.append(f"dtype=ember.{t.dtype.name}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return "tensor(" + body + "".join(", " + s for s in suffix) + ")"
