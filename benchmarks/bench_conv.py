"""Convolution: ember conv2d (im2col + GEMM) against the NumPy convolution a user writes
(sliding_window_view + tensordot, i.e. im2col + BLAS) and torch when installed.

Shapes: LeNet's first layer (6 filters 1x5x5 on 28x28, batch 64) and a ResNet block's 3x3
convolution (64 -> 64 channels, padding 1, on 32x32, batch 32); forward, and forward + backward
(input, weight and bias gradients).

Notes (2-core AMD EPYC, float32, 2 threads; the machine is shared, so times move by ~30%):
- conv2d_backward_weight, LeNet: im2col of a chunk + one GEMM sharing the threads: 1.0-1.2 ms;
  the batch split over the threads, each with serial GEMMs into its own partial gradient:
  0.65 ms (the 6x25 output is too small for the GEMM to share; ResNet unchanged at ~13 ms).
- Typical run: LeNet forward 0.22-0.33 ms (numpy 1.0-1.6 ms), forward+backward 0.8-1.2 ms
  (numpy 3.5-4.6 ms); ResNet forward 9-11 ms (numpy 55-62 ms), forward+backward 26-34 ms
  (numpy 160-182 ms), i.e. 220-280 GFLOP/s against a measured 2048^3 GEMM peak of ~250.
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none


def numpy_windows(xp, x, k, pad):
    """The (N, C, OH, OW, kh, kw) view of every window of the padded input (stride 1)."""
    padded = xp.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    return xp.lib.stride_tricks.sliding_window_view(padded, k, axis=(2, 3))


def numpy_forward(xp, x, w, b, pad):
    windows = numpy_windows(xp, x, w.shape[2:], pad)
    out = xp.tensordot(windows, w, axes=([1, 4, 5], [1, 2, 3]))  # (N, OH, OW, O)
    return out.transpose(0, 3, 1, 2) + b[:, None, None]


def numpy_backward(xp, x, w, gy, pad):
    """grad_x (col2im by one strided add per tap), grad_w and grad_b."""
    kh, kw = w.shape[2:]
    oh, ow = gy.shape[2:]
    windows = numpy_windows(xp, x, (kh, kw), pad)
    gw = xp.tensordot(gy, windows, axes=([0, 2, 3], [0, 2, 3]))  # (O, C, kh, kw)
    gcol = xp.tensordot(gy, w, axes=([1], [0]))  # (N, OH, OW, C, kh, kw)
    gxp = xp.zeros((x.shape[0], x.shape[1], x.shape[2] + 2 * pad, x.shape[3] + 2 * pad), x.dtype)
    for i in range(kh):
        for j in range(kw):
            gxp[:, :, i : i + oh, j : j + ow] += gcol[..., i, j].transpose(0, 3, 1, 2)
    gx = gxp[:, :, pad : pad + x.shape[2], pad : pad + x.shape[3]]
    return gx, gw, gy.sum(axis=(0, 2, 3))


def conv_cases(
    device: str, name: str, n: int, c: int, hw: int, o: int, k: int, pad: int
) -> list[Case]:
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
    rng = np.random.default_rng(0)
    x = xp.asarray(rng.standard_normal((n, c, hw, hw), np.float32))
    w = xp.asarray(rng.standard_normal((o, c, k, k), np.float32))
    b = xp.asarray(rng.standard_normal(o, np.float32))
    out_hw = hw + 2 * pad - k + 1
    out = xp.empty((n, o, out_hw, out_hw), np.float32)
    gy = xp.asarray(rng.standard_normal(out.shape, np.float32))
    gx, gw, gb = xp.empty_like(x), xp.empty_like(w), xp.empty_like(b)

    def ember_forward():
        C.conv2d_forward(x, w, b, out, 1, 1, pad, pad)

    def ember_forward_backward():
        C.conv2d_forward(x, w, b, out, 1, 1, pad, pad)
        C.conv2d_backward_input(gy, w, gx, 1, 1, pad, pad)
        C.conv2d_backward_weight(x, gy, gw, 1, 1, pad, pad)
        C.conv2d_backward_bias(gy, gb)

    forward_refs = {xp.__name__: lambda: numpy_forward(xp, x, w, b, pad)}
    backward_refs = {
        xp.__name__: lambda: (numpy_forward(xp, x, w, b, pad), numpy_backward(xp, x, w, gy, pad))
    }
    if torch is not None:
        tx, tw, tb, tgy = (torch.as_tensor(a, device=device) for a in (x, w, b, gy))
        tx.requires_grad_(True)
        tw.requires_grad_(True)
        tb.requires_grad_(True)
        forward_refs["torch"] = lambda: torch.nn.functional.conv2d(
            tx.detach(), tw.detach(), tb.detach(), padding=pad
        )

        def torch_forward_backward():
            torch.nn.functional.conv2d(tx, tw, tb, padding=pad).backward(tgy)

        backward_refs["torch"] = torch_forward_backward

    flops = 2.0 * n * o * c * k * k * out_hw * out_hw
    sizes = [a.size for a in (x, w, b, out)]
    return [
        Case(
            "conv",
            f"{name} forward",
            ember_forward,
            forward_refs,
            flops=flops,
            bytes=4.0 * sum(sizes),
        ),
        # Forward + backward reads/writes x, w, b, out, grad_out, grad_x, grad_w, grad_b once each.
        Case(
            "conv",
            f"{name} forward+backward",
            ember_forward_backward,
            backward_refs,
            flops=3 * flops + n * o * out_hw * out_hw,
            bytes=4.0 * (2 * sum(sizes) + gy.size),
        ),
    ]


def cases(device: str) -> list[Case]:
    return conv_cases(device, "LeNet 64x1x28x28 * 6x1x5x5", 64, 1, 28, 6, 5, 0) + conv_cases(
        device, "ResNet 32x64x32x32 * 64x64x3x3 pad 1", 32, 64, 32, 64, 3, 1
    )
