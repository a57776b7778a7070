"""Graph neural network tools for the GNN lectures (PyTorch Geometric's names and layouts).

``Data(x, edge_index, y)`` holds a graph as an edge list; the utilities convert between edge
lists and dense adjacency matrices, add self-loops, compute the GCN normalisation and the
softmax over neighbours; ``Batch`` and the graph ``DataLoader`` merge graphs for graph-level
tasks, pooled with ``global_add_pool`` / ``global_mean_pool`` / ``global_max_pool``. The layers
``GCNConv`` and ``GATConv`` are ``ember.nn`` modules; they are loaded on first use, so the rest
of this package works without ``ember.nn``.
"""
from typing import Any

from .data import Batch, Data
from .datasets import KarateClub, karate_club
from .loader import DataLoader
from .utils import (
    add_self_loops,
    degree,
    dense_to_edge_index,
    dense_to_sparse,
    gcn_norm,
    global_add_pool,
    global_max_pool,
    global_mean_pool,
    remove_self_loops,
    scatter_sum,
    segment_softmax,
    to_dense_adj,
    to_undirected,
)

# GCNConv and GATConv are left out of __all__ so that ``from ember.graph import *`` does not
# import ember.nn; import them by name.
__all__ = [
    "Batch",
    "Data",
    "DataLoader",
    "KarateClub",
    "add_self_loops",
    "degree",
    "dense_to_edge_index",
    "dense_to_sparse",
    "gcn_norm",
    "global_add_pool",
    "global_max_pool",
    "global_mean_pool",
    "karate_club",
    "remove_self_loops",
    "scatter_sum",
    "segment_softmax",
    "to_dense_adj",
    "to_undirected",
]

_LAYERS = ("GCNConv", "GATConv")


def __getattr__(name: str) -> Any:
    """Import the layers (and with them ``ember.nn``) only when they are asked for."""
    if name in _LAYERS:
        from . import conv

        return getattr(conv, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
