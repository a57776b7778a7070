"""ember.graph: edge-list utilities, softmax over neighbours, pooling, batching, the karate
club, and the GCN / GAT layers against dense NumPy references (float64) with gradcheck."""
from __future__ import annotations

import importlib

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck
from ember.graph import (
    Batch,
    Data,
    DataLoader,
    KarateClub,
    add_self_loops,
    degree,
    dense_to_edge_index,
    gcn_norm,
    global_add_pool,
    global_max_pool,
    global_mean_pool,
    karate_club,
    remove_self_loops,
    segment_softmax,
    to_dense_adj,
    to_undirected,
)


def _random_graph(rng, num_nodes=6, num_edges=11):
    """A directed graph without self-loops or repeated edges, as an int64 (2, E) array."""
    pairs = [(i, j) for i in range(num_nodes) for j in range(num_nodes) if i != j]
    chosen = rng.choice(len(pairs), size=num_edges, replace=False)
    return np.array([pairs[k] for k in chosen], dtype=np.int64).T


def _dense(edges: np.ndarray, num_nodes: int, weights=None) -> np.ndarray:
    """adj[i, j] = total weight of the edges i -> j, by looping over the edges."""
    adj = np.zeros((num_nodes, num_nodes))
    for k, (i, j) in enumerate(edges.T):
        adj[i, j] += 1.0 if weights is None else weights[k]
    return adj


def _f64(array, requires_grad=False):
    return ember.tensor(np.asarray(array, dtype=np.float64), dtype=ember.float64,
                        requires_grad=requires_grad)


# ------------------------------------------------------------------------- karate club


def test_karate_club_graph():
    data = karate_club()
    assert data.num_nodes == 34 and data.num_edges == 156 and data.num_node_features == 34
    edges = data.edge_index.numpy()
    assert data.is_undirected() and not data.has_self_loops()
    assert len({(min(i, j), max(i, j)) for i, j in edges.T}) == 78
    degrees = np.bincount(edges[0], minlength=34)
    assert degrees[0] == 16 and degrees[33] == 17 and degrees.sum() == 156
    assert np.bincount(data.y.numpy()).tolist() == [17, 17]
    assert data.y[0].item() == 0 and data.y[33].item() == 1
    assert np.flatnonzero(data.train_mask.numpy()).tolist() == [0, 33]
    dataset = KarateClub()
    assert len(dataset) == 1 and dataset.num_classes == 2 and dataset.num_features == 34


def test_karate_club_matches_networkx():
    nx = pytest.importorskip("networkx")
    graph = nx.karate_club_graph()
    edges = karate_club().edge_index.numpy()
    ours = {(int(i), int(j)) for i, j in edges.T}
    theirs = {(i, j) for i, j in graph.edges()} | {(j, i) for i, j in graph.edges()}
    assert ours == theirs
    factions = [int(graph.nodes[n]["club"] == "Officer") for n in range(34)]
    assert karate_club().y.tolist() == factions


# ------------------------------------------------------------------- edge-list helpers


def test_to_dense_adj_and_back(rng):
    edges = _random_graph(rng)
    weights = rng.random(edges.shape[1])
    adj = to_dense_adj(ember.tensor(edges), edge_attr=_f64(weights))
    assert tuple(adj.shape) == (1, 6, 6)
    np.testing.assert_allclose(adj.numpy()[0], _dense(edges, 6, weights), rtol=1e-12)
    edge_index, edge_weight = dense_to_edge_index(adj[0])
    np.testing.assert_allclose(_dense(edge_index.numpy(), 6, edge_weight.numpy()),
                               _dense(edges, 6, weights), rtol=1e-12)
    repeated = to_dense_adj(ember.tensor([[0, 0, 1], [1, 1, 0]]))
    assert repeated.numpy()[0].tolist() == [[0, 2], [1, 0]]  # repeated edges add up


