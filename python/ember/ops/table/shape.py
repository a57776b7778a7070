"""Rows of views, reshapes, joins, splits, flips and copies."""
from __future__ import annotations

from ._base import OpInfo


def rows() -> list[OpInfo]:
    return []
