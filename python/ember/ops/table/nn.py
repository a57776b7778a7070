"""Rows of the nn.functional layers beyond core: pooling, padding, resampling, embedding, folding, distances."""
from __future__ import annotations

from ._base import OpInfo


def rows() -> list[OpInfo]:
    return []
