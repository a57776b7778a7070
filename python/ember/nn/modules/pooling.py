"""Pooling modules over (N, C, L) / (N, C, H, W) inputs (batch optional), as PyTorch's: the
arguments are stored as given (``MaxPool2d(2)`` prints ``kernel_size=2``)."""
from __future__ import annotations

from .. import functional as F
from .module import Module


class _PoolNd(Module):
    """The window options of a pooling module: ``kernel_size``, ``stride`` (``kernel_size`` when
    ``None``) and ``padding``, each passed through ``_size`` (as given, or as a tuple), then the
    other options as named."""

    _pool = None
    _size = staticmethod(lambda v: v)

    def __init__(self, kernel_size, stride, padding, **options) -> None:
        super().__init__()
        self.kernel_size = self._size(kernel_size)
        self.stride = self._size(stride if stride is not None else kernel_size)
        self.padding = self._size(padding)
        for name, value in options.items():
            setattr(self, name, value)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPoolNd(_PoolNd):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices: bool = False,
                 ceil_mode: bool = False) -> None:
        super().__init__(kernel_size, stride, padding, dilation=dilation,
                         return_indices=return_indices, ceil_mode=ceil_mode)

    def forward(self, input):
        return type(self)._pool(input, self.kernel_size, self.stride, self.padding, self.dilation,
                                ceil_mode=self.ceil_mode, return_indices=self.return_indices)

    def extra_repr(self) -> str:
        return super().extra_repr() + f", dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class MaxPool1d(_MaxPoolNd):
    """Max over windows of (N, C, L): ``L_out = floor((L + 2p - d (k - 1) - 1) / s + 1)``."""

    _pool = staticmethod(F.max_pool1d)


class MaxPool2d(_MaxPoolNd):
    """Max over windows of (N, C, H, W); ``return_indices`` also gives the argmax (for MaxUnpool2d)."""

    _pool = staticmethod(F.max_pool2d)


def _ntuple(n: int):
    return lambda v: tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class AvgPool1d(_PoolNd):
    """As ``torch.nn.AvgPool1d``: mean over windows of (N, C, L); the sizes are kept as 1-tuples."""

    _size = staticmethod(_ntuple(1))

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad)

    def forward(self, input):
        return F.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class AvgPool2d(_PoolNd):
    """As ``torch.nn.AvgPool2d``: mean over windows of (N, C, H, W), ``divisor_override`` replacing
    the window size as the divisor."""

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override=None) -> None:
        super().__init__(kernel_size, stride, padding, ceil_mode=ceil_mode,
                         count_include_pad=count_include_pad, divisor_override=divisor_override)

    def forward(self, input):
        return F.avg_pool2d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad, self.divisor_override)


class _AdaptivePool(Module):
    _pool = None

    def __init__(self, output_size) -> None:
        super().__init__()
        self.output_size = output_size

    def forward(self, input):
        return type(self)._pool(input, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptivePool):
    """(N, C, L) -> (N, C, output_size), each output the mean of its share of the input."""

    _pool = staticmethod(F.adaptive_avg_pool1d)


class AdaptiveAvgPool2d(_AdaptivePool):
    """(N, C, H, W) -> (N, C, *output_size); ``None`` in output_size keeps that input size."""

    _pool = staticmethod(F.adaptive_avg_pool2d)


class _AdaptiveMaxPool(_AdaptivePool):
    def __init__(self, output_size, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input):
        return type(self)._pool(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPool):
    """As ``torch.nn.AdaptiveMaxPool1d``: (N, C, L) -> (N, C, output_size), maxima of the shares."""

    _pool = staticmethod(F.adaptive_max_pool1d)


class AdaptiveMaxPool2d(_AdaptiveMaxPool):
    """As ``torch.nn.AdaptiveMaxPool2d``: (N, C, H, W) -> (N, C, *output_size), maxima of the shares."""

    _pool = staticmethod(F.adaptive_max_pool2d)


class _MaxUnpool(_PoolNd):
    _unpool = None

    def __init__(self, kernel_size, stride=None, padding=0) -> None:
        super().__init__(kernel_size, stride, padding)

    def forward(self, input, indices, output_size=None):
        return type(self)._unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(_MaxUnpool):
    """Scatter pooled maxima back to their positions (zeros elsewhere): inverse of MaxPool1d."""

    _size = staticmethod(_ntuple(1))
    _unpool = staticmethod(F.max_unpool1d)


class MaxUnpool2d(_MaxUnpool):
    """Inverse of MaxPool2d (given its indices): (N, C, H, W) -> (N, C, H_out, W_out)."""

    _size = staticmethod(_ntuple(2))
    _unpool = staticmethod(F.max_unpool2d)
