"""Edge-list utilities, neighbourhood softmax and graph pooling.

Everything that touches feature values (edge weights, node features, attention scores) is
written with differentiable ember ops: ``index_select`` gathers per-edge values from nodes,
``index_add`` sums per-edge values into their target nodes. Only index bookkeeping (which
edge goes where) is done in NumPy.
"""
from __future__ import annotations

import numpy as np

import ember
from ember.utils.data._arrays import like_tensor, to_numpy

__all__ = [
    "add_self_loops",
    "degree",
    "dense_to_edge_index",
    "dense_to_sparse",
    "gcn_norm",
    "global_add_pool",
    "global_max_pool",
    "global_mean_pool",
    "remove_self_loops",
    "scatter_sum",
    "segment_softmax",
    "to_dense_adj",
    "to_undirected",
]


def _num_nodes(edge_index: ember.Tensor, num_nodes: int | None) -> int:
    if num_nodes is not None:
        return num_nodes
    return int(to_numpy(edge_index).max()) + 1 if edge_index.numel() else 0


def scatter_sum(src: ember.Tensor, index: ember.Tensor, dim_size: int) -> ember.Tensor:
    """``out[i] = sum of src[k] over the k with index[k] == i``; ``out`` is ``(dim_size, ...)``.

    Differentiable: the gradient of ``src[k]`` is ``grad_out[index[k]]``.
    """
    out = ember.zeros((dim_size,) + tuple(src.shape[1:]), dtype=src.dtype, device=src.device)
    return out.index_add(0, index, src)


def degree(index: ember.Tensor, num_nodes: int | None = None,
           dtype: ember.dtype | None = None) -> ember.Tensor:
    """How many times each node id ``0 .. num_nodes - 1`` occurs in the 1-D ``index``.

    ``degree(edge_index[1], N)`` is each node's in-degree.
    """
    count = _num_nodes(index, num_nodes)
    ones = ember.ones(index.shape[0], dtype=dtype or ember.float32, device=index.device)
    return scatter_sum(ones, index, count)


def remove_self_loops(edge_index: ember.Tensor, edge_attr: ember.Tensor | None = None
                      ) -> tuple[ember.Tensor, ember.Tensor | None]:
    """Drop the edges ``i -> i``; returns ``(edge_index, edge_attr)``."""
    keep = ember.from_numpy(np.flatnonzero(np.not_equal(*to_numpy(edge_index))))
    keep = keep.to(edge_index.device)
    edge_index = edge_index.index_select(1, keep)
    return edge_index, None if edge_attr is None else edge_attr.index_select(0, keep)


def add_self_loops(edge_index: ember.Tensor, edge_attr: ember.Tensor | None = None,
                   fill_value: float = 1.0, num_nodes: int | None = None
                   ) -> tuple[ember.Tensor, ember.Tensor | None]:
    """Append the edges ``i -> i`` for every node; their ``edge_attr`` is ``fill_value``.

    Returns ``(edge_index, edge_attr)`` with ``N`` more columns / rows at the end.
    """
    count = _num_nodes(edge_index, num_nodes)
    loop = ember.arange(count, dtype=edge_index.dtype, device=edge_index.device)
    edge_index = ember.cat([edge_index, ember.stack([loop, loop])], dim=1)
    if edge_attr is not None:
        fill = ember.full((count,) + tuple(edge_attr.shape[1:]), fill_value, dtype=edge_attr.dtype,
                          device=edge_attr.device)
        edge_attr = ember.cat([edge_attr, fill], dim=0)
    return edge_index, edge_attr


