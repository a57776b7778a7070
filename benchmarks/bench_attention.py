"""Scaled dot-product attention: ember's fused kernel (scores never stored) against the NumPy
(CuPy) a user writes: batched matmul for the scores, a max-shifted softmax, matmul with V; the
backward from the stored probabilities. With torch installed, also torch's fused CPU kernels
(aten _scaled_dot_product_flash_attention_for_cpu and its backward; on CUDA the forward only).

Shape: B*H = 32 heads, T = 512 queries and keys, D = 64, float32 (a BERT-base layer).
"""
from __future__ import annotations

import math

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none


def cases(device: str) -> list[Case]:
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
    rng = np.random.default_rng(0)
    B, T, D = 32, 512, 64
    f32 = np.float32
    q, k, v, dout = (xp.asarray(rng.standard_normal((B, T, D), f32)) for _ in range(4))
    out, lse = xp.empty((B, T, D), f32), xp.empty((B, T), f32)
    gq, gk, gv = (xp.empty((B, T, D), f32) for _ in range(3))
    scale = 1 / math.sqrt(D)
    causal_mask = xp.asarray(np.triu(np.full((T, T), -np.inf, f32), k=1))
    kt = xp.swapaxes(k, 1, 2)

    def probabilities(causal):
        s = xp.matmul(q, kt) * scale
        if causal:
            s += causal_mask
        s -= s.max(axis=2, keepdims=True)
        p = xp.exp(s)
        p /= p.sum(axis=2, keepdims=True)
        return p

    def backward_ref(p):
        dv = xp.matmul(xp.swapaxes(p, 1, 2), dout)
        dp = xp.matmul(dout, xp.swapaxes(v, 1, 2))
        ds = p * (dp - (dp * p).sum(axis=2, keepdims=True))
        return xp.matmul(ds, k) * scale, xp.matmul(xp.swapaxes(ds, 1, 2), q) * scale, dv

    p_full = probabilities(False)
    C.scaled_dot_product_attention_forward(q, k, v, None, False, None, out, lse)
    fwd_flops = 2 * B * T * T * (D + D)
    io_bytes = 4 * B * T * D * 4
    name = xp.__name__
    refs = {
        "fwd": {name: lambda: xp.matmul(probabilities(False), v)},
        "causal": {name: lambda: xp.matmul(probabilities(True), v)},
        # the reference reuses stored probabilities: only the backward products are timed
        "bwd": {name: lambda: backward_ref(p_full)},
    }
    if torch is not None:  # (batch, heads, T, D) views of the same data
        tq, tk, tv, tdo = (torch.as_tensor(a, device=device).view(1, B, T, D)
                           for a in (q, k, v, dout))
        sdpa = torch.nn.functional.scaled_dot_product_attention
        refs["fwd"]["torch"] = lambda: sdpa(tq, tk, tv)
        refs["causal"]["torch"] = lambda: sdpa(tq, tk, tv, is_causal=True)
        if device == "cpu":
            flash = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu
            flash_backward = torch.ops.aten._scaled_dot_product_flash_attention_for_cpu_backward
            t_out, t_lse = flash(tq, tk, tv, 0.0, False)[:2]
            refs["bwd"]["torch"] = lambda: flash_backward(tdo, tq, tk, tv, t_out, t_lse, 0.0, False)
    return [
        Case("attention", "sdpa fwd B*H=32 T=512 D=64",
             ember=lambda: C.scaled_dot_product_attention_forward(q, k, v, None, False, None, out, lse),
             references=refs["fwd"], flops=fwd_flops, bytes=io_bytes),
        Case("attention", "sdpa fwd causal B*H=32 T=512 D=64",
             ember=lambda: C.scaled_dot_product_attention_forward(q, k, v, None, True, None, out, lse),
             references=refs["causal"], flops=fwd_flops / 2, bytes=io_bytes),
        Case("attention", "sdpa bwd B*H=32 T=512 D=64",
             ember=lambda: C.scaled_dot_product_attention_backward(dout, q, k, v, None, False, None, out, lse,
                                                                   gq, gk, gv),
             references=refs["bwd"], flops=2 * fwd_flops + 2 * B * T * T * D, bytes=io_bytes * 2),
    ]
