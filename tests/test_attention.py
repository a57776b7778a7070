"""Fused scaled dot-product attention against a NumPy float64 reference that materialises the
full score matrix.

Convention under test (documented in csrc/cpu/attention.h): a query row that sees no key at all
(every score -inf) outputs 0 with lse = -inf and gets no gradient; PyTorch returns NaN there."""
import numpy as np
import pytest
from kernel_checks import DTYPES, assert_close, check_gradients


# ---- float64 reference ---------------------------------------------------------------------------
def scores_ref(q, k, mask, is_causal, scale):
    s = scale * np.einsum("bid,bjd->bij", q, k)
    if mask is not None:
        s = s + mask
    if is_causal:
        Tq, Tk = s.shape[1:]
        s = np.where(np.arange(Tk)[None, :] <= np.arange(Tq)[:, None], s, -np.inf)
    return s


def sdpa_ref(q, k, v, mask, is_causal, scale):
    """out, lse and the probabilities P (zero rows where no key is visible)."""
    s = scores_ref(q, k, mask, is_causal, scale)
    m = s.max(axis=2, initial=-np.inf, keepdims=True)
    seen = np.isfinite(m)
    e = np.exp(s - np.where(seen, m, 0))
    denom = e.sum(axis=2, keepdims=True)
    p = np.where(seen, e / np.where(seen, denom, 1), 0)
    lse = np.where(seen, m + np.log(np.where(seen, denom, 1)), -np.inf)[..., 0]
    return np.einsum("bij,bjd->bid", p, v), lse, p


def sdpa_backward_ref(dout, q, k, v, mask, is_causal, scale):
    _, _, p = sdpa_ref(q, k, v, mask, is_causal, scale)
    dv = np.einsum("bij,bid->bjd", p, dout)
    dp = np.einsum("bid,bjd->bij", dout, v)
    ds = p * (dp - (dp * p).sum(axis=2, keepdims=True))
    return scale * np.einsum("bij,bjd->bid", ds, k), scale * np.einsum("bij,bid->bjd", ds, q), dv


# ---- helpers -------------------------------------------------------------------------------------
def run(kernels, q, k, v, mask, is_causal, scale, dout=None):
    B, Tq, _ = q.shape
    Dv = v.shape[2]
    dt = q.dtype
    q_d, k_d, v_d = (kernels.asarray(a) for a in (q, k, v))
    dm = None if mask is None else kernels.asarray(mask)
    out, lse = kernels.empty((B, Tq, Dv), dt), kernels.empty((B, Tq), dt)
    kernels.C.scaled_dot_product_attention_forward(q_d, k_d, v_d, dm, is_causal, scale, out, lse)
    if dout is None:
        return kernels.numpy(out), kernels.numpy(lse)
    gq, gk, gv = kernels.empty(q.shape, dt), kernels.empty(k.shape, dt), kernels.empty(v.shape, dt)
    kernels.C.scaled_dot_product_attention_backward(kernels.asarray(dout), q_d, k_d, v_d, dm, is_causal, scale, out,
                                                    lse,
                            gq, gk, gv)
    return kernels.numpy(out), kernels.numpy(lse), kernels.numpy(gq), kernels.numpy(gk), \
        kernels.numpy(gv)


def make_mask(rng, kind, B, Tq, Tk, dtype):
    if kind == "none":
        return None
    if kind == "additive":
        return rng.standard_normal((B, Tq, Tk)).astype(dtype)
    if kind == "broadcast":
        return rng.standard_normal((1, Tq, Tk)).astype(dtype)
    keep = rng.random((B, Tq, Tk)) > 0.3  # boolean mask -> 0 / -inf, as the Python layer does
    if Tq > 1:
        keep[:, 1, :] = False  # one query row that sees nothing
    return np.where(keep, 0.0, -np.inf).astype(dtype)


def check(kernels, rng, dtype, B, Tq, Tk, D, Dv, mask_kind, is_causal, scale=None, c=8.0):
    q = rng.standard_normal((B, Tq, D)).astype(dtype)
    k = rng.standard_normal((B, Tk, D)).astype(dtype)
    v = rng.standard_normal((B, Tk, Dv)).astype(dtype)
    dout = rng.standard_normal((B, Tq, Dv)).astype(dtype)
    mask = make_mask(rng, mask_kind, B, Tq, Tk, dtype)
    out, lse, gq, gk, gv = run(kernels, q, k, v, mask, is_causal, scale, dout)
    f64 = (lambda a: None if a is None else a.astype(np.float64))
    s = (1 / np.sqrt(D) if D else 1.0) if scale is None else scale
    rout, rlse, _ = sdpa_ref(f64(q), f64(k), f64(v), f64(mask), is_causal, s)
    rgq, rgk, rgv = sdpa_backward_ref(f64(dout), f64(q), f64(k), f64(v), f64(mask), is_causal, s)
    n = Tk + D + Dv  # length of the reductions feeding each result
    assert_close(out, rout, dtype, k=n, c=c, scale=1)
    assert np.array_equal(np.isinf(lse), np.isinf(rlse))
    fin = np.isfinite(rlse)
    assert_close(lse[fin], rlse[fin], dtype, k=n, c=c, scale=1)
    assert_close(gq, rgq, dtype, k=n, c=c, scale=1)
    assert_close(gk, rgk, dtype, k=n + Tq, c=c, scale=1)
    assert_close(gv, rgv, dtype, k=n + Tq, c=c, scale=1)
    return out, lse, gq, rlse


