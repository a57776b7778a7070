"""Ember dtypes: thin named wrappers around NumPy dtypes, printed and compared like PyTorch's."""
from __future__ import annotations

import numpy as np


class dtype:  # noqa: N801 - PyTorch's spelling
    """A tensor element type, e.g. ``ember.float32``. ``is_floating_point`` as in PyTorch."""

    __slots__ = ("is_complex", "is_floating_point", "is_signed", "itemsize", "name", "np")

    def __init__(self, name: str, np_dtype) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.is_floating_point = self.np.kind == "f"
        self.is_signed = self.np.kind in "fi"
        self.is_complex = False

    def __repr__(self) -> str:
        return f"ember.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))

    def to_real(self) -> dtype:
        """The dtype itself: Ember has no complex dtypes, as ``torch.dtype.to_real`` for real types."""
        return self


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)  # noqa: A001 - PyTorch exports ember.float
float64 = double = dtype("float64", np.float64)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)  # noqa: A001
int64 = long = dtype("int64", np.int64)
uint8 = dtype("uint8", np.uint8)
bool = dtype("bool", np.bool_)  # noqa: A001

ALL = (float16, float32, float64, int8, int16, int32, int64, uint8, bool)
_BY_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL}
_default_float = [float32]


def _by_name(name: str) -> dtype:
    return _BY_NAME[name]


def get_default_dtype() -> dtype:
    """The floating-point dtype that factories and Python floats use (float32 unless set), as
    ``torch.get_default_dtype``."""
    return _default_float[0]


def set_default_dtype(d: dtype) -> None:
    """Make the floating-point dtype ``d`` the default for factories and Python floats, as
    ``torch.set_default_dtype``."""
    if not isinstance(d, dtype) or not d.is_floating_point:
        raise TypeError(f"set_default_dtype: expected a floating-point ember dtype, got {d!r}")
    _default_float[0] = d


def from_numpy_dtype(np_dtype) -> dtype:
    """The ember dtype of a NumPy dtype (float64 arrays stay float64, as torch.from_numpy)."""
    found = _BY_NP.get(np_dtype)  # an array's dtype (tensor.dtype): no np.dtype() conversion
    if found is not None:
        return found
    key = np.dtype(np_dtype)
    if key not in _BY_NP:
        raise TypeError(f"NumPy dtype {key} has no ember equivalent; supported: "
                        + ", ".join(d.name for d in ALL))
    return _BY_NP[key]


def to_dtype(d) -> dtype:
    """Accept ember dtypes, NumPy dtypes/types and Python types (float, int, bool)."""
    import builtins

    if isinstance(d, dtype):
        return d
    if d is builtins.float:
        return get_default_dtype()
    if d is builtins.int:
        return int64
    if d is builtins.bool:
        return bool
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d]
    try:
        return from_numpy_dtype(d)
    except TypeError:
        raise TypeError(f"expected an ember dtype such as ember.float32, got {d!r}") from None
