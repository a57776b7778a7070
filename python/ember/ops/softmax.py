"""Softmax family and classification losses on the softmax_xent kernels."""
from __future__ import annotations

__all__ = ['softmax', 'log_softmax', 'softmin', 'cross_entropy', 'nll_loss', 'binary_cross_entropy', 'binary_cross_entropy_with_logits']


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    raise NotImplementedError('in progress')


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    raise NotImplementedError('in progress')


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    raise NotImplementedError('in progress')


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean', label_smoothing=0.0):
    raise NotImplementedError('in progress')


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction='mean'):
    raise NotImplementedError('in progress')


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction='mean'):
    raise NotImplementedError('in progress')


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction='mean', pos_weight=None):
    raise NotImplementedError('in progress')
