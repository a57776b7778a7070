"""Graph neural network tools for the GNN lectures (PyTorch Geometric's names and layouts).

``Data(x, edge_index, y)`` holds a graph as an edge list; the utilities convert between edge
lists and dense adjacency matrices, add self-loops, compute the GCN normalisation and the
softmax over neighbours; ``Batch`` and the graph ``DataLoader`` merge graphs for graph-level
tasks, pooled with ``global_add_pool`` / ``global_mean_pool`` / ``global_max_pool``. The layers
``GCNConv`` and ``GATConv`` are ``ember.nn`` modules; they are loaded on first use, so the rest
of this package works without ``ember.nn``.
"""
from typing import Any

from . import utils
from .data import Batch, Data
from .datasets import KarateClub, karate_club
from .loader import DataLoader
from .utils import *  # noqa: F403 (the utilities, re-exported under their own __all__)

# GCNConv and GATConv are left out of __all__ so that ``from ember.graph import *`` does not
# import ember.nn; import them by name.
__all__ = ["Batch", "Data", "DataLoader", "KarateClub", "karate_club", *utils.__all__]

_LAYERS = ("GCNConv", "GATConv")


def __getattr__(name: str) -> Any:
    """Import the layers (and with them ``ember.nn``) only when they are asked for."""
    if name in _LAYERS:
        from . import conv

        return getattr(conv, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
