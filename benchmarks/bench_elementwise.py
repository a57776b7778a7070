"""Fused activations: ember GELU (exact and tanh) and SiLU, forward and backward, against the
NumPy (CuPy) expressions a user writes; exact GELU needs erf, taken from SciPy (cupyx on CUDA)
when installed.

Shape: 4M float32 elements (a 4096 x 1024 activation).
"""
from __future__ import annotations

import math

import numpy as np

from benchmarks.common import Case, array_module, ember_module

N = 4096 * 1024
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


def erf_or_none(device: str):
    try:
        if device == "cpu":
            from scipy.special import erf
        else:
            from cupyx.scipy.special import erf
        return erf
    except ImportError:
        return None


def cases(device: str) -> list[Case]:
    C, xp = ember_module(device), array_module(device)
    rng = np.random.default_rng(0)
    f32 = np.float32
    x = xp.asarray(rng.standard_normal(N, f32) * 3)
    g = xp.asarray(rng.standard_normal(N, f32))
    y = xp.empty_like(x)
    erf = erf_or_none(device)

    def gelu_tanh_ref():
        return 0.5 * x * (1 + xp.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)))

    def gelu_tanh_bwd_ref():
        t = xp.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))
        return g * (0.5 * (1 + t)
                    + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x))

    def silu_ref():
        return x / (1 + xp.exp(-x))

    def silu_bwd_ref():
        s = 1 / (1 + xp.exp(-x))
        return g * s * (1 + x * (1 - s))

    name = xp.__name__
    cases_ = [
        Case("elementwise", "gelu tanh fwd 4M",
             ember=lambda: C.gelu_forward(x, y, "tanh"), references={name: gelu_tanh_ref},
             flops=12 * N, bytes=8 * N),
        Case("elementwise", "gelu tanh bwd 4M",
             ember=lambda: C.gelu_backward(g, x, y, "tanh"), references={name: gelu_tanh_bwd_ref},
             flops=20 * N, bytes=12 * N),
        Case("elementwise", "silu fwd 4M",
             ember=lambda: C.silu_forward(x, y), references={name: silu_ref},
             flops=5 * N, bytes=8 * N),
        Case("elementwise", "silu bwd 4M",
             ember=lambda: C.silu_backward(g, x, y), references={name: silu_bwd_ref},
             flops=10 * N, bytes=12 * N),
    ]
    exact = {} if erf is None else {
        "fwd": {f"{name}+erf": lambda: 0.5 * x * (1 + erf(x / math.sqrt(2)))},
        "bwd": {f"{name}+erf": lambda: g * (0.5 * (1 + erf(x / math.sqrt(2)))
                                             + x * xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))},
    }
    cases_.append(Case("elementwise", "gelu exact fwd 4M",
                       ember=lambda: C.gelu_forward(x, y, "none"), references=exact.get("fwd", {}),
                       flops=12 * N, bytes=8 * N))
    cases_.append(Case("elementwise", "gelu exact bwd 4M",
                       ember=lambda: C.gelu_backward(g, x, y, "none"),
                       references=exact.get("bwd", {}), flops=20 * N, bytes=12 * N))
    return cases_
