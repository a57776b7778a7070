"""Normalisation: ember layer/batch/group norm (forward and backward) against the NumPy (CuPy) a
user writes: mean, variance, normalise, affine as array expressions, and the textbook backward;
and torch's own kernels when installed (aten native_*_norm and native_*_norm_backward).

Shapes: layer norm 4096 x 1024 (a transformer's activations), batch and group norm
64 x 64 x 32 x 32 (a CNN feature map), float32.
"""
from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none

EPS = 1e-5


def normalise_ref(xp, x, axes, w, b):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    rstd = 1 / xp.sqrt(var + EPS)
    return (x - mean) * rstd * w + b, mean, rstd


def normalise_backward_ref(xp, dy, x, axes, w, mean, rstd):
    """grad_x, grad_weight, grad_bias with xhat = (x - mean) * rstd; weight/bias reduce over
    `wb_axes` (all axes but the affine one)."""
    xhat = (x - mean) * rstd
    g = dy * w
    gx = rstd * (g - g.mean(axis=axes, keepdims=True)
                 - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    return gx, xhat


def cases(device: str) -> list[Case]:
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
    rng = np.random.default_rng(0)
    f32 = np.float32
    out: list[Case] = []
    t = (lambda a: torch.as_tensor(a, device=device)) if torch is not None else None

    # ---- layer norm (M, D) ----
    M, D = 4096, 1024
    x = xp.asarray(rng.standard_normal((M, D), f32))
    dy = xp.asarray(rng.standard_normal((M, D), f32))
    w = xp.asarray(rng.standard_normal(D, f32))
    b = xp.asarray(rng.standard_normal(D, f32))
    y, sm, sr = xp.empty_like(x), xp.empty(M, f32), xp.empty(M, f32)
    gx, gw, gb = xp.empty_like(x), xp.empty(D, f32), xp.empty(D, f32)
    C.layer_norm_forward(x, w, b, EPS, y, sm, sr)

    def ln_bwd_ref():
        mean, rstd = x.mean(axis=1, keepdims=True), 1 / xp.sqrt(x.var(axis=1, keepdims=True) + EPS)
        g_x, xhat = normalise_backward_ref(xp, dy, x, 1, w, mean, rstd)
        return g_x, (dy * xhat).sum(axis=0), dy.sum(axis=0)

    n = M * D
    ln_fwd = {xp.__name__: lambda: normalise_ref(xp, x, 1, w, b)}
    ln_bwd = {xp.__name__: ln_bwd_ref}
    if torch is not None:
        tx, tdy, tw, tb = t(x), t(dy), t(w), t(b)
        _, tmean, trstd = torch.native_layer_norm(tx, [D], tw, tb, EPS)
        ln_fwd["torch"] = lambda: torch.native_layer_norm(tx, [D], tw, tb, EPS)
        ln_bwd["torch"] = lambda: torch.ops.aten.native_layer_norm_backward(
            tdy, tx, [D], tmean, trstd, tw, tb, [True, True, True])
    out.append(Case("norm", "layer_norm fwd 4096x1024",
                    ember=lambda: C.layer_norm_forward(x, w, b, EPS, y, sm, sr),
                    references=ln_fwd, flops=8 * n, bytes=4 * (2 * n + 2 * D + 2 * M)))
    out.append(Case("norm", "layer_norm bwd 4096x1024",
                    ember=lambda: C.layer_norm_backward(dy, x, w, sm, sr, gx, gw, gb),
                    references=ln_bwd, flops=12 * n, bytes=4 * (3 * n + 3 * D + 2 * M)))

    # ---- batch norm and group norm (N, C, H, W) ----
    shape = (64, 64, 32, 32)
    Cn, G = shape[1], 32
    x4 = xp.asarray(rng.standard_normal(shape, f32))
    dy4 = xp.asarray(rng.standard_normal(shape, f32))
    w4 = xp.asarray(rng.standard_normal(Cn, f32))
    b4 = xp.asarray(rng.standard_normal(Cn, f32))
    rm, rv = xp.zeros(Cn, f32), xp.ones(Cn, f32)
    y4, gx4 = xp.empty_like(x4), xp.empty_like(x4)
    smc, src, gw4, gb4 = (xp.empty(Cn, f32) for _ in range(4))
    C.batch_norm_forward_train(x4, w4, b4, rm, rv, 0.1, EPS, y4, smc, src)
    bshape = (1, Cn, 1, 1)

    def bn_fwd_ref():
        y_ref, mean, _ = normalise_ref(xp, x4, (0, 2, 3), w4.reshape(bshape), b4.reshape(bshape))
        count = x4.size // Cn
        rm_ref = 0.9 * rm + 0.1 * mean.ravel()
        rv_ref = 0.9 * rv + 0.1 * x4.var(axis=(0, 2, 3)) * count / (count - 1)
        return y_ref, rm_ref, rv_ref

    def bn_bwd_ref():
        mean = x4.mean(axis=(0, 2, 3), keepdims=True)
        rstd = 1 / xp.sqrt(x4.var(axis=(0, 2, 3), keepdims=True) + EPS)
        g_x, xhat = normalise_backward_ref(xp, dy4, x4, (0, 2, 3), w4.reshape(bshape), mean, rstd)
        return g_x, (dy4 * xhat).sum(axis=(0, 2, 3)), dy4.sum(axis=(0, 2, 3))

    n4 = x4.size
    bn_fwd, bn_bwd = {xp.__name__: bn_fwd_ref}, {xp.__name__: bn_bwd_ref}
    if torch is not None:
        tx4, tdy4, tw4, tb4, trm, trv = t(x4), t(dy4), t(w4), t(b4), t(rm.copy()), t(rv.copy())
        _, tsm, tsi = torch.native_batch_norm(tx4, tw4, tb4, trm, trv, True, 0.1, EPS)
        bn_fwd["torch"] = lambda: torch.native_batch_norm(tx4, tw4, tb4, trm, trv, True, 0.1, EPS)
        bn_bwd["torch"] = lambda: torch.ops.aten.native_batch_norm_backward(
            tdy4, tx4, tw4, trm, trv, tsm, tsi, True, EPS, [True, True, True])
    out.append(Case("norm", "batch_norm train fwd 64x64x32x32",
                    ember=lambda: C.batch_norm_forward_train(x4, w4, b4, rm, rv, 0.1, EPS, y4, smc,
                                                             src),
                    references=bn_fwd, flops=8 * n4, bytes=4 * 2 * n4))
    out.append(Case("norm", "batch_norm bwd 64x64x32x32",
                    ember=lambda: C.batch_norm_backward(dy4, x4, w4, smc, src, gx4, gw4, gb4),
                    references=bn_bwd, flops=12 * n4, bytes=4 * 3 * n4))

    gsm, gsr = xp.empty((shape[0], G), f32), xp.empty((shape[0], G), f32)
    C.group_norm_forward(x4, G, w4, b4, EPS, y4, gsm, gsr)

    def gn_fwd_ref():
        xg = x4.reshape(shape[0], G, -1)
        y_ref, _, _ = normalise_ref(xp, xg, 2, 1, 0)
        return y_ref.reshape(shape) * w4.reshape(bshape) + b4.reshape(bshape)

    def gn_bwd_ref():
        xg, g = x4.reshape(shape[0], G, -1), (dy4 * w4.reshape(bshape)).reshape(shape[0], G, -1)
        mean = xg.mean(axis=2, keepdims=True)
        rstd = 1 / xp.sqrt(xg.var(axis=2, keepdims=True) + EPS)
        g_x, xhat = normalise_backward_ref(xp, g, xg, 2, 1, mean, rstd)
        xhat = xhat.reshape(shape)
        return g_x.reshape(shape), (dy4 * xhat).sum(axis=(0, 2, 3)), dy4.sum(axis=(0, 2, 3))

    gn_fwd, gn_bwd = {xp.__name__: gn_fwd_ref}, {xp.__name__: gn_bwd_ref}
    if torch is not None:
        N4, HW = shape[0], shape[2] * shape[3]
        _, tgm, tgr = torch.native_group_norm(tx4, tw4, tb4, N4, Cn, HW, G, EPS)
        gn_fwd["torch"] = lambda: torch.native_group_norm(tx4, tw4, tb4, N4, Cn, HW, G, EPS)
        gn_bwd["torch"] = lambda: torch.ops.aten.native_group_norm_backward(
            tdy4, tx4, tgm, tgr, tw4, N4, Cn, HW, G, [True, True, True])
    out.append(Case("norm", "group_norm fwd 64x64x32x32 G=32",
                    ember=lambda: C.group_norm_forward(x4, G, w4, b4, EPS, y4, gsm, gsr),
                    references=gn_fwd, flops=8 * n4, bytes=4 * 2 * n4))
    out.append(Case("norm", "group_norm bwd 64x64x32x32 G=32",
                    ember=lambda: C.group_norm_backward(dy4, x4, G, w4, gsm, gsr, gx4, gw4, gb4),
                    references=gn_bwd, flops=12 * n4, bytes=4 * 3 * n4))
    return out
