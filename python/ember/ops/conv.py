"""Convolutions and linear maps on the GEMM and conv kernels."""
from __future__ import annotations

__all__ = ['linear', 'bilinear', 'conv1d', 'conv2d', 'conv_transpose1d', 'conv_transpose2d', 'unfold', 'fold']


def linear(input, weight, bias=None):
    raise NotImplementedError('in progress')


def bilinear(input1, input2, weight, bias=None):
    raise NotImplementedError('in progress')


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    raise NotImplementedError('in progress')


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    raise NotImplementedError('in progress')


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    raise NotImplementedError('in progress')


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    raise NotImplementedError('in progress')


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    raise NotImplementedError('in progress')


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    raise NotImplementedError('in progress')
