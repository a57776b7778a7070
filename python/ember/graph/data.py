"""Graphs as tensors: :class:`Data` for one graph, :class:`Batch` for several merged into one.

A graph with ``N`` nodes and ``E`` directed edges is stored as

* ``x``: node features ``(N, F)``,
* ``edge_index``: ``int64`` ``(2, E)``; column ``k`` is the edge ``edge_index[0, k] ->
  edge_index[1, k]`` (source -> target; an undirected edge is stored in both directions),
* optional ``edge_attr`` ``(E, D)``, labels ``y``, positions ``pos``, or any other tensor.

This edge list is the sparse counterpart of the dense ``(N, N)`` adjacency matrix; see
:func:`ember.graph.to_dense_adj` and :func:`ember.graph.dense_to_edge_index`.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

import ember
from ember.utils.data._arrays import to_numpy

__all__ = ["Batch", "Data"]


class Data:
    """One graph: ``Data(x=x, edge_index=edge_index, y=y)``; extra keyword attributes allowed.

    ``num_nodes`` is inferred from ``x`` (or ``pos``, or the largest node id in
    ``edge_index``) unless given.
    """

    def __init__(self, x: ember.Tensor | None = None,
                 edge_index: ember.Tensor | None = None,
                 edge_attr: ember.Tensor | None = None, y: Any = None,
                 pos: ember.Tensor | None = None, num_nodes: int | None = None,
                 **attributes: Any) -> None:
        self.x = x
        self.edge_index = edge_index
        self.edge_attr = edge_attr
        self.y = y
        self.pos = pos
        self._num_nodes = num_nodes
        for name, value in attributes.items():
            setattr(self, name, value)

    # ---- attribute access ----------------------------------------------------------------

    def keys(self) -> list[str]:
        """Names of the attributes that are set (not ``None``)."""
        return [name for name, value in vars(self).items()
                if not name.startswith("_") and value is not None]

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def __setitem__(self, key: str, value: Any) -> None:
        setattr(self, key, value)

    def __contains__(self, key: str) -> bool:
        return key in self.keys()

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        for key in self.keys():
            yield key, getattr(self, key)

    # ---- sizes ---------------------------------------------------------------------------

    @property
    def num_nodes(self) -> int:
        if self._num_nodes is not None:
            return self._num_nodes
        for name in ("x", "pos"):
            value = getattr(self, name, None)
            if value is not None:
                return int(value.shape[0])
        if self.edge_index is not None and self.edge_index.shape[1] > 0:
            return int(to_numpy(self.edge_index).max()) + 1
        return 0

    @num_nodes.setter
    def num_nodes(self, value: int) -> None:
        self._num_nodes = value

    @property
    def num_edges(self) -> int:
        return 0 if self.edge_index is None else int(self.edge_index.shape[1])

    @property
    def num_node_features(self) -> int:
        if self.x is None:
            return 0
        return 1 if self.x.ndim == 1 else int(self.x.shape[1])

    num_features = num_node_features

    @property
    def num_edge_features(self) -> int:
        if self.edge_attr is None:
            return 0
        return 1 if self.edge_attr.ndim == 1 else int(self.edge_attr.shape[1])

    # ---- structure checks ----------------------------------------------------------------

    def has_self_loops(self) -> bool:
        edges = to_numpy(self.edge_index)
        return bool((edges[0] == edges[1]).any())

    def is_undirected(self) -> bool:
        """True when every edge ``i -> j`` has its reverse ``j -> i``."""
        edges = to_numpy(self.edge_index)
        forward = set(zip(edges[0].tolist(), edges[1].tolist()))
        return all((target, source) in forward for source, target in forward)

    # ---- moving --------------------------------------------------------------------------

    def to(self, device: Any) -> Data:
        """A copy whose tensor attributes are on ``device`` (other attributes shared)."""
        copy = type(self).__new__(type(self))
        for name, value in vars(self).items():
            setattr(copy, name, value.to(device) if isinstance(value, ember.Tensor) else value)
        return copy

    def cpu(self) -> Data:
        return self.to("cpu")

    def cuda(self) -> Data:
        return self.to("cuda")

    def __repr__(self) -> str:
        parts = []
        for key, value in self:
            shown = list(value.shape) if isinstance(value, ember.Tensor) else value
            parts.append(f"{key}={shown}")
        return f"{type(self).__name__}({', '.join(parts)})"


def _is_node_index(key: str) -> bool:
    """Attributes holding node ids (``edge_index``, ``face``...) shift when graphs are merged."""
    return "index" in key or key == "face"


class Batch(Data):
    """Several graphs merged into one disconnected graph.

    Node (and edge) tensors are concatenated, node ids in ``edge_index`` are shifted by the
    number of nodes before each graph, and ``batch`` (``int64``, ``(N_total,)``) tells which
    graph each node came from: ``[0, 0, 0, 1, 1]`` for a 3-node and a 2-node graph. ``ptr``
    holds the cumulative node counts ``[0, 3, 5]``. Graph-level attributes (a 0-d ``y``) are
    stacked; non-tensor attributes are collected in lists.
    """

    @classmethod
    def from_data_list(cls, data_list: Sequence[Data]) -> Batch:
        if not data_list:
            raise ValueError("from_data_list needs at least one graph")
        counts = [data.num_nodes for data in data_list]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        batch = cls()
        for key, _ in data_list[0]:
            values = [data[key] for data in data_list]
            if not isinstance(values[0], ember.Tensor):
                batch[key] = list(values)
            elif _is_node_index(key):
                batch[key] = ember.cat([value + int(offset)
                                        for value, offset in zip(values, offsets[:-1])], dim=-1)
            elif values[0].ndim == 0:
                batch[key] = ember.stack(values)
            else:
                batch[key] = ember.cat(values, dim=0)
        device = next((value.device for _, value in data_list[0]
                       if isinstance(value, ember.Tensor)), "cpu")
        graph_of_node = np.repeat(np.arange(len(data_list), dtype=np.int64), counts)
        batch.batch = ember.from_numpy(graph_of_node).to(device)
        batch.ptr = ember.from_numpy(offsets).to(device)
        batch.num_nodes = int(offsets[-1])
        return batch

    @property
    def num_graphs(self) -> int:
        return int(self.ptr.shape[0]) - 1
