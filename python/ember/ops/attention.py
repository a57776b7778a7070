"""Scaled dot-product attention on the attention kernels."""
from __future__ import annotations

__all__ = ['scaled_dot_product_attention']


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
    raise NotImplementedError('in progress')
