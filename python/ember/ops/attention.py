"""Scaled dot-product attention on the fused attention kernels
(``scaled_dot_product_attention_forward``/``scaled_dot_product_attention_backward``,
FlashAttention-style: the (L, S) probabilities are never stored).

Paths:

* the fused kernels, for the forward and the first-order backward;
* when the backward itself is recorded (``create_graph=True``), the engine differentiates the op's
  ``composite`` (the probabilities recomputed in Tensor ops), so gradients of any order work;
* an explicit composite (probabilities materialised) when ``dropout_p > 0`` (the dropout mask
  applies to the probabilities, which the fused kernel never forms) or when a float
  ``attn_mask`` requires grad (the kernel gives the mask no gradient).

Deviation from PyTorch: a query row whose keys are all masked out gets an output of 0 on the
fused path (PyTorch returns NaN there).
"""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from ..autograd import grad_mode
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import cast_back, contiguous, float_inputs
from .creation import rand
from .linalg import matmul
from .softmax import _Softmax, softmax

__all__ = ["scaled_dot_product_attention"]


def _causal_bias(xp, L: int, S: int, dtype):
    """(L, S) additive mask hiding keys j > i from query i (top-left aligned, as PyTorch)."""
    return xp.triu(xp.full((L, S), -np.inf, dtype=dtype), 1)


def _probs(q: Tensor, k: Tensor, mask, is_causal: bool, scale: float) -> Tensor:
    """softmax(scale q k^T + mask [+ causal]) in Tensor ops. q (B, L, E), k (B, S, E), mask a
    Tensor broadcastable to (B, L, S) or None -> (B, L, S)."""
    s = matmul(q, k.mT) * scale
    if mask is not None:
        s = s + mask
    if is_causal:
        s = s + Tensor._make(_causal_bias(backend.xp_of(q._data), q.shape[1], k.shape[1], q._data.dtype))
    return softmax(s, -1)


class _SDPA(Op):
    """out (B, L, Ev) = softmax(scale q k^T + mask [+ causal]) v for q (B, L, E), k (B, S, E),
    v (B, S, Ev) and a constant additive mask array (B or 1, L, S) or None."""

    @staticmethod
    def forward(ctx, q, k, v, mask, is_causal, scale):
        xp = backend.xp_of(q)
        B, L, S, Ev = q.shape[0], q.shape[1], k.shape[1], v.shape[2]
        out = xp.zeros((B, L, Ev), dtype=q.dtype)
        ctx.lse = xp.full((B, L), -np.inf, dtype=q.dtype)
        if out.size and S:
            backend.kernels_of(q).scaled_dot_product_attention_forward(
                contiguous(q), contiguous(k), contiguous(v), mask, is_causal, scale, out, ctx.lse)
        return out

    @staticmethod
    def composite(q, k, v, mask, is_causal, scale):
        """The probabilities materialised (a row with every key masked out gives NaN here)."""
        s = matmul(q, k.mT) * scale
        if mask is not None:
            s = s + (mask if isinstance(mask, Tensor) else Tensor._make(mask))  # the op passes an array
        if is_causal:
            s = s + Tensor._make(_causal_bias(backend.xp_of(q._data), q.shape[1], k.shape[1],
                                              q._data.dtype))
        return matmul(_Softmax.composite(s, 2, False), v)

    @staticmethod
    def backward(ctx, g):
        q, k, v, mask, is_causal, scale = ctx.inputs
        xp = backend.xp_of(q._data)
        gq, gk, gv = (xp.zeros(t.shape, dtype=t._data.dtype) for t in (q, k, v))
        if g.numel() and k.shape[1]:
            backend.kernels_of(q._data).scaled_dot_product_attention_backward(
                contiguous(g._data), contiguous(q._data), contiguous(k._data), contiguous(v._data), mask,
                is_causal, scale, ctx.output(0)._data, ctx.lse, gq, gk, gv)
        return Tensor._make(gq), Tensor._make(gk), Tensor._make(gv), None, None, None


