"""Rows of the losses of nn.functional."""
from __future__ import annotations

from ._base import OpInfo


def rows() -> list[OpInfo]:
    return []
