"""Fused activations: ember GELU (exact and tanh), SiLU and ReLU, forward and backward, against
the NumPy (CuPy) expressions a user writes; exact GELU needs erf, taken from SciPy (cupyx on CUDA)
when installed. With torch installed, also torch's kernels (F.gelu/F.silu/F.relu and aten
gelu_backward / silu_backward / threshold_backward).

Shape: 4M float32 elements (a 4096 x 1024 activation).
"""
from __future__ import annotations

import math

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none

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
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
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

    relu_out = xp.maximum(x, 0)

    name = xp.__name__
    refs = {"tanh fwd": {name: gelu_tanh_ref}, "tanh bwd": {name: gelu_tanh_bwd_ref},
            "silu fwd": {name: silu_ref}, "silu bwd": {name: silu_bwd_ref},
            "relu fwd": {name: lambda: xp.maximum(x, 0)},
            "relu bwd": {name: lambda: xp.where(relu_out > 0, g, 0)},
            "exact fwd": {}, "exact bwd": {}}
    if erf is not None:
        refs["exact fwd"][f"{name}+erf"] = lambda: 0.5 * x * (1 + erf(x / math.sqrt(2)))
        refs["exact bwd"][f"{name}+erf"] = lambda: g * (
            0.5 * (1 + erf(x / math.sqrt(2))) + x * xp.exp(-0.5 * x * x) / math.sqrt(2 * math.pi))
    if torch is not None:
        tx, tg = torch.as_tensor(x, device=device), torch.as_tensor(g, device=device)
        F, aten = torch.nn.functional, torch.ops.aten
        refs["tanh fwd"]["torch"] = lambda: F.gelu(tx, approximate="tanh")
        refs["tanh bwd"]["torch"] = lambda: aten.gelu_backward(tg, tx, approximate="tanh")
        refs["silu fwd"]["torch"] = lambda: F.silu(tx)
        refs["silu bwd"]["torch"] = lambda: aten.silu_backward(tg, tx)
        refs["relu fwd"]["torch"] = lambda: F.relu(tx)
        t_out = F.relu(tx)
        refs["relu bwd"]["torch"] = lambda: aten.threshold_backward(tg, t_out, 0)
        refs["exact fwd"]["torch"] = lambda: F.gelu(tx)
        refs["exact bwd"]["torch"] = lambda: aten.gelu_backward(tg, tx)
    return [
        Case("elementwise", "gelu tanh fwd 4M", ember=lambda: C.gelu_forward(x, y, "tanh"),
             references=refs["tanh fwd"], flops=12 * N, bytes=8 * N),
        Case("elementwise", "gelu tanh bwd 4M", ember=lambda: C.gelu_backward(g, x, y, "tanh"),
             references=refs["tanh bwd"], flops=20 * N, bytes=12 * N),
        Case("elementwise", "silu fwd 4M", ember=lambda: C.silu_forward(x, y),
             references=refs["silu fwd"], flops=5 * N, bytes=8 * N),
        Case("elementwise", "silu bwd 4M", ember=lambda: C.silu_backward(g, x, y),
             references=refs["silu bwd"], flops=10 * N, bytes=12 * N),
        Case("elementwise", "relu fwd 4M", ember=lambda: C.relu_forward(x, y),
             references=refs["relu fwd"], flops=N, bytes=8 * N),
        Case("elementwise", "relu bwd 4M", ember=lambda: C.relu_backward(g, relu_out, y),
             references=refs["relu bwd"], flops=N, bytes=12 * N),
        Case("elementwise", "gelu exact fwd 4M", ember=lambda: C.gelu_forward(x, y, "none"),
             references=refs["exact fwd"], flops=12 * N, bytes=8 * N),
        Case("elementwise", "gelu exact bwd 4M", ember=lambda: C.gelu_backward(g, x, y, "none"),
             references=refs["exact bwd"], flops=20 * N, bytes=12 * N),
    ]