def to_undirected(edge_index: ember.Tensor, num_nodes: int | None = None) -> ember.Tensor:
    """Every edge in both directions, each once, sorted by (source, target)."""
    count = _num_nodes(edge_index, num_nodes)
    edges = to_numpy(edge_index)
    both = np.concatenate([edges, edges[::-1]], axis=1)
    keys = np.unique(both[0] * count + both[1])  # one integer per edge: sorts and deduplicates
    return like_tensor(np.stack([keys // count, keys % count]).astype(np.int64), edge_index)


_append_self_loops = add_self_loops  # gcn_norm's argument of the same name hides the function


def gcn_norm(edge_index: ember.Tensor, edge_weight: ember.Tensor | None = None,
             num_nodes: int | None = None, add_self_loops: bool = True,
             dtype: ember.dtype | None = None
             ) -> tuple[ember.Tensor, ember.Tensor]:
    """Kipf & Welling's symmetric normalisation ``D^-1/2 (A + I) D^-1/2`` as edge weights.

    ``A + I`` is the adjacency with self-loops (weights ``edge_weight``, default 1) and ``D``
    its degree matrix (summed over incoming edges). Edge ``j -> i`` gets the weight
    ``w_ji / sqrt(d_j d_i)``. Returns ``(edge_index, weight)`` with the self-loops included.
    """
    count = _num_nodes(edge_index, num_nodes)
    if edge_weight is None:
        edge_weight = ember.ones(edge_index.shape[1], dtype=dtype or ember.float32,
                                 device=edge_index.device)
    if add_self_loops:
        edge_index, edge_weight = _append_self_loops(edge_index, edge_weight, 1.0, count)
    source, target = edge_index[0], edge_index[1]
    deg = scatter_sum(edge_weight, target, count)
    # Nodes without incoming edges have degree 0: give them 0, not infinity.
    inv_sqrt = ember.where(deg > 0, deg.clamp(min=1e-12).pow(-0.5), ember.zeros_like(deg))
    weight = inv_sqrt.index_select(0, source) * edge_weight * inv_sqrt.index_select(0, target)
    return edge_index, weight


def segment_softmax(src: ember.Tensor, index: ember.Tensor,
                    num_segments: int | None = None) -> ember.Tensor:
    """Softmax over the entries of ``src`` (``(E,)`` or ``(E, H)``) that share an ``index``.

    For attention over neighbours, ``index = edge_index[1]``: the scores of all edges into
    node ``i`` are normalised to sum to 1. Each segment's maximum is subtracted first, so
    ``exp`` cannot overflow; that shift is a constant per segment and leaves both the values
    and the gradients of the softmax unchanged.
    """
    count = _num_nodes(index, num_segments)
    values, segments = to_numpy(src), to_numpy(index)
    segment_max = np.full((count,) + values.shape[1:], -np.inf, dtype=values.dtype)
    np.maximum.at(segment_max, segments, values)
    shift = like_tensor(segment_max[segments], src)
    exps = (src - shift).exp()
    totals = scatter_sum(exps, index, count)
    return exps / totals.index_select(0, index)


def to_dense_adj(edge_index: ember.Tensor, batch: ember.Tensor | None = None,
                 edge_attr: ember.Tensor | None = None,
                 max_num_nodes: int | None = None) -> ember.Tensor:
    """The dense adjacency matrices ``(B, N, N)`` (``B = 1`` without ``batch``).

    ``adj[b, i, j]`` is the weight (``edge_attr``, default 1; repeated edges add up) of edge
    ``i -> j`` in graph ``b``; ``N`` is the largest graph's node count or ``max_num_nodes``.
    Differentiable with respect to ``edge_attr``.
    """
    edges = to_numpy(edge_index)
    if batch is None:
        graph_of_node = np.zeros(_num_nodes(edge_index, max_num_nodes), dtype=np.int64)
    else:
        graph_of_node = to_numpy(batch)
    sizes = np.bincount(graph_of_node) if graph_of_node.size else np.zeros(1, np.int64)
    first_node = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    side = int(max_num_nodes if max_num_nodes is not None else sizes.max(initial=0))
    graph = graph_of_node[edges[0]]
    source, target = edges[0] - first_node[graph], edges[1] - first_node[graph]
    inside = (source < side) & (target < side)
    flat = (graph * side + source) * side + target  # position in the flattened (B, N, N)
    if edge_attr is None:
        weights = ember.ones(int(inside.sum()), device=edge_index.device)
    else:
        weights = edge_attr.index_select(0, like_tensor(np.flatnonzero(inside), edge_index))
    out = scatter_sum(weights, like_tensor(flat[inside], edge_index), len(sizes) * side * side)
    return out.reshape((len(sizes), side, side) + tuple(weights.shape[1:]))


def dense_to_edge_index(adj: ember.Tensor) -> tuple[ember.Tensor, ember.Tensor]:
    """The non-zero entries of ``adj`` (``(N, N)``, or ``(B, N, N)`` merged into one graph
    with graph ``b``'s nodes numbered from ``b * N``) as ``(edge_index, edge_weight)``."""
    values = to_numpy(adj)
    if values.ndim not in (2, 3):
        raise ValueError(f"adj should be (N, N) or (B, N, N), got shape {values.shape}")
    side = values.shape[-1]
    flat = np.flatnonzero(values)
    graph, rest = np.divmod(flat, side * side)
    source, target = np.divmod(rest, side)
    edge_index = np.stack([graph * side + source, graph * side + target]).astype(np.int64)
    weights = adj.reshape(-1).index_select(0, like_tensor(flat.astype(np.int64), adj))
    return like_tensor(edge_index, adj), weights


dense_to_sparse = dense_to_edge_index  # PyTorch Geometric's name


def _graph_count(batch: ember.Tensor, size: int | None) -> int:
    return size if size is not None else int(to_numpy(batch).max()) + 1


def global_add_pool(x: ember.Tensor, batch: ember.Tensor | None,
                    size: int | None = None) -> ember.Tensor:
    """Sum the node features of each graph: ``(N, F)`` -> ``(B, F)`` (``(1, F)`` without batch)."""
    if batch is None:
        return x.sum(dim=0, keepdim=True)
    return scatter_sum(x, batch, _graph_count(batch, size))


def global_mean_pool(x: ember.Tensor, batch: ember.Tensor | None,
                     size: int | None = None) -> ember.Tensor:
    """Average the node features of each graph: ``(N, F)`` -> ``(B, F)``."""
    if batch is None:
        return x.mean(dim=0, keepdim=True)
    count = _graph_count(batch, size)
    nodes = degree(batch, count, dtype=x.dtype).clamp(min=1)
    return scatter_sum(x, batch, count) / nodes.reshape(-1, *([1] * (x.ndim - 1)))


def global_max_pool(x: ember.Tensor, batch: ember.Tensor | None,
                    size: int | None = None) -> ember.Tensor:
    """Feature-wise maximum over each graph's nodes: ``(N, F)`` -> ``(B, F)``.

    The gradient flows to the node holding each maximum (the first one on ties); graphs
    without nodes give 0.
    """
    if batch is None:
        return x.amax(dim=0, keepdim=True)
    count = _graph_count(batch, size)
    values, graphs = to_numpy(x), to_numpy(batch)
    best = np.full((count,) + values.shape[1:], -np.inf, dtype=values.dtype)
    np.maximum.at(best, graphs, values)
    # Row of the first node reaching its graph's maximum, per graph and feature.
    rows = np.where(values == best[graphs], np.arange(len(values)).reshape(-1, *[1] * (values.ndim - 1)),
                    len(values))
    first = np.full(best.shape, len(values), dtype=np.int64)
    np.minimum.at(first, graphs, rows)
    empty = first == len(values)
    first[empty] = 0
    pooled = x.gather(0, like_tensor(first, x))
    if empty.any():
        pooled = pooled * like_tensor((~empty).astype(values.dtype), x)
    return pooled
