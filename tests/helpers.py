"""Helpers shared by the Tensor-level tests: building float64 (or other dtype) Tensors on a device
from NumPy data, integer labels, and reading a Tensor back to NumPy."""
from __future__ import annotations

import ember
import numpy as np


def tensor(a, device="cpu", requires_grad=False, dtype=ember.float64):
    """A Tensor holding `a` (array-like) on `device`, float64 unless told."""
    return ember.tensor(np.asarray(a), dtype=dtype, device=device, requires_grad=requires_grad)


def labels(a, device="cpu"):
    """An int64 Tensor of class indices on `device`."""
    return ember.tensor(np.asarray(a), dtype=ember.int64, device=device)


def host(t) -> np.ndarray:
    """A Tensor's values as a NumPy array (copied from the device on CUDA)."""
    return t.detach().cpu().numpy()