def test_to_dense_adj_batched_and_gradient(rng):
    first, second = _random_graph(rng, 4, 5), _random_graph(rng, 3, 4)
    batch = Batch.from_data_list([Data(x=ember.zeros(4, 1), edge_index=ember.tensor(first)),
                                  Data(x=ember.zeros(3, 1), edge_index=ember.tensor(second))])
    adj = to_dense_adj(batch.edge_index, batch.batch).numpy()
    assert adj.shape == (2, 4, 4)
    np.testing.assert_array_equal(adj[0], _dense(first, 4))
    np.testing.assert_array_equal(adj[1, :3, :3], _dense(second, 3))
    assert not adj[1, 3].any() and not adj[1, :, 3].any()
    edge_index = ember.tensor(first)
    assert gradcheck(lambda w: to_dense_adj(edge_index, edge_attr=w),
                     (_f64(rng.random(5), requires_grad=True),))


def test_self_loops_degree_and_undirected(rng):
    edge_index = ember.tensor([[0, 1, 1, 2], [1, 1, 2, 0]])
    weights = ember.tensor([1.0, 2.0, 3.0, 4.0])
    no_loops, kept = remove_self_loops(edge_index, weights)
    assert no_loops.tolist() == [[0, 1, 2], [1, 2, 0]] and kept.tolist() == [1.0, 3.0, 4.0]
    looped, filled = add_self_loops(no_loops, kept, fill_value=0.5, num_nodes=4)
    assert looped.tolist() == [[0, 1, 2, 0, 1, 2, 3], [1, 2, 0, 0, 1, 2, 3]]
    assert filled.tolist() == [1.0, 3.0, 4.0, 0.5, 0.5, 0.5, 0.5]
    assert degree(edge_index[1], 4).tolist() == [1.0, 2.0, 1.0, 0.0]
    assert to_undirected(ember.tensor([[0, 2], [1, 1]])).tolist() == [[0, 1, 1, 2], [1, 0, 2, 1]]


def test_gcn_norm_is_symmetric_normalisation(rng):
    edges = _random_graph(rng)
    edge_index, weight = gcn_norm(ember.tensor(edges), num_nodes=6, dtype=ember.float64)
    # Dense reference: A_hat = A + I, d_i = incoming weight of node i, entry j -> i scaled by
    # 1 / sqrt(d_j d_i).
    a_hat = _dense(edges, 6) + np.eye(6)
    d = a_hat.sum(axis=0)
    expected = a_hat / np.sqrt(np.outer(d, d))
    np.testing.assert_allclose(_dense(edge_index.numpy(), 6, weight.numpy()), expected, rtol=1e-12)
    sym = to_undirected(ember.tensor(edges)).numpy()
    ei, w = gcn_norm(ember.tensor(sym), num_nodes=6, dtype=ember.float64)
    np.testing.assert_allclose(_dense(ei.numpy(), 6, w.numpy()),
                               _dense(ei.numpy(), 6, w.numpy()).T, rtol=1e-12)


# ----------------------------------------------------------------------- segment softmax


def test_segment_softmax_matches_reference_and_gradcheck(rng):
    index = np.array([2, 0, 2, 2, 1, 0, 4])
    scores = rng.standard_normal((7, 3)) * 3
    out = segment_softmax(_f64(scores), ember.tensor(index), 5).numpy()
    expected = np.zeros_like(scores)
    for segment in np.unique(index):
        members = index == segment
        shifted = np.exp(scores[members] - scores[members].max(axis=0))
        expected[members] = shifted / shifted.sum(axis=0)
    np.testing.assert_allclose(out, expected, rtol=1e-12)
    huge = segment_softmax(_f64([1000.0, 1001.0]), ember.tensor([0, 0])).numpy()
    np.testing.assert_allclose(huge, [1 / (1 + np.e), np.e / (1 + np.e)], rtol=1e-12)
    assert gradcheck(lambda s: segment_softmax(s, ember.tensor(index), 5),
                     (_f64(scores, requires_grad=True),))


# ----------------------------------------------------------------- batching and pooling


