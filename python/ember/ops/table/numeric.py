"""Rows of clamps, lerp/addcmul, norms, matrix products and the remaining reductions (sort, topk, median...)."""
from __future__ import annotations

from ._base import OpInfo


def rows() -> list[OpInfo]:
    return []
