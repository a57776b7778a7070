"""``PixelShuffle`` / ``PixelUnshuffle`` (sub-pixel convolution rearrangements)."""
from __future__ import annotations

from .. import functional as F
from .module import _FunctionalModule


class PixelShuffle(_FunctionalModule, fn=F.pixel_shuffle, args=("upscale_factor",)):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""

    def __init__(self, upscale_factor: int) -> None:
        super().__init__(upscale_factor)


class PixelUnshuffle(_FunctionalModule, fn=F.pixel_unshuffle, args=("downscale_factor",)):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""

    def __init__(self, downscale_factor: int) -> None:
        super().__init__(downscale_factor)
