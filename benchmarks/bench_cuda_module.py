"""CUDA-only entry points: gemm_tf32 (tensor cores, TF32 operands, float32 accumulation) against
the same product in CuPy/cuBLAS (which uses TF32 only when CUPY_TF32=1) and in torch with TF32
allowed, next to Ember's float32 SIMT gemm on the same shape. No cases on the CPU."""

from __future__ import annotations

import numpy as np

from benchmarks.common import Case, array_module, ember_module, torch_or_none


def tf32_case(M: int, N: int, K: int) -> Case:
    C, xp, torch = ember_module("cuda"), array_module("cuda"), torch_or_none("cuda")
    rng = np.random.default_rng(0)
    a = xp.asarray(rng.standard_normal((M, K)).astype(np.float32))
    b = xp.asarray(rng.standard_normal((K, N)).astype(np.float32))
    c, c_simt, c_ref = (xp.empty((M, N), np.float32) for _ in range(3))
    references = {
        xp.__name__: lambda: xp.matmul(a, b, out=c_ref),
        "ember gemm (fp32 SIMT)": lambda: C.gemm(a, b, c_simt),
    }
    if torch is not None:
        ta, tb, tc = (torch.as_tensor(x, device="cuda") for x in (a, b, c_ref))

        def torch_tf32():
            previous = torch.backends.cuda.matmul.allow_tf32
            torch.backends.cuda.matmul.allow_tf32 = True
            torch.matmul(ta, tb, out=tc)
            torch.backends.cuda.matmul.allow_tf32 = previous

        references["torch (tf32)"] = torch_tf32
    return Case(
        "cuda_module",
        f"gemm_tf32 {M}x{N}x{K}",
        lambda: C.gemm_tf32(a, b, c),
        references,
        flops=2.0 * M * N * K,
        bytes=4.0 * (M * K + K * N + M * N),
        dtype="float32",
    )


def cases(device: str) -> list[Case]:
    if device != "cuda":
        return []
    return [tf32_case(n, n, n) for n in (1024, 2048, 4096)] + [tf32_case(256, 256, 16384)]