# ---- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("B,Tq,Tk,D,Dv", [(1, 1, 1, 1, 1), (2, 7, 5, 3, 4), (3, 73, 74, 16, 8),
                                          (2, 130, 70, 64, 64), (1, 65, 129, 17, 33)])
@pytest.mark.parametrize("mask_kind", ["none", "additive", "boolean", "broadcast"])
@pytest.mark.parametrize("is_causal", [False, True])
def test_sdpa(kernels, rng, dtype, B, Tq, Tk, D, Dv, mask_kind, is_causal):
    check(kernels, rng, dtype, B, Tq, Tk, D, Dv, mask_kind, is_causal)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sdpa_long_sequence(kernels, rng, dtype):
    check(kernels, rng, dtype, 2, 1000, 1000, 32, 32, "none", True)
    check(kernels, rng, dtype, 1, 1000, 700, 64, 48, "boolean", False)


def test_sdpa_explicit_scale_and_large_scores(kernels, rng):
    # Scores of +-100: the online softmax must not overflow. They are scale * sqrt(D) = 28 times
    # larger than at the default scale, and so is their rounding error (hence c).
    D, scale = 8, 10.0
    check(kernels, rng, np.float32, 2, 33, 90, D, 8, "additive", False, scale=scale,
          c=8.0 * scale * np.sqrt(D))


def test_sdpa_rows_that_see_no_key(kernels, rng):
    """Fully masked rows (and Tk = 0) give out = 0, lse = -inf and zero gradients."""
    out, lse, gq, _ = check(kernels, rng, np.float64, 2, 6, 9, 4, 5, "boolean", False)
    assert np.all(out[:, 1] == 0) and np.all(lse[:, 1] == -np.inf) and np.all(gq[:, 1] == 0)
    q, k, v = np.ones((1, 3, 4)), np.ones((1, 0, 4)), np.ones((1, 0, 2))
    out, lse, gq, _, _ = run(kernels, q, k, v, None, False, None, np.ones((1, 3, 2)))
    assert np.all(out == 0) and np.all(lse == -np.inf) and np.all(gq == 0)


@pytest.mark.parametrize("B,Tq,Tk", [(0, 3, 3), (2, 0, 5)])
def test_sdpa_empty(kernels, rng, B, Tq, Tk):
    check(kernels, rng, np.float32, B, Tq, Tk, 4, 4, "none", False)


def test_sdpa_finite_differences(kernels, rng):
    B, Tq, Tk, D, Dv = 2, 5, 6, 3, 4
    q0, k0, v0 = (rng.standard_normal((B, Tq, D)), rng.standard_normal((B, Tk, D)),
                  rng.standard_normal((B, Tk, Dv)))
    mask = rng.standard_normal((1, Tq, Tk))
    proj = rng.standard_normal((B, Tq, Dv))
    for is_causal in (False, True):
        _, _, gq, gk, gv = run(kernels, q0, k0, v0, mask, is_causal, 0.7, proj)
        check_gradients(lambda a, c=is_causal: float(np.sum(run(kernels, *a, mask, c, 0.7)[0] * proj)),
                        [q0, k0, v0], [gq, gk, gv], rng)


def test_sdpa_argument_errors(kernels):
    f32 = np.float32
    q, k, v = (kernels.asarray(np.zeros(s, f32)) for s in ((2, 3, 4), (2, 5, 4), (2, 5, 6)))
    out, lse = kernels.empty((2, 3, 6), f32), kernels.empty((2, 3), f32)
    C = kernels.C
    fwd, bwd = C.scaled_dot_product_attention_forward, C.scaled_dot_product_attention_backward
    with pytest.raises(ValueError, match="'k' must have shape"):
        fwd(q, kernels.asarray(np.zeros((2, 5, 3), f32)), v, None, False, None, out, lse)
    with pytest.raises(ValueError, match="'v' must have shape"):
        fwd(q, k, kernels.asarray(np.zeros((2, 4, 6), f32)), None, False, None, out,
                       lse)
    with pytest.raises(ValueError, match="'mask' must have batch 2 or 1"):
        fwd(q, k, v, kernels.asarray(np.zeros((3, 3, 5), f32)), False, None, out, lse)
    with pytest.raises(ValueError, match="'mask' must have shape"):
        fwd(q, k, v, kernels.asarray(np.zeros((1, 3, 4), f32)), False, None, out, lse)
    with pytest.raises(TypeError, match="'mask' must have the same dtype"):
        fwd(q, k, v, kernels.asarray(np.zeros((1, 3, 5))), False, None, out, lse)
    with pytest.raises(ValueError, match="'q' must have 3 dimensions"):
        fwd(kernels.asarray(np.zeros((3, 4), f32)), k, v, None, False, None, out, lse)
    with pytest.raises(ValueError, match="'lse' must have shape"):
        fwd(q, k, v, None, False, None, out, kernels.empty((2, 4), f32))
    with pytest.raises(ValueError, match="'scale' must be finite"):
        fwd(q, k, v, None, False, float("inf"), out, lse)
    with pytest.raises(ValueError, match="'q' must be C-contiguous"):
        fwd(kernels.asarray(np.zeros((2, 4, 3), f32)).transpose(0, 2, 1), k, v, None,
                       False, None, out, lse)
    with pytest.raises(ValueError, match="'grad_k' must have shape"):
        bwd(out, q, k, v, None, False, None, out, lse, kernels.empty((2, 3, 4), f32),
                        kernels.empty((2, 5, 6), f32), kernels.empty((2, 5, 6), f32))
