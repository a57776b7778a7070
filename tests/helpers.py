"""Helpers shared by the Tensor-level tests: building float64 (or other dtype) Tensors on a device
from NumPy data, integer labels, reading a Tensor back to NumPy, the float64 references more than
one test module uses (those of the op table's rows come from ember.ops.table) and the per-device
fixture."""
from __future__ import annotations

import math

import ember
import numpy as np
import pytest


def tensor(a, device="cpu", requires_grad=False, dtype=ember.float64):
    """A Tensor holding `a` (array-like) on `device`, float64 unless told."""
    return ember.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


def labels(a, device="cpu"):
    """An int64 Tensor of class indices on `device`."""
    return ember.tensor(np.asarray(a), dtype=ember.int64, device=device)


def host(t) -> np.ndarray:
    """A Tensor's values as a NumPy array (copied from the device on CUDA)."""
    return t.detach().cpu().numpy()


def gelu_ref(x, approximate="none"):
    """PyTorch's GELU in float64: x * Phi(x), or its tanh approximation."""
    if approximate == "tanh":
        return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))
    return 0.5 * x * (1 + np.vectorize(math.erf, otypes=[float])(x / math.sqrt(2)))


def normalized_ref(x, axes, eps):
    """(x - mean) / sqrt(biased variance + eps) over ``axes``: the core of every norm layer."""
    return (x - x.mean(axis=axes, keepdims=True)) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


DEVICE = ["cpu"]  # the device of the running test, for module-level helpers that build tensors


def each_device_fixture():
    """An autouse fixture (bind it as ``device`` in a test module) that runs every test of the
    module once per device, the cuda run marked ``cuda`` (it skips without a GPU), and keeps
    ``DEVICE[0]`` on the running test's device."""

    @pytest.fixture(autouse=True, params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
    def device(request):
        DEVICE[0] = request.param
        yield request.param
        DEVICE[0] = "cpu"

    return device
