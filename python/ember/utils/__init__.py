"""Utilities that sit beside the tensor core: :mod:`ember.utils.data` (datasets and loaders)."""
from . import data

__all__ = ["data"]