def test_batch_from_data_list_offsets_and_vectors(rng):
    graphs = [Data(x=_f64(rng.random((n, 2))), edge_index=ember.tensor(_random_graph(rng, n, 2)),
                   y=ember.tensor(label)) for n, label in ((3, 1), (4, 0), (2, 1))]
    batch = Batch.from_data_list(graphs)
    assert batch.num_graphs == 3 and batch.num_nodes == 9
    assert batch.batch.tolist() == [0, 0, 0, 1, 1, 1, 1, 2, 2]
    assert batch.ptr.tolist() == [0, 3, 7, 9] and batch.y.tolist() == [1, 0, 1]
    expected_edges = np.concatenate([g.edge_index.numpy() + offset
                                     for g, offset in zip(graphs, (0, 3, 7))], axis=1)
    np.testing.assert_array_equal(batch.edge_index.numpy(), expected_edges)
    np.testing.assert_array_equal(batch.x.numpy(), np.concatenate([g.x.numpy() for g in graphs]))
    loader = DataLoader(graphs, batch_size=2)
    sizes = [b.num_graphs for b in loader]
    assert sizes == [2, 1] and "Batch(" in repr(next(iter(loader)))


def test_global_pools_match_numpy_and_gradcheck(rng):
    x = rng.standard_normal((7, 3))
    batch = np.array([0, 0, 1, 1, 1, 2, 2])
    sums = np.stack([x[batch == g].sum(axis=0) for g in range(3)])
    means = np.stack([x[batch == g].mean(axis=0) for g in range(3)])
    maxima = np.stack([x[batch == g].max(axis=0) for g in range(3)])
    b = ember.tensor(batch)
    np.testing.assert_allclose(global_add_pool(_f64(x), b).numpy(), sums, rtol=1e-12)
    np.testing.assert_allclose(global_mean_pool(_f64(x), b).numpy(), means, rtol=1e-12)
    np.testing.assert_allclose(global_max_pool(_f64(x), b).numpy(), maxima, rtol=1e-12)
    assert tuple(global_add_pool(_f64(x), None).shape) == (1, 3)
    for pool in (global_add_pool, global_mean_pool, global_max_pool):
        assert gradcheck(lambda t, pool=pool: pool(t, b), (_f64(x, requires_grad=True),))


def test_data_to_device_keeps_values(device):
    data = karate_club().to(device)
    assert data.x.device == ember.device(device) and data.edge_index.device == ember.device(device)
    assert data.num_nodes == 34 and data.edge_index.cpu().tolist() == karate_club().edge_index.tolist()
    _norm_index, norm_weight = gcn_norm(data.edge_index, num_nodes=34)
    assert norm_weight.device == ember.device(device)


# ---------------------------------------------------------------------- GCN and GAT layers

def _has_nn_module() -> bool:
    try:
        return hasattr(importlib.import_module("ember.nn"), "Module")
    except ImportError:
        return False


needs_nn = pytest.mark.skipif(not _has_nn_module(), reason="ember.nn.Module is not available yet")


def _numeric_parameter_grad(parameter, loss, eps=1e-6):
    """Central differences of ``loss()`` with respect to every entry of ``parameter``."""
    values = parameter.data.numpy()
    grad = np.zeros_like(values)
    for position in np.ndindex(values.shape):
        original = values[position]
        values[position] = original + eps
        plus = loss().item()
        values[position] = original - eps
        minus = loss().item()
        values[position] = original
        grad[position] = (plus - minus) / (2 * eps)
    return grad


def _check_parameter_grads(layer, loss):
    layer.zero_grad()
    loss().backward()
    for name, parameter in layer.named_parameters():
        expected = _numeric_parameter_grad(parameter, loss)
        np.testing.assert_allclose(parameter.grad.numpy(), expected, rtol=1e-5, atol=1e-8,
                                   err_msg=name)


