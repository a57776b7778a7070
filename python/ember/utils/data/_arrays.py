"""Moving data between ember tensors and NumPy arrays, for code that works on host arrays.

Datasets, transforms and graph utilities compute with NumPy and hand tensors back; these two
helpers are the only places that cross the boundary.
"""
from __future__ import annotations

from typing import Any

import numpy as np

import ember


def to_numpy(x: Any) -> np.ndarray:
    """``x`` (an ember Tensor, a NumPy array or nested lists of numbers) as a host NumPy array.

    A CPU tensor shares memory with the result; a CUDA tensor is copied to the host.
    """
    if isinstance(x, ember.Tensor):
        return x.detach().to("cpu").numpy()
    return np.asarray(x)


def like_tensor(array: np.ndarray, reference: ember.Tensor) -> ember.Tensor:
    """``array`` as a tensor on the same device as ``reference`` (dtype taken from ``array``)."""
    return ember.from_numpy(np.ascontiguousarray(array)).to(reference.device)
