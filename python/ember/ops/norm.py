"""Normalisation layers on the norm kernels."""
from __future__ import annotations

__all__ = ['batch_norm', 'instance_norm', 'layer_norm', 'group_norm']


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-05):
    raise NotImplementedError('in progress')


def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True, momentum=0.1, eps=1e-05):
    raise NotImplementedError('in progress')


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-05):
    raise NotImplementedError('in progress')


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-05):
    raise NotImplementedError('in progress')
