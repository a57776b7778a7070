"""``repr(tensor)`` in PyTorch's layout: ``tensor([[1., 2.], ...], dtype=..., requires_grad=True)``."""
from __future__ import annotations

import numpy as np

from . import backend

_DEFAULT_SUFFIXLESS = {"float32", "int64", "bool"}


def _body(arr: np.ndarray, indent: int) -> str:
    if arr.dtype.kind == "f":
        finite = arr[np.isfinite(arr)]
        integral = finite.size == 0 or bool(np.all(finite == np.round(finite)))
        amax = float(np.abs(finite).max()) if finite.size else 0.0
        amin = float(np.abs(finite[finite != 0]).min()) if np.any(finite != 0) else 0.0
        sci = amax >= 1e8 or (amin > 0 and (amin < 1e-4 or amax / amin > 1e3)) and not integral
        if integral and not sci:
            fmt = {"float_kind": lambda v: ("%.0f." % v) if np.isfinite(v) else str(v)}
        elif sci:
            fmt = {"float_kind": lambda v: "%.4e" % v}
        else:
            fmt = {"float_kind": lambda v: "%.4f" % v if np.isfinite(v) else str(v)}
        return np.array2string(arr, separator=", ", prefix=" " * indent, formatter=fmt,
                               threshold=1000, edgeitems=3, max_line_width=80)
    if arr.dtype == np.bool_:
        return np.array2string(arr, separator=", ", prefix=" " * indent, threshold=1000,
                               formatter={"bool": lambda v: "True" if v else "False"})
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
