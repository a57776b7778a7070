"""Softmax and cross-entropy: ember against the NumPy (CuPy) a user writes (max-shifted exp,
sum, divide; logsumexp and gather for the loss; softmax minus one-hot for its gradient), and
torch's own kernels when installed (aten _softmax and friends; cross-entropy as torch runs it:
log_softmax + nll_loss, and their backward kernels).

Shape: 4096 rows x 1000 classes (an ImageNet-sized classifier head), float32.
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none


def cases(device: str) -> list[Case]:
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
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
    refs = {
        "softmax fwd": {name: softmax_ref},
        "softmax bwd": {name: lambda: y * (g - (g * y).sum(axis=1, keepdims=True))},
        "log_softmax fwd": {name: log_softmax_ref},
        "xent fwd": {name: xent_fwd_ref},
        "xent bwd": {name: xent_bwd_ref},
    }
    if torch is not None:
        tx, tg, tt = (torch.as_tensor(a, device=device) for a in (x, g, target))
        ty = torch._softmax(tx, -1, False)
        logp = torch._log_softmax(tx, -1, False)
        tgl = torch.as_tensor(grad_loss, device=device)
        total = torch.tensor(float(M), device=device)
        refs["softmax fwd"]["torch"] = lambda: torch._softmax(tx, -1, False)
        refs["softmax bwd"]["torch"] = lambda: torch._softmax_backward_data(tg, ty, -1, ty.dtype)
        refs["log_softmax fwd"]["torch"] = lambda: torch._log_softmax(tx, -1, False)
        refs["xent fwd"]["torch"] = lambda: torch.nn.functional.cross_entropy(tx, tt,
                                                                              reduction="none")

        def torch_xent_bwd():  # what autograd runs for cross_entropy: two backward kernels
            g_logp = torch.ops.aten.nll_loss_backward(tgl, logp, tt, None, 0, -100, total)
            return torch._log_softmax_backward_data(g_logp, logp, -1, logp.dtype)

        refs["xent bwd"]["torch"] = torch_xent_bwd
    return [
        Case("softmax_xent", "softmax fwd 4096x1000",
             ember=lambda: C.softmax_forward(x, y, -1, False), references=refs["softmax fwd"],
             flops=5 * n, bytes=4 * 2 * n),
        Case("softmax_xent", "softmax bwd 4096x1000",
             ember=lambda: C.softmax_backward(g, y, gx, -1, False), references=refs["softmax bwd"],
             flops=4 * n, bytes=4 * 3 * n),
        Case("softmax_xent", "log_softmax fwd 4096x1000",
             ember=lambda: C.softmax_forward(x, y, -1, True), references=refs["log_softmax fwd"],
             flops=5 * n, bytes=4 * 2 * n),
        Case("softmax_xent", "cross_entropy fwd 4096x1000",
             ember=lambda: C.cross_entropy_forward(x, target, None, -100, 0.0, loss, lse),
             references=refs["xent fwd"], flops=5 * n, bytes=4 * n + 16 * M),
        Case("softmax_xent", "cross_entropy bwd 4096x1000",
             ember=lambda: C.cross_entropy_backward(x, target, None, -100, 0.0, lse, grad_loss, gx),
             references=refs["xent bwd"], flops=4 * n, bytes=4 * 2 * n + 16 * M),
    ]
