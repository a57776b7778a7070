"""GEMM: ember gemm against NumPy/OpenBLAS (cpu) or CuPy/cuBLAS (cuda), and torch if installed.

Shapes are written M x N x K: c (M x N) = a (M x K) @ b (K x N).
"""

from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none


def gemm_case(
    device: str,
    name: str,
    M: int,
    N: int,
    K: int,
    *,
    dtype: str = "float32",
    batch: int = 0,
    trans_b: bool = False,
    bias_relu: bool = False,
) -> Case:
    """c = a @ op(b) (+ bias, relu); batch > 0 stacks that many independent products."""
    C, xp, torch = ember_module(device), array_module(device), torch_or_none(device)
    rng = np.random.default_rng(0)
    lead = (batch,) if batch else ()
    a = xp.asarray(rng.standard_normal(lead + (M, K)).astype(dtype))
    b = xp.asarray(rng.standard_normal(lead + ((N, K) if trans_b else (K, N))).astype(dtype))
    bias = xp.asarray(rng.standard_normal(N).astype(dtype)) if bias_relu else None
    c, c_ref = xp.empty(lead + (M, N), dtype), xp.empty(lead + (M, N), dtype)
    b_op = xp.swapaxes(b, -1, -2) if trans_b else b  # a view: BLAS reads it transposed

    def ember():
        C.gemm(a, b, c, trans_b=trans_b, bias=bias, activation="relu" if bias_relu else "none")

    def reference():  # what a NumPy/CuPy user writes: matmul, then the epilogue as array ops
        xp.matmul(a, b_op, out=c_ref)
        if bias_relu:
            xp.add(c_ref, bias, out=c_ref)
            xp.maximum(c_ref, 0, out=c_ref)

    references = {xp.__name__: reference}
    if torch is not None:
        ta, tb, tc = (torch.as_tensor(x, device=device) for x in (a, b_op, c_ref))
        tbias = torch.as_tensor(bias, device=device) if bias_relu else None

        def torch_reference():
            if bias_relu:
                torch.addmm(tbias, ta, tb, out=tc).relu_()
            else:
                torch.matmul(ta, tb, out=tc)

        references["torch"] = torch_reference

    itemsize = np.dtype(dtype).itemsize
    count = max(batch, 1)
    return Case(
        "gemm",
        name,
        ember,
        references,
        flops=2.0 * count * M * N * K,
        bytes=itemsize * (count * (M * K + K * N + M * N) + (N if bias_relu else 0)),
        dtype=dtype,
    )


def cases(device: str) -> list[Case]:
    out = [gemm_case(device, f"sgemm {n}x{n}x{n}", n, n, n) for n in (256, 512, 1024, 2048)]
    out += [
        gemm_case(device, "dgemm 1024x1024x1024", 1024, 1024, 1024, dtype="float64"),
        gemm_case(device, "skinny 4096x64x4096", 4096, 64, 4096),
        gemm_case(device, "rank-64 4096x4096x64", 4096, 4096, 64),
        gemm_case(device, "mlp 128x512x784 (b^T)", 128, 512, 784, trans_b=True),
        gemm_case(device, "batched 64 x 128x128x64 (b^T)", 128, 128, 64, batch=64, trans_b=True),
        gemm_case(
            device, "linear+bias+relu 512x1024x1024", 512, 1024, 1024, trans_b=True, bias_relu=True
        ),
    ]
    return out
