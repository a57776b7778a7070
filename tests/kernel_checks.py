"""Helpers shared by the fused-kernel tests (norm, softmax_xent, rnn_cell, attention, optim,
elementwise): tolerances that scale with the reduction length, and a finite-difference check of
analytic gradients."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Callable

import numpy as np

DTYPES = [np.float32, np.float64]


def tol(dtype, k: int = 1, c: float = 8.0) -> float:
    """Tolerance for a result of a length-k reduction in `dtype`: c * sqrt(k) * eps."""
    return c * np.sqrt(max(k, 1)) * float(np.finfo(dtype).eps)


def assert_close(actual, expected, dtype, k: int = 1, c: float = 8.0, scale: float | None = None):
    """|actual - expected| <= t * (|expected| + scale) elementwise, with t = tol(dtype, k, c).

    `scale` (default: max |expected|) is the absolute floor for entries near zero, whose error is
    set by the magnitudes that were summed rather than by the entry itself."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape, (actual.shape, expected.shape)
    if expected.size == 0:
        return
    if scale is None:
        finite = expected[np.isfinite(expected)]
        scale = float(np.abs(finite).max()) if finite.size else 0.0
    t = tol(dtype, k, c)
    np.testing.assert_allclose(actual, expected, rtol=t, atol=t * scale)


def check_gradients(f: Callable[[Sequence[np.ndarray]], float], inputs: Sequence[np.ndarray],
                    grads: Sequence[np.ndarray], rng: np.random.Generator, h: float = 1e-6,
                    directions: int = 3) -> None:
    """Central differences along random directions (float64): for directions d_i of every input,
    (f(x + h d) - f(x - h d)) / (2h) must match sum_i <grads_i, d_i>."""
    for _ in range(directions):
        ds = [rng.standard_normal(x.shape) for x in inputs]
        plus = f([x + h * d for x, d in zip(inputs, ds)])
        minus = f([x - h * d for x, d in zip(inputs, ds)])
        numeric = (plus - minus) / (2 * h)
        analytic = sum(float(np.sum(g * d)) for g, d in zip(grads, ds))
        assert abs(numeric - analytic) <= 1e-6 * (1 + abs(analytic)), (numeric, analytic)