def _additive_mask(attn_mask: Tensor, dtype, like: Tensor) -> Tensor:
    """A bool mask (True = attend) as 0 / -inf; a float mask as is, in the compute dtype."""
    if attn_mask.dtype.name == "bool":
        xp = backend.xp_of(like._data)
        arr = xp.where(attn_mask._data, 0.0, -np.inf).astype(dtype)
        return Tensor._make(arr)
    if not attn_mask.is_floating_point():
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask must be bool or floating point, got "
                           f"{attn_mask.dtype.name}")
    return attn_mask if attn_mask._data.dtype == dtype else attn_mask.to(like.dtype)


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query key^T * scale + mask) value. query (..., L, E), key (..., S, E), value
    (..., S, Ev) -> (..., L, Ev), the leading dimensions broadcast (e.g. (N, heads)). attn_mask
    broadcastable to (..., L, S): bool (True = take part in attention) or float (added to the
    scores). is_causal hides key j from query i when j > i. scale defaults to 1 / sqrt(E).
    dropout_p > 0 drops attention probabilities (on a composite path that materialises them).
    enable_gqa lets key/value have fewer heads (dim -3) than query, each shared by a group."""
    for t, name in ((query, "query"), (key, "key"), (value, "value")):
        if t.ndim < 2:
            raise RuntimeError(f"scaled_dot_product_attention: expected {name} to have at least 2 dimensions "
                               f"(..., length, embedding), got size {list(t.shape)}")
    if query.shape[-1] != key.shape[-1]:
        raise RuntimeError(f"scaled_dot_product_attention: query and key must have the same embedding "
                           f"dimension, got {query.shape[-1]} and {key.shape[-1]}")
    if key.shape[-2] != value.shape[-2]:
        raise RuntimeError(f"scaled_dot_product_attention: key and value must have the same sequence "
                           f"length, got {key.shape[-2]} and {value.shape[-2]}")
    if not 0.0 <= dropout_p <= 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                           "is_causal=True")
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the query heads ({hq}) must be "
                               f"a multiple of the key/value heads ({hk}, {value.shape[-3]})")
        key, value = key.repeat_interleave(hq // hk, -3), value.repeat_interleave(hq // hk, -3)
    (q, k, v), dtype = float_inputs("scaled_dot_product_attention", query, key, value)
    L, S, E, Ev = q.shape[-2], k.shape[-2], q.shape[-1], v.shape[-1]
    lead = tuple(np.broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2]))
    scale = 1.0 / math.sqrt(E) if scale is None else float(scale)
    mask = None if attn_mask is None else _additive_mask(attn_mask, q._data.dtype, q)
    if mask is not None:
        try:
            np.broadcast_shapes(tuple(mask.shape), lead + (L, S))
        except ValueError:
            raise RuntimeError(f"scaled_dot_product_attention: attn_mask of size {list(mask.shape)} does not "
                               f"broadcast to the attention scores' size {list(lead + (L, S))}") from None
    q3 = q.expand(lead + (L, E)).reshape(-1, L, E)
    k3 = k.expand(lead + (S, E)).reshape(-1, S, E)
    v3 = v.expand(lead + (S, Ev)).reshape(-1, S, Ev)
    if dropout_p > 0 or (mask is not None and mask.requires_grad and grad_mode.is_grad_enabled()):
        m3 = None if mask is None else mask.expand(lead + (L, S)).reshape(-1, L, S)
        p = _probs(q3, k3, m3, is_causal, scale)
        if dropout_p > 0:
            keep = rand(tuple(p.shape), dtype=p.dtype, device=p.device) >= dropout_p
            p = p * keep / (1.0 - dropout_p) if dropout_p < 1 else p * 0
        out = matmul(p, v3)
    else:
        m3 = None
        if mask is not None:
            xp = backend.xp_of(q._data)
            mask_lead = tuple(mask.shape[:-2]) if mask.ndim > 2 else ()
            if all(s == 1 for s in mask_lead):  # one mask shared by the whole batch
                m3 = contiguous(xp.broadcast_to(mask._data.reshape(mask.shape[-2:]) if mask.ndim >= 2
                                                else mask._data, (L, S))).reshape(1, L, S)
            else:
                m3 = contiguous(xp.broadcast_to(mask._data, lead + (L, S))).reshape(-1, L, S)
        out = _SDPA.apply(q3, k3, v3, m3, bool(is_causal), scale)
    return cast_back(out.reshape(lead + (L, Ev)), dtype)
