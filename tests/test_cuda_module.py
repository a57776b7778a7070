"""Entry points that only the CUDA module has: gemm_tf32 (tensor cores), device_count and
synchronize. The kernel families shared with the CPU module are tested in test_<family>.py."""

import numpy as np
import pytest


@pytest.fixture
def cuda(kernels):
    if kernels.name != "cuda":
        pytest.skip("CUDA-only entry point")
    return kernels


def gemm_ref(a, b, trans_a, trans_b, alpha, beta, c, bias, bias_per_row, activation):
    """float64 reference of gemm's contract, written out with einsum."""
    a = np.swapaxes(a, -1, -2) if trans_a else a
    b = np.swapaxes(b, -1, -2) if trans_b else b
    out = alpha * np.einsum("...mk,...kn->...mn", a, b) + beta * c
    if bias is not None:
        out = out + (bias[:, None] if bias_per_row else bias)
    if activation == "relu":
        out = np.maximum(out, 0)
    return out


def tf32_tolerance(K):
    """TF32 keeps 10 mantissa bits: each product carries ~2^-11 relative error per operand."""
    return 4 * 2.0**-11 * np.sqrt(max(K, 1))


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize(
    "M, N, K", [(1, 1, 1), (7, 5, 3), (73, 74, 37), (130, 129, 300), (20, 36, 2100)]
)
def test_gemm_tf32_matches_float64(cuda, trans_a, trans_b, M, N, K):
    rng = np.random.default_rng(M * 1000 + N + K)
    a = rng.standard_normal((K, M) if trans_a else (M, K)).astype(np.float32)
    b = rng.standard_normal((N, K) if trans_b else (K, N)).astype(np.float32)
    c0 = rng.standard_normal((M, N)).astype(np.float32)
    bias = rng.standard_normal(M).astype(np.float32)
    c = cuda.asarray(c0)
    cuda.C.gemm_tf32(
        cuda.asarray(a),
        cuda.asarray(b),
        c,
        trans_a,
        trans_b,
        0.5,
        0.25,
        cuda.asarray(bias),
        True,
        "relu",
    )
    ref = gemm_ref(
        a.astype(np.float64),
        b.astype(np.float64),
        trans_a,
        trans_b,
        0.5,
        0.25,
        c0,
        bias,
        True,
        "relu",
    )
    t = tf32_tolerance(K)
    np.testing.assert_allclose(cuda.numpy(c), ref, rtol=t, atol=t * np.sqrt(K))


def test_gemm_tf32_batched_broadcast_and_beta_zero_ignores_nan(cuda):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1, 33, 17)).astype(np.float32)  # broadcast over the batch
    b = rng.standard_normal((3, 17, 65)).astype(np.float32)
    c = cuda.asarray(np.full((3, 33, 65), np.nan, np.float32))  # beta == 0: never read
    cuda.C.gemm_tf32(cuda.asarray(a), cuda.asarray(b), c)
    a64 = np.broadcast_to(a, (3, 33, 17)).astype(np.float64)
    ref = np.einsum("bmk,bkn->bmn", a64, b.astype(np.float64))
    t = tf32_tolerance(17)
    np.testing.assert_allclose(cuda.numpy(c), ref, rtol=t, atol=t * 5)


def test_gemm_tf32_rejects_what_gemm_rejects(cuda):
    a, b = cuda.asarray(np.ones((4, 5), np.float32)), cuda.asarray(np.ones((5, 6), np.float32))
    with pytest.raises(TypeError, match="float32"):
        cuda.C.gemm_tf32(
            cuda.asarray(np.ones((4, 5))),
            cuda.asarray(np.ones((5, 6))),
            cuda.asarray(np.ones((4, 6))),
        )
    with pytest.raises(ValueError, match="inner dimensions differ"):
        cuda.C.gemm_tf32(a, a, cuda.asarray(np.ones((4, 5), np.float32)))
    with pytest.raises(ValueError, match="argument 'c' must be 4x6"):
        cuda.C.gemm_tf32(a, b, cuda.asarray(np.ones((4, 7), np.float32)))
    with pytest.raises(ValueError, match="'activation' must be"):
        cuda.C.gemm_tf32(a, b, cuda.asarray(np.ones((4, 6), np.float32)), activation="tanh")
    with pytest.raises(TypeError, match="CUDA array"):
        cuda.C.gemm_tf32(np.ones((4, 5), np.float32), b, cuda.asarray(np.ones((4, 6), np.float32)))


def test_device_helpers(cuda):
    assert cuda.C.device_count() >= 1
    cuda.C.synchronize()
