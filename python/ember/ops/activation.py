"""Activations on the elementwise kernels."""
from __future__ import annotations

__all__ = ['gelu', 'silu']


def gelu(input, approximate='none'):
    raise NotImplementedError('in progress')


def silu(input, inplace=False):
    raise NotImplementedError('in progress')