@needs_nn
def test_gcn_conv_matches_dense_reference_and_gradcheck(rng):
    from ember.graph import GCNConv

    edges = _random_graph(rng)
    layer = GCNConv(4, 3).double()
    layer.bias.data = _f64(rng.standard_normal(3))
    x = rng.standard_normal((6, 4))
    out = layer(_f64(x), ember.tensor(edges)).detach().numpy()
    a_hat = _dense(edges, 6) + np.eye(6)
    d = a_hat.sum(axis=0)
    propagate = (a_hat / np.sqrt(np.outer(d, d))).T  # row i: weights of the edges into i
    weight, bias = layer.lin.weight.detach().numpy(), layer.bias.detach().numpy()
    np.testing.assert_allclose(out, propagate @ x @ weight.T + bias, rtol=1e-10)
    edge_index = ember.tensor(edges)
    assert gradcheck(lambda t, w: layer(t, edge_index, w),
                     (_f64(x, requires_grad=True), _f64(rng.random(11) + 0.5, requires_grad=True)))
    weights = rng.standard_normal((6, 3))
    _check_parameter_grads(layer, lambda: (layer(_f64(x), edge_index) * _f64(weights)).sum())


def _gat_reference(x, edges, weight, att_src, att_dst, bias, heads, channels, concat, slope):
    """GAT by looping over target nodes: softmax of LeakyReLU scores over in-neighbours + self."""
    n = x.shape[0]
    h = (x @ weight.T).reshape(n, heads, channels)
    out = np.zeros((n, heads, channels))
    for i in range(n):
        sources = [j for j, target in edges.T if target == i and j != i] + [i]
        for k in range(heads):
            scores = np.array([h[j, k] @ att_src[0, k] + h[i, k] @ att_dst[0, k] for j in sources])
            scores = np.where(scores > 0, scores, slope * scores)
            alpha = np.exp(scores - scores.max())
            alpha /= alpha.sum()
            out[i, k] = sum(a * h[j, k] for a, j in zip(alpha, sources))
    out = out.reshape(n, heads * channels) if concat else out.mean(axis=1)
    return out + bias


@needs_nn
@pytest.mark.parametrize("concat", [True, False])
def test_gat_conv_matches_reference_and_gradcheck(rng, concat):
    from ember.graph import GATConv

    edges = _random_graph(rng)
    layer = GATConv(4, 3, heads=2, concat=concat, negative_slope=0.2).double()
    layer.bias.data = _f64(rng.standard_normal(layer.bias.shape[0]))
    x = rng.standard_normal((6, 4))
    edge_index = ember.tensor(edges)
    out, (used_edges, alpha) = layer(_f64(x), edge_index, return_attention_weights=True)
    params = {name: p.detach().numpy() for name, p in layer.named_parameters()}
    expected = _gat_reference(x, edges, params["lin.weight"], params["att_src"],
                              params["att_dst"], params["bias"], 2, 3, concat, 0.2)
    np.testing.assert_allclose(out.detach().numpy(), expected, rtol=1e-10)
    totals = np.zeros((6, 2))
    np.add.at(totals, used_edges.numpy()[1], alpha.detach().numpy())
    np.testing.assert_allclose(totals, 1.0, rtol=1e-12)  # attention over each neighbourhood
    assert gradcheck(lambda t: layer(t, edge_index), (_f64(x, requires_grad=True),))
    weights = rng.standard_normal(tuple(out.shape))
    _check_parameter_grads(layer, lambda: (layer(_f64(x), edge_index) * _f64(weights)).sum())


@needs_nn
def test_gcn_learns_the_karate_club_split():
    from ember.graph import GCNConv

    ember.manual_seed(0)
    data = karate_club()
    first, second = GCNConv(34, 8), GCNConv(8, 2)
    parameters = list(first.parameters()) + list(second.parameters())
    labelled = ember.tensor(np.flatnonzero(data.train_mask.numpy()))
    targets = data.y.index_select(0, labelled).reshape(-1, 1)
    for _ in range(100):
        hidden = first(data.x, data.edge_index).relu()
        logits = second(hidden, data.edge_index)
        log_probs = logits.index_select(0, labelled).log_softmax(dim=1)
        loss = -log_probs.gather(1, targets).mean()
        for p in parameters:
            p.grad = None
        loss.backward()
        for p in parameters:
            p.data = p.data - 0.2 * p.grad
    accuracy = (logits.argmax(dim=1) == data.y).float().mean().item()
    assert accuracy > 0.7  # two labelled nodes reveal most of the split through the edges
