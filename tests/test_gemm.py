"""GEMM kernels (ember._C.gemm / ember._C_cuda.gemm) against a float64 NumPy reference.

gemm(a, b, c, trans_a, trans_b, alpha, beta, bias, bias_per_row, activation) computes
c = act(alpha * op(a) @ op(b) + beta * c + bias) in place, for 2-D matrices or 3-D stacks.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

DTYPES = [np.float32, np.float64]


def reference(
    a,
    b,
    c,
    trans_a=False,
    trans_b=False,
    alpha=1.0,
    beta=0.0,
    bias=None,
    bias_per_row=False,
    activation="none",
):
    """float64 result and an elementwise error scale (the same sum taken over magnitudes)."""
    a64, b64, c64 = (np.asarray(x, dtype=np.float64) for x in (a, b, c))
    op_a = np.swapaxes(a64, -1, -2) if trans_a else a64
    op_b = np.swapaxes(b64, -1, -2) if trans_b else b64
    out = alpha * np.einsum("...ik,...kj->...ij", op_a, op_b)
    scale = abs(alpha) * np.einsum("...ik,...kj->...ij", np.abs(op_a), np.abs(op_b))
    out = np.broadcast_to(out, c64.shape).copy()
    scale = np.broadcast_to(scale, c64.shape).copy()
    if beta != 0.0:  # beta == 0 ignores c entirely (it may hold NaN)
        out += beta * c64
        scale += abs(beta) * np.abs(c64)
    if bias is not None:
        bias64 = np.asarray(bias, dtype=np.float64)
        bias64 = bias64[:, None] if bias_per_row else bias64[None, :]
        out += bias64
        scale += np.abs(bias64)
    if activation == "relu":
        out = np.maximum(out, 0.0)
    elif activation == "gelu":
        erf = np.vectorize(math.erf)
        out = 0.5 * out * (1.0 + erf(out / math.sqrt(2.0)))
    return out, scale


def check(result, expected, scale, dtype, K):
    """Rounding error of a length-K dot product grows like sqrt(K) * eps relative to the sum of
    magnitudes; the second term covers the epilogue (bias add, erf)."""
    eps = np.finfo(dtype).eps
    tol = 4.0 * math.sqrt(max(K, 1)) * eps * scale + 4.0 * eps * np.abs(expected)
    err = np.abs(np.asarray(result, dtype=np.float64) - expected)
    assert np.all(np.isfinite(result))
    worst = np.unravel_index(np.argmax(err - tol), err.shape) if err.size else ()
    assert np.all(err <= tol), f"max error {err[worst]} > tol {tol[worst]} at {worst}"


def random_operands(rng, dtype, M, N, K, trans_a, trans_b, batch_a=(), batch_b=(), batch_c=()):
    a = rng.standard_normal(batch_a + ((K, M) if trans_a else (M, K))).astype(dtype)
    b = rng.standard_normal(batch_b + ((N, K) if trans_b else (K, N))).astype(dtype)
    c = rng.standard_normal(batch_c + (M, N)).astype(dtype)
    return a, b, c


def run_gemm(kernels, a, b, c, **kwargs):
    """Runs gemm on backend copies of the host arrays; returns the new c on the host."""
    dev_c = kernels.asarray(c.copy())  # on the CPU asarray would alias the caller's c
    bias = kwargs.pop("bias", None)
    kernels.C.gemm(
        kernels.asarray(a),
        kernels.asarray(b),
        dev_c,
        bias=None if bias is None else kernels.asarray(bias),
        **kwargs,
    )
    return kernels.numpy(dev_c)


# From one element to several cache blocks; vector-like shapes (one or a few rows or columns);
# few rows but many columns and the converse (the two ways of sharing C between threads); the
# AVX-512 tile shapes for few rows (16 x 200) and few rows and columns (6 x 25); a small C with a
# long reduction, which (with A not transposed and B transposed) takes the dot-product path with
# partial edge tiles (5 x 7, 17 x 150).
SHAPES = [
    (6, 25, 60),
    (16, 200, 300),
    (5, 7, 301),
    (17, 150, 1003),
    (1, 1, 1),
    (7, 13, 5),
    (13, 7, 1),
    (1, 40, 33),
    (40, 1, 33),
    (73, 74, 75),
    (1, 1000, 129),
    (3, 300, 200),
    (250, 2, 300),
    (20, 700, 300),
    (300, 33, 600),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("M,N,K", SHAPES)
def test_transposes_alpha_beta(kernels, rng, dtype, trans_a, trans_b, M, N, K):
    a, b, c = random_operands(rng, dtype, M, N, K, trans_a, trans_b)
    kw = {"trans_a": trans_a, "trans_b": trans_b, "alpha": 1.5, "beta": -0.5}
    result = run_gemm(kernels, a, b, c, **kw)
    check(result, *reference(a, b, c, **kw), dtype, K)


@pytest.mark.parametrize("dtype", DTYPES)
def test_large(kernels, rng, dtype):
    a, b, c = random_operands(rng, dtype, 513, 517, 519, False, True)
    result = run_gemm(kernels, a, b, c, trans_b=True, alpha=0.75, beta=0.25)
    check(result, *reference(a, b, c, trans_b=True, alpha=0.75, beta=0.25), dtype, 519)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K", [(3, 4100, 20), (2, 2100, 300)])
def test_wider_than_one_panel(kernels, rng, dtype, M, N, K):
    """N beyond one packed B panel and K beyond one K block (C accumulates over blocks)."""
    a, b, c = random_operands(rng, dtype, M, N, K, False, False)
    result = run_gemm(kernels, a, b, c, beta=1.0)
    check(result, *reference(a, b, c, beta=1.0), dtype, K)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (33, 70, 20), (90, 90, 90)])
def test_beta_zero_does_not_read_c(kernels, rng, dtype, M, N, K):
    a, b, c = random_operands(rng, dtype, M, N, K, False, False)
    c[:] = np.nan
    result = run_gemm(kernels, a, b, c, alpha=2.0, beta=0.0)
    check(result, *reference(a, b, c, alpha=2.0, beta=0.0), dtype, K)


@pytest.mark.parametrize("dtype", DTYPES)
def test_alpha_zero_scales_c(kernels, rng, dtype):
    a, b, c = random_operands(rng, dtype, 40, 50, 60, False, False)
    result = run_gemm(kernels, a, b, c, alpha=0.0, beta=3.0)
    np.testing.assert_array_equal(result, (np.float64(3.0) * c).astype(dtype))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("activation", ["none", "relu", "gelu"])
@pytest.mark.parametrize("bias_per_row", [False, True, None])
@pytest.mark.parametrize("M,N,K", [(5, 6, 7), (45, 67, 300), (9, 10, 400)])
def test_bias_and_activation(kernels, rng, dtype, activation, bias_per_row, M, N, K):
    """K = 300 spans two K blocks: the epilogue must run once, after the last one."""
    a, b, c = random_operands(rng, dtype, M, N, K, False, True)
    bias = None
    if bias_per_row is not None:
        bias = rng.standard_normal(M if bias_per_row else N).astype(dtype)
    kw = {
        "trans_b": True,
        "alpha": 0.5,
        "beta": 0.5,
        "bias": bias,
        "bias_per_row": bool(bias_per_row),
        "activation": activation,
    }
    result = run_gemm(kernels, a, b, c, **kw)
    check(result, *reference(a, b, c, **kw), dtype, K)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,N,K", [(0, 5, 4), (5, 0, 4), (0, 0, 0)])
def test_empty_output(kernels, rng, dtype, M, N, K):
    a, b, c = random_operands(rng, dtype, M, N, K, False, False)
    assert run_gemm(kernels, a, b, c, beta=1.0).shape == (M, N)


@pytest.mark.parametrize("dtype", DTYPES)
def test_empty_reduction(kernels, rng, dtype):
    """K == 0: the product is zero, so c = act(beta * c + bias)."""
    a, b, c = random_operands(rng, dtype, 6, 9, 0, False, False)
    bias = rng.standard_normal(9).astype(dtype)
    kw = {"beta": 0.5, "bias": bias, "activation": "relu"}
    result = run_gemm(kernels, a, b, c, **kw)
    check(result, *reference(a, b, c, **kw), dtype, 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "batch_a,batch_b,batch_c",
    [
        ((4,), (4,), (4,)),  # one matrix per product
        ((), (3,), (3,)),  # a 2-D: shared by every product
        ((1,), (5,), (5,)),  # a batch 1: broadcast
        ((6,), (), (6,)),  # b shared
        ((2,), (1,), (2,)),  # b batch 1
        ((1,), (1,), (1,)),  # batch of one
        ((0,), (0,), (0,)),
    ],  # empty batch
)
@pytest.mark.parametrize("M,N,K", [(7, 9, 11), (64, 96, 64)])
def test_batched(kernels, rng, dtype, batch_a, batch_b, batch_c, M, N, K):
    a, b, c = random_operands(rng, dtype, M, N, K, True, False, batch_a, batch_b, batch_c)
    kw = {"trans_a": True, "alpha": 1.25, "beta": 0.5}
    result = run_gemm(kernels, a, b, c, **kw)
    assert result.shape == batch_c + (M, N)
    check(result, *reference(a, b, c, **kw), dtype, K)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("trans_a,trans_b", [(False, False), (True, True)])
def test_row_strided_views(kernels, rng, dtype, trans_a, trans_b):
    """Views whose rows are contiguous but further apart than their length (column slices of a
    wider matrix, 2-D and 3-D) are used in place, with the row stride as leading dimension."""
    M, N, K, pad = 37, 41, 43, 5
    a, b, c = random_operands(rng, dtype, M, N, K, trans_a, trans_b, (2,), (2,), (2,))
    wide = [
        np.concatenate([x, rng.standard_normal(x.shape[:-1] + (pad,)).astype(dtype)], -1)
        for x in (a, b, c)
    ]
    dev_a, dev_b, dev_c = (kernels.asarray(w) for w in wide)
    n_last = [x.shape[-1] for x in (a, b, c)]
    view = [d[..., :n] for d, n in zip((dev_a, dev_b, dev_c), n_last)]
    kernels.C.gemm(view[0][1], view[1][1], view[2][1], trans_a, trans_b, 1.0, 0.5)  # 2-D views
    kernels.C.gemm(view[0][:1], view[1][:1], view[2][:1], trans_a, trans_b, 1.0, 0.5)  # 3-D
    kw = {"trans_a": trans_a, "trans_b": trans_b, "beta": 0.5}
    out = kernels.numpy(dev_c)
    check(out[..., :N], *reference(a, b, c, **kw), dtype, K)
    np.testing.assert_array_equal(out[..., N:], wide[2][..., N:])  # the padding is untouched


@pytest.mark.parametrize("dtype", DTYPES)
def test_many_small_products(kernels, rng, dtype):
    """A large batch of tiny matrices (each whole product on one thread on the CPU)."""
    a, b, c = random_operands(rng, dtype, 3, 5, 4, False, False, (257,), (257,), (257,))
    result = run_gemm(kernels, a, b, c, beta=1.0)
    check(result, *reference(a, b, c, beta=1.0), dtype, 4)


# ---- argument checks ----------------------------------------------------------------------------


def test_rejects_dtype_mismatch(kernels):
    a = kernels.zeros((2, 3), np.float32)
    b = kernels.zeros((3, 4), np.float64)
    with pytest.raises(TypeError, match="'b'"):
        kernels.C.gemm(a, b, kernels.zeros((2, 4), np.float32))
    with pytest.raises(TypeError, match="'a'"):
        kernels.C.gemm(
            kernels.zeros((2, 3), np.int32),
            kernels.zeros((3, 4), np.int32),
            kernels.zeros((2, 4), np.int32),
        )


def test_rejects_inner_dimension_mismatch(kernels):
    a = kernels.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match="inner dimensions"):
        kernels.C.gemm(a, kernels.zeros((4, 5), np.float32), kernels.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match="'c'"):
        kernels.C.gemm(a, kernels.zeros((3, 5), np.float32), kernels.zeros((2, 4), np.float32))


def test_rejects_bad_shapes(kernels):
    f32 = np.float32
    with pytest.raises(ValueError, match="'a'"):  # 1-D
        kernels.C.gemm(
            kernels.zeros((3,), f32), kernels.zeros((3, 4), f32), kernels.zeros((1, 4), f32)
        )
    with pytest.raises(ValueError, match="'b'"):  # batch disagrees with c
        kernels.C.gemm(
            kernels.zeros((2, 2, 3), f32),
            kernels.zeros((3, 3, 4), f32),
            kernels.zeros((2, 2, 4), f32),
        )
    with pytest.raises(ValueError, match="'a'"):  # columns not contiguous (a transposed view)
        kernels.C.gemm(
            kernels.zeros((3, 2), f32).T, kernels.zeros((3, 4), f32), kernels.zeros((2, 4), f32)
        )


def test_rejects_bad_bias(kernels):
    a, b, c = (kernels.zeros(s, np.float32) for s in [(2, 3), (3, 4), (2, 4)])
    with pytest.raises(ValueError, match="'bias'"):
        kernels.C.gemm(a, b, c, bias=kernels.zeros((2,), np.float32))  # per column: needs 4
    with pytest.raises(ValueError, match="'bias'"):
        kernels.C.gemm(a, b, c, bias=kernels.zeros((4,), np.float32), bias_per_row=True)
    with pytest.raises(TypeError, match="'bias'"):
        kernels.C.gemm(a, b, c, bias=kernels.zeros((4,), np.float64))


def test_rejects_output_overlapping_an_input(kernels):
    x = kernels.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="'c' must not share memory with 'a'"):
        kernels.C.gemm(x, kernels.zeros((4, 4), np.float32), x)
    with pytest.raises(ValueError, match="'c' must not share memory with 'b'"):
        kernels.C.gemm(kernels.zeros((2, 2), np.float32), x[1:3], x[:2])  # row 1 in both


def test_rejects_expanded_or_flipped_rows(kernels):
    b, c = kernels.zeros((3, 4), np.float32), kernels.zeros((2, 4), np.float32)
    expanded = kernels.xp.broadcast_to(kernels.zeros((1, 3), np.float32), (2, 3))  # row stride 0
    with pytest.raises(ValueError, match="row stride"):
        kernels.C.gemm(expanded, b, c)
    flipped = kernels.zeros((2, 3), np.float32)[::-1]  # negative row stride
    with pytest.raises(ValueError, match="row stride"):
        kernels.C.gemm(flipped, b, c)


def test_rejects_unknown_activation(kernels):
    a, b, c = (kernels.zeros(s, np.float32) for s in [(2, 3), (3, 4), (2, 4)])
    with pytest.raises(ValueError, match="activation"):
        kernels.C.gemm(a, b, c, activation="tanh")


def test_rejects_read_only_output():
    from ember import _C

    c = np.zeros((2, 4), np.float32)
    c.flags.writeable = False
    with pytest.raises(ValueError, match=r"'c'.*read-only"):
        _C.gemm(np.zeros((2, 3), np.float32), np.zeros((3, 4), np.float32), c)


def test_rejects_non_numpy_input():
    from ember import _C

    with pytest.raises(TypeError, match="'a'"):
        _C.gemm([[1.0]], np.zeros((1, 1)), np.zeros((1, 1)))


@pytest.mark.skipif(os.environ.get("EMBER_GEMM_ISA") == "avx2", reason="already the AVX2 run")
def test_avx2_kernel_on_cpu():
    """The CPU module picks its AVX-512 micro-kernel when it can; rerun the CPU tests with the
    AVX2 baseline kernel forced, so both are checked on an AVX-512 machine."""
    env = dict(os.environ, EMBER_GEMM_ISA="avx2")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-k",
            "cpu and not rejects",
        ],
        env=env,
        capture_output=True,
        text=True,
        cwd=Path(__file__).parent.parent,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
