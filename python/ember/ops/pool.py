"""Pooling, unpooling and resampling on the pool kernels."""
from __future__ import annotations

__all__ = ['max_pool1d', 'max_pool2d', 'avg_pool1d', 'avg_pool2d', 'adaptive_avg_pool1d', 'adaptive_avg_pool2d', 'adaptive_max_pool1d', 'adaptive_max_pool2d', 'max_unpool1d', 'max_unpool2d', 'interpolate', 'upsample', 'upsample_nearest', 'upsample_bilinear', 'pixel_shuffle', 'pixel_unshuffle']


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    raise NotImplementedError('in progress')


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    raise NotImplementedError('in progress')


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    raise NotImplementedError('in progress')


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None):
    raise NotImplementedError('in progress')


def adaptive_avg_pool1d(input, output_size):
    raise NotImplementedError('in progress')


def adaptive_avg_pool2d(input, output_size):
    raise NotImplementedError('in progress')


def adaptive_max_pool1d(input, output_size, return_indices=False):
    raise NotImplementedError('in progress')


def adaptive_max_pool2d(input, output_size, return_indices=False):
    raise NotImplementedError('in progress')


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    raise NotImplementedError('in progress')


def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    raise NotImplementedError('in progress')


def interpolate(input, size=None, scale_factor=None, mode='nearest', align_corners=None, recompute_scale_factor=None, antialias=False):
    raise NotImplementedError('in progress')


def upsample(input, size=None, scale_factor=None, mode='nearest', align_corners=None):
    raise NotImplementedError('in progress')


def upsample_nearest(input, size=None, scale_factor=None):
    raise NotImplementedError('in progress')


def upsample_bilinear(input, size=None, scale_factor=None):
    raise NotImplementedError('in progress')


def pixel_shuffle(input, upscale_factor):
    raise NotImplementedError('in progress')


def pixel_unshuffle(input, downscale_factor):
    raise NotImplementedError('in progress')
