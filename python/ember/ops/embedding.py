"""Embedding lookup: ``weight[indices]`` as one op whose weight gradient is an index_add."""
from __future__ import annotations

from .. import backend
from ..autograd.function import Op
from ..tensor import Tensor

__all__ = ["embedding_lookup"]


class _Embedding(Op):
    """``weight[indices]``; the weight gradient adds each output row's gradient into its row,
    skipping ``padding_idx`` and optionally dividing by the index's frequency in the batch."""

    needs_input_values = False

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        ctx.num = weight.shape[0]
        return weight[indices]

    @staticmethod
    def backward(ctx, g):
        idx = ctx.inputs[1].reshape(-1)
        rows = g.reshape(-1, g.shape[-1])
        xp = backend.xp_of(idx._data)
        if ctx.padding_idx is not None or ctx.scale:
            factor = xp.ones(idx.shape, dtype=g._data.dtype)
            if ctx.scale:
                counts = xp.bincount(idx._data, minlength=ctx.num)
                factor = factor / counts[idx._data]
            if ctx.padding_idx is not None:
                factor = factor * (idx._data != ctx.padding_idx)
            rows = rows * Tensor._make(factor.astype(g._data.dtype)).unsqueeze(1)
        zeros = Tensor._make(xp.zeros((ctx.num, g.shape[-1]), dtype=g._data.dtype))
        return zeros.index_add(0, idx, rows), None, None, None


def embedding_lookup(weight: Tensor, indices: Tensor, padding_idx: int | None,
                     scale_grad_by_freq: bool) -> Tensor:
    """Rows of ``weight`` (V, D) for integer ``indices``: ``(*indices, D)``. ``padding_idx``
    (already in [0, V)) gets no gradient; ``scale_grad_by_freq`` divides by each index's count."""
    return _Embedding.apply(weight, indices, padding_idx, scale_grad_by_freq)
