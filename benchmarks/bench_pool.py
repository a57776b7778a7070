"""Pooling: ember max/avg pooling 2x2 (stride 2) against the NumPy a user writes for
non-overlapping windows (a reshape exposing each window as its own axes, then max/argmax or
mean; put_along_axis / repeat for the backward) and torch when installed.

Shape: 64 images x 64 channels of 32x32, float32 (a VGG/ResNet-style feature map).

Notes (2-core AMD EPYC; shared machine, times move by ~30%):
- max_pool2d forward, 1 thread: a loop nest per output window 16 ms (the per-output clipping
  and an unpredictable branch per element dominate) -> row by row, tap by tap over precomputed
  column ranges with a branch-free update that vectorises: 2.7 ms; 1.3-1.9 ms on 2 threads
  (numpy reshape + argmax: 34 ms).
- avg_pool2d forward / backward, 1 thread: per window 4.5 / 6.1 ms -> row by row 2.1 / 2.7 ms;
  1.0 / 1.35 ms on 2 threads (numpy: 21 / 2.0 ms; its backward is a plain np.repeat, which only
  works for non-overlapping windows).
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none


def windows_2x2(xp, x):
    """(N, C, H/2, W/2, 4): the four elements of each 2x2 window, row-major."""
    n, c, h, w = x.shape
    return (
        x.reshape(n, c, h // 2, 2, w // 2, 2)
        .transpose(0, 1, 2, 4, 3, 5)
        .reshape(n, c, h // 2, w // 2, 4)
    )


def numpy_max_pool(xp, x):
    """Window maxima and their flat indices ih*W + iw (what the backward needs)."""
    w = x.shape[3]
    win = windows_2x2(xp, x)
    arg = win.argmax(axis=-1)
    out = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
    rows = 2 * xp.arange(out.shape[2])[:, None] + arg // 2
    cols = 2 * xp.arange(out.shape[3]) + arg % 2
    return out, rows * w + cols


def numpy_max_pool_backward(xp, g, idx, x_shape):
    n, c = g.shape[:2]
    gx = xp.zeros((n, c, x_shape[2] * x_shape[3]), g.dtype)
    xp.put_along_axis(gx, idx.reshape(n, c, -1), g.reshape(n, c, -1), axis=-1)
    return gx.reshape(x_shape)


def cases(device: str) -> list[Case]:
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
    rng = np.random.default_rng(0)
    n, c, h, w = 64, 64, 32, 32
    x = xp.asarray(rng.standard_normal((n, c, h, w), np.float32))
    small = (n, c, h // 2, w // 2)
    out, idx = xp.empty(small, np.float32), xp.empty(small, np.int64)
    g = xp.asarray(rng.standard_normal(small, np.float32))
    gx = xp.empty_like(x)
    C.max_pool2d_forward(x, out, idx, 2, 2, 2, 2)  # indices for the backward cases

    refs = {
        "max fwd": {xp.__name__: lambda: numpy_max_pool(xp, x)},
        "max bwd": {xp.__name__: lambda: numpy_max_pool_backward(xp, g, idx, x.shape)},
        "avg fwd": {xp.__name__: lambda: windows_2x2(xp, x).mean(axis=-1)},
        "avg bwd": {xp.__name__: lambda: xp.repeat(xp.repeat(g * 0.25, 2, axis=2), 2, axis=3)},
    }
    if torch is not None:
        F = torch.nn.functional
        tx, tg, tidx = (torch.as_tensor(a, device=device) for a in (x, g, idx))
        refs["max fwd"]["torch"] = lambda: F.max_pool2d(tx, 2, return_indices=True)
        refs["max bwd"]["torch"] = lambda: torch.ops.aten.max_pool2d_with_indices_backward(
            tg, tx, [2, 2], [2, 2], [0, 0], [1, 1], False, tidx
        )
        refs["avg fwd"]["torch"] = lambda: F.avg_pool2d(tx, 2)
        refs["avg bwd"]["torch"] = lambda: torch.ops.aten.avg_pool2d_backward(
            tg, tx, [2, 2], [2, 2], [0, 0], False, True, None
        )

    name = f"2x2/2 on {n}x{c}x{h}x{w}"
    big, little = 4.0 * x.size, 4.0 * out.size
    return [
        Case("pool", f"max_pool2d forward {name}", lambda: C.max_pool2d_forward(x, out, idx, 2, 2, 2, 2),
             refs["max fwd"], flops=3 * out.size, bytes=big + little + 8.0 * idx.size),
        Case("pool", f"max_pool2d backward {name}", lambda: C.max_pool2d_backward(g, idx, gx),
             refs["max bwd"], flops=g.size, bytes=big + little + 8.0 * idx.size),
        Case("pool", f"avg_pool2d forward {name}", lambda: C.avg_pool2d_forward(x, out, 2, 2, 2, 2),
             refs["avg fwd"], flops=x.size, bytes=big + little),
        Case("pool", f"avg_pool2d backward {name}", lambda: C.avg_pool2d_backward(g, gx, 2, 2, 2, 2),
             refs["avg bwd"], flops=x.size, bytes=big + little),
    ]
