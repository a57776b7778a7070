"""Dropout modules: active in training mode, the identity in eval mode."""
from __future__ import annotations

from .. import functional as F
from .module import _FunctionalModule


class _DropoutNd(_FunctionalModule, args=("p", "inplace")):
    """``_fn(input, p, training, inplace)`` with the probability ``p`` checked."""

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        if p < 0 or p > 1:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        super().__init__(p, inplace)

    def forward(self, input):
        return type(self)._fn(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd, fn=F.dropout):
    """Zero each element with probability ``p`` and scale survivors by ``1 / (1 - p)``; any shape."""


class Dropout1d(_DropoutNd, fn=F.dropout1d):
    """Zero whole channels of (N, C, L) or (C, L)."""


class Dropout2d(_DropoutNd, fn=F.dropout2d):
    """Zero whole channels of (N, C, H, W) or (N, C, L)."""


class Dropout3d(_DropoutNd, fn=F.dropout3d):
    """Zero whole channels of (N, C, D, H, W) or (C, D, H, W)."""


class _AlphaDropoutNd(_DropoutNd):
    def forward(self, input):
        # PyTorch's AlphaDropout modules do not pass ``inplace`` on: they always return a new tensor
        return type(self)._fn(input, self.p, self.training)


class AlphaDropout(_AlphaDropoutNd, fn=F.alpha_dropout):
    """Dropout for SELU networks: keeps a unit Gaussian input's mean and variance."""


class FeatureAlphaDropout(_AlphaDropoutNd, fn=F.feature_alpha_dropout):
    """As ``torch.nn.FeatureAlphaDropout``: alpha dropout of whole channels."""
