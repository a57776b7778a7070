"""Softmax and cross-entropy: ember against the NumPy (CuPy) a user writes (max-shifted exp,
sum, divide; logsumexp and gather for the loss; softmax minus one-hot for its gradient).

Shape: 4096 rows x 1000 classes (an ImageNet-sized classifier head), float32.
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module


def cases(device: str) -> list[Case]:
    C, xp = ember_module(device), array_module(device)
    rng = np.random.default_rng(0)
    M, K = 4096, 1000
    f32 = np.float32
    x = xp.asarray(rng.standard_normal((M, K), f32) * 3)
    g = xp.asarray(rng.standard_normal((M, K), f32))
    y, gx = xp.empty_like(x), xp.empty_like(x)
    C.softmax_forward(x, y, -1, False)
    target = xp.asarray(rng.integers(0, K, M).astype(np.int64))
    loss, lse = xp.empty(M, f32), xp.empty(M, f32)
    grad_loss = xp.full(M, 1.0 / M, f32)  # mean reduction
    rows = xp.arange(M)
    C.cross_entropy_forward(x, target, None, -100, 0.0, loss, lse)

    def softmax_ref():
        e = xp.exp(x - x.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def log_softmax_ref():
        s = x - x.max(axis=1, keepdims=True)
        return s - xp.log(xp.exp(s).sum(axis=1, keepdims=True))

    def xent_fwd_ref():
        m = x.max(axis=1)
        lse_ref = m + xp.log(xp.exp(x - m[:, None]).sum(axis=1))
        return lse_ref - x[rows, target], lse_ref

    def xent_bwd_ref():
        grad = xp.exp(x - lse[:, None])
        grad[rows, target] -= 1
        grad *= grad_loss[:, None]
        return grad

    n = M * K
    name = xp.__name__
    return [
        Case("softmax_xent", "softmax fwd 4096x1000",
             ember=lambda: C.softmax_forward(x, y, -1, False), references={name: softmax_ref},
             flops=5 * n, bytes=4 * 2 * n),
        Case("softmax_xent", "softmax bwd 4096x1000",
             ember=lambda: C.softmax_backward(g, y, gx, -1, False),
             references={name: lambda: y * (g - (g * y).sum(axis=1, keepdims=True))},
             flops=4 * n, bytes=4 * 3 * n),
        Case("softmax_xent", "log_softmax fwd 4096x1000",
             ember=lambda: C.softmax_forward(x, y, -1, True), references={name: log_softmax_ref},
             flops=5 * n, bytes=4 * 2 * n),
        Case("softmax_xent", "cross_entropy fwd 4096x1000",
             ember=lambda: C.cross_entropy_forward(x, target, None, -100, 0.0, loss, lse),
             references={name: xent_fwd_ref}, flops=5 * n, bytes=4 * n + 16 * M),
        Case("softmax_xent", "cross_entropy bwd 4096x1000",
             ember=lambda: C.cross_entropy_backward(x, target, None, -100, 0.0, lse, grad_loss, gx),
             references={name: xent_bwd_ref}, flops=4 * n, bytes=4 * 2 * n + 16 * M),
    ]
