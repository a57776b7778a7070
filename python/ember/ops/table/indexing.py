"""Rows of indexing, gather/scatter, masking and where."""
from __future__ import annotations

from ._base import OpInfo


def rows() -> list[OpInfo]:
    return []
