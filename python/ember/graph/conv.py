"""Message-passing layers: graph convolution (GCN) and graph attention (GAT).

Both compute, for every node ``i``, a weighted sum of transformed features of the nodes
``j`` with an edge ``j -> i`` (its neighbours, itself included through a self-loop):

    out_i = sum_j w_ji * (W x_j) + b

GCN fixes ``w_ji = 1 / sqrt(d_j d_i)`` from the degrees; GAT learns ``w_ji`` as a softmax of
attention scores over ``i``'s neighbours. The sum is computed on the edge list: gather
``W x_j`` for every edge (``index_select``), scale it, and add it into row ``i``
(``index_add``); both are differentiable ember ops, so autograd handles the backward pass.
"""
from __future__ import annotations

import ember
from ember import nn
from ember.nn import functional as F

from .utils import add_self_loops, gcn_norm, remove_self_loops, scatter_sum, segment_softmax

__all__ = ["GATConv", "GCNConv"]


class GCNConv(nn.Module):
    """Kipf & Welling's graph convolution: ``X' = D^-1/2 (A + I) D^-1/2 X W + b``.

    Args:
        in_channels, out_channels: feature sizes of ``x`` ``(N, in)`` and the output ``(N, out)``.
        bias: add a learnable bias.
        add_self_loops: include each node's own features (the ``+ I``).
        normalize: apply the symmetric degree normalisation; without it the edge weights
            (1 by default) are used as they are and no self-loops are added.

    ``forward(x, edge_index, edge_weight=None)``: ``edge_weight`` ``(E,)`` weights the edges.
    Parameters: ``lin.weight`` ``(out, in)`` (Glorot-initialised) and ``bias`` ``(out,)``.
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True,
                 add_self_loops: bool = True, normalize: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.add_self_loops = add_self_loops
        self.normalize = normalize
        self.lin = nn.Linear(in_channels, out_channels, bias=False)
        if bias:
            self.bias = nn.Parameter(ember.zeros(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin.weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: ember.Tensor, edge_index: ember.Tensor,
                edge_weight: ember.Tensor | None = None) -> ember.Tensor:
        num_nodes = x.shape[0]
        if self.normalize:
            edge_index, edge_weight = gcn_norm(edge_index, edge_weight, num_nodes,
                                               self.add_self_loops, dtype=x.dtype)
        elif edge_weight is None:
            edge_weight = ember.ones(edge_index.shape[1], dtype=x.dtype, device=x.device)
        h = self.lin(x)
        messages = h.index_select(0, edge_index[0]) * edge_weight.reshape(-1, 1)
        out = scatter_sum(messages, edge_index[1], num_nodes)
        return out if self.bias is None else out + self.bias

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}"


class GATConv(nn.Module):
    """Veličković et al.'s graph attention layer.

    For each head, with ``h = W x``: the score of edge ``j -> i`` is
    ``e_ji = LeakyReLU(a_src . h_j + a_dst . h_i)``, the weights ``alpha_ji`` are the softmax
    of ``e_ji`` over all ``j`` pointing at ``i``, and ``out_i = sum_j alpha_ji h_j``. Heads are
    concatenated (``concat=True``, output ``(N, heads * out)``) or averaged (``(N, out)``).

    Args:
        in_channels, out_channels: feature sizes (per head for the output).
        heads: number of independent attention heads.
        concat: concatenate the heads (else average them).
        negative_slope: of the LeakyReLU on the scores.
        dropout: dropout on the attention weights during training.
        add_self_loops: let every node attend to itself.
        bias: add a learnable bias.

    ``forward(x, edge_index, return_attention_weights=False)``; with
    ``return_attention_weights=True`` it returns ``(out, (edge_index, alpha))`` where
    ``alpha`` ``(E, heads)`` are the weights used (self-loops included).
    Parameters: ``lin.weight`` ``(heads * out, in)``, ``att_src`` and ``att_dst``
    ``(1, heads, out)``, ``bias``.
    """

    def __init__(self, in_channels: int, out_channels: int, heads: int = 1, concat: bool = True,
                 negative_slope: float = 0.2, dropout: float = 0.0, add_self_loops: bool = True,
                 bias: bool = True) -> None:
        super().__init__()
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.heads = heads
        self.concat = concat
        self.negative_slope = negative_slope
        self.dropout = dropout
        self.add_self_loops = add_self_loops
        self.lin = nn.Linear(in_channels, heads * out_channels, bias=False)
        self.att_src = nn.Parameter(ember.empty(1, heads, out_channels))
        self.att_dst = nn.Parameter(ember.empty(1, heads, out_channels))
        if bias:
            self.bias = nn.Parameter(ember.zeros(heads * out_channels if concat else out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for weight in (self.lin.weight, self.att_src, self.att_dst):
            nn.init.xavier_uniform_(weight)
        if self.bias is not None:
            nn.init.zeros_(self.bias)

    def forward(self, x: ember.Tensor, edge_index: ember.Tensor,
                return_attention_weights: bool = False
                ) -> ember.Tensor | tuple[ember.Tensor, tuple[ember.Tensor, ember.Tensor]]:
        num_nodes, heads, channels = x.shape[0], self.heads, self.out_channels
        if self.add_self_loops:  # exactly one self-loop per node
            edge_index, _ = remove_self_loops(edge_index)
            edge_index, _ = add_self_loops(edge_index, num_nodes=num_nodes)
        source, target = edge_index[0], edge_index[1]
        h = self.lin(x).reshape(num_nodes, heads, channels)
        score_src = (h * self.att_src).sum(dim=-1)  # (N, heads): a_src . h_j for every node
        score_dst = (h * self.att_dst).sum(dim=-1)
        scores = F.leaky_relu(score_src.index_select(0, source) + score_dst.index_select(0, target),
                              self.negative_slope)  # (E, heads)
        alpha = segment_softmax(scores, target, num_nodes)
        dropped = F.dropout(alpha, p=self.dropout, training=self.training)
        messages = h.index_select(0, source) * dropped.reshape(-1, heads, 1)  # (E, heads, C)
        out = scatter_sum(messages, target, num_nodes)  # (N, heads, C)
        out = out.reshape(num_nodes, heads * channels) if self.concat else out.mean(dim=1)
        if self.bias is not None:
            out = out + self.bias
        if return_attention_weights:
            return out, (edge_index, alpha)
        return out

    def extra_repr(self) -> str:
        return f"{self.in_channels}, {self.out_channels}, heads={self.heads}"
