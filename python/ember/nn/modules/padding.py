"""Padding modules over the last 1 or 2 dimensions (``F.pad`` with a fixed mode)."""
from __future__ import annotations

from .. import functional as F
from .module import Module


def _widths(padding, n: int) -> tuple:
    """An int pads every side; otherwise (left, right[, top, bottom]) as given."""
    if isinstance(padding, int):
        return (padding,) * (2 * n)
    padding = tuple(padding)
    if len(padding) != 2 * n:
        raise ValueError(f"expected {2 * n} padding values, got {padding}")
    return padding


class _PadNd(Module):
    """``F.pad`` over the last ``dims`` dimensions in ``mode``; a subclass names both as class
    keywords: ``class ReflectionPad1d(_PadNd, dims=1, mode="reflect")``."""

    _dims = 0
    _mode = "constant"

    def __init_subclass__(cls, dims: int | None = None, mode: str | None = None, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if dims is not None:
            cls._dims = dims
        if mode is not None:
            cls._mode = mode

    def __init__(self, padding) -> None:
        super().__init__()
        self.padding = _widths(padding, self._dims)

    def forward(self, input):
        return F.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input):
        return F.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd, dims=1):
    """As ``torch.nn.ConstantPad1d``: pad the last dimension with ``value``."""


class ConstantPad2d(_ConstantPadNd, dims=2):
    """As ``torch.nn.ConstantPad2d``: pad the last two dimensions with ``value``."""


class _ZeroPad:
    """ConstantPad with value 0 (a mixin before ConstantPad1d/2d); the repr shows the padding only."""

    def __init__(self, padding) -> None:
        super().__init__(padding, 0.0)

    extra_repr = _PadNd.extra_repr


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    """As ``torch.nn.ZeroPad1d``: pad the last dimension with zeros."""


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    """As ``torch.nn.ZeroPad2d``: pad the last two dimensions with zeros."""


class ReflectionPad1d(_PadNd, dims=1, mode="reflect"):
    """As ``torch.nn.ReflectionPad1d``: pad the last dimension with its reflection."""


class ReflectionPad2d(_PadNd, dims=2, mode="reflect"):
    """As ``torch.nn.ReflectionPad2d``: pad the last two dimensions with their reflection."""


class ReplicationPad1d(_PadNd, dims=1, mode="replicate"):
    """As ``torch.nn.ReplicationPad1d``: pad the last dimension with copies of its edge values."""


class ReplicationPad2d(_PadNd, dims=2, mode="replicate"):
    """As ``torch.nn.ReplicationPad2d``: pad the last two dimensions with copies of their edges."""


class CircularPad1d(_PadNd, dims=1, mode="circular"):
    """As ``torch.nn.CircularPad1d``: pad the last dimension by wrapping it around."""


class CircularPad2d(_PadNd, dims=2, mode="circular"):
    """As ``torch.nn.CircularPad2d``: pad the last two dimensions by wrapping them around."""
