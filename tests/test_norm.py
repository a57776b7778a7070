"""Normalisation kernels (batch, layer, group norm) against NumPy float64 references.

Every norm normalises "rows" of values that share statistics: batch norm the N*S values of a
channel, layer norm the D values of a row, group norm the (C/G)*S values of a (sample, group).
The references map each layout onto rows and use one plain row normaliser and its gradient."""
import numpy as np
import pytest
from kernel_checks import DTYPES, assert_close, check_gradients


# ---- float64 references ------------------------------------------------------------------------
def rows_forward(rows, eps):
    """rows (R, K) -> xhat, mean (R,), rstd (R,) with the biased variance."""
    mean = rows.mean(axis=1)
    var = ((rows - mean[:, None]) ** 2).mean(axis=1)
    rstd = 1.0 / np.sqrt(var + eps)
    return (rows - mean[:, None]) * rstd[:, None], mean, rstd


def rows_backward(g, xhat, rstd):
    """Gradient of xhat w.r.t. the rows, given g = dL/dxhat (R, K)."""
    return rstd[:, None] * (g - g.mean(axis=1, keepdims=True)
                            - xhat * (g * xhat).mean(axis=1, keepdims=True))


def channel_rows(x):
    """(N, C, S) -> (C, N*S): the values of each channel as one row."""
    return x.transpose(1, 0, 2).reshape(x.shape[1], -1)


def channel_unrows(r, shape):
    N, C, S = shape
    return r.reshape(C, N, S).transpose(1, 0, 2)


def batch_norm_ref(x, w, b, eps):
    xhat, mean, rstd = rows_forward(channel_rows(x), eps)
    xhat = channel_unrows(xhat, x.shape)
    return xhat * w[None, :, None] + b[None, :, None], xhat, mean, rstd


def batch_norm_backward_ref(dy, x, w, eps):
    _, xhat, _, rstd = batch_norm_ref(x, w, np.zeros_like(w), eps)
    g = channel_rows(dy * w[None, :, None])
    gx = channel_unrows(rows_backward(g, channel_rows(xhat), rstd), x.shape)
    return gx, (dy * xhat).sum(axis=(0, 2)), dy.sum(axis=(0, 2))


def group_norm_ref(x, G, w, b, eps):
    N, C, S = x.shape
    xhat, mean, rstd = rows_forward(x.reshape(N * G, C // G * S), eps)
    xhat = xhat.reshape(x.shape)
    return (xhat * w[None, :, None] + b[None, :, None], xhat, mean.reshape(N, G),
            rstd.reshape(N, G))


def group_norm_backward_ref(dy, x, G, w, eps):
    N, C, S = x.shape
    _, xhat, _, rstd = group_norm_ref(x, G, w, np.zeros_like(w), eps)
    K = C // G * S
    g = (dy * w[None, :, None]).reshape(N * G, K)
    gx = rows_backward(g, xhat.reshape(N * G, K), rstd.reshape(-1)).reshape(x.shape)
    return gx, (dy * xhat).sum(axis=(0, 2)), dy.sum(axis=(0, 2))


# ---- helpers -------------------------------------------------------------------------------------
def as_ncs(shape):
    return (shape[0], shape[1], int(np.prod(shape[2:], dtype=np.int64)))


def affine(rng, C, dtype, present):
    if not present:
        return None, None, np.ones(C), np.zeros(C)
    w = rng.standard_normal(C).astype(dtype)
    b = rng.standard_normal(C).astype(dtype)
    return w, b, w.astype(np.float64), b.astype(np.float64)


def dev(kernels, a):
    return None if a is None else kernels.asarray(a)


def grad_x_scale(dy, w, rstd):
    """Magnitude of the terms that make up grad_x (w * rstd * dy): its error floor, since grad_x
    itself can cancel to ~0 (e.g. two values per statistic)."""
    return float(np.abs(dy).max(initial=0) * np.abs(w).max(initial=0) * np.max(rstd, initial=0))


# ---- batch norm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (4, 5, 7), (3, 4, 5, 6), (1, 3, 7), (7, 1, 1, 3)])
@pytest.mark.parametrize("with_affine", [True, False])
def test_batch_norm_train_forward(kernels, rng, dtype, shape, with_affine):
    x = rng.standard_normal(shape).astype(dtype) * 3 + 2
    C = shape[1]
    w, b, w64, b64 = affine(rng, C, dtype, with_affine)
    rm = rng.standard_normal(C).astype(dtype)
    rv = rng.uniform(0.5, 2, C).astype(dtype)
    momentum, eps = 0.1, 1e-5
    d_rm, d_rv = kernels.asarray(rm.copy()), kernels.asarray(rv.copy())  # updated in place
    out = kernels.empty(shape, dtype)
    sm, sr = kernels.empty((C,), dtype), kernels.empty((C,), dtype)
    kernels.C.batch_norm_forward_train(kernels.asarray(x), dev(kernels, w), dev(kernels, b), d_rm,
                                       d_rv, momentum, eps, out, sm, sr)
    x64 = x.astype(np.float64).reshape(as_ncs(shape))
    ref, _, mean, rstd = batch_norm_ref(x64, w64, b64, eps)
    n = x64.shape[0] * x64.shape[2]
    assert_close(kernels.numpy(out), ref.reshape(shape), dtype, k=n)
    assert_close(kernels.numpy(sm), mean, dtype, k=n, scale=1)
    assert_close(kernels.numpy(sr), rstd, dtype, k=n)
    var_unbiased = 1 / rstd**2 - eps
    var_unbiased *= n / (n - 1)
    assert_close(kernels.numpy(d_rm), 0.9 * rm + 0.1 * mean, dtype, k=n)
    assert_close(kernels.numpy(d_rv), 0.9 * rv + 0.1 * var_unbiased, dtype, k=n)


@pytest.mark.parametrize("with_affine", [True, False])
def test_batch_norm_train_large_mean_float32(kernels, rng, with_affine):
    """Mean 1e4, std 1 in float32: a one-pass E[x^2] - E[x]^2 would lose the variance entirely."""
    shape, dtype, eps = (16, 3, 9, 11), np.float32, 1e-5
    x = (1e4 + rng.standard_normal(shape)).astype(dtype)
    w, b, w64, b64 = affine(rng, 3, dtype, with_affine)
    out = kernels.empty(shape, dtype)
    sm, sr = kernels.empty((3,), dtype), kernels.empty((3,), dtype)
    rv = kernels.asarray(np.ones(3, dtype))
    kernels.C.batch_norm_forward_train(kernels.asarray(x), dev(kernels, w), dev(kernels, b), None,
                                       rv, 0.5, eps, out, sm, sr)
    ref, _, mean, rstd = batch_norm_ref(x.astype(np.float64).reshape(as_ncs(shape)), w64, b64, eps)
    n = 16 * 99
    assert_close(kernels.numpy(out), ref.reshape(shape), dtype, k=n, scale=1)
    assert_close(kernels.numpy(sm), mean, dtype, k=1)
    assert_close(kernels.numpy(sr), rstd, dtype, k=n)
    assert_close(kernels.numpy(rv), 0.5 + 0.5 * (1 / rstd**2 - eps) * n / (n - 1), dtype, k=n)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (4, 5, 7), (1, 3, 7), (0, 3, 4)])
def test_batch_norm_eval(kernels, rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    C = shape[1]
    w, b, w64, b64 = affine(rng, C, dtype, True)
    rm = rng.standard_normal(C).astype(dtype)
    rv = rng.uniform(0.5, 2, C).astype(dtype)
    out = kernels.empty(shape, dtype)
    kernels.C.batch_norm_forward_eval(kernels.asarray(x), dev(kernels, w), dev(kernels, b),
                                      kernels.asarray(rm), kernels.asarray(rv), 1e-3, out)
    x64 = x.astype(np.float64).reshape(as_ncs(shape))
    sl = (None, slice(None), None)
    ref = (x64 - rm.astype(np.float64)[sl]) / np.sqrt(rv.astype(np.float64)[sl] + 1e-3)
    ref = ref * w64[sl] + b64[sl]
    assert_close(kernels.numpy(out), ref.reshape(shape), dtype)


def test_batch_norm_empty_batch(kernels):
    x = np.zeros((0, 3, 4), np.float32)
    rm, rv = kernels.asarray(np.ones(3, np.float32)), kernels.asarray(np.ones(3, np.float32))
    out = kernels.empty(x.shape, np.float32)
    sm, sr = kernels.empty((3,), np.float32), kernels.empty((3,), np.float32)
    kernels.C.batch_norm_forward_train(kernels.asarray(x), None, None, rm, rv, 0.1, 1e-5, out,
                                       sm, sr)
    np.testing.assert_array_equal(kernels.numpy(rm), 1)  # running statistics untouched
    np.testing.assert_array_equal(kernels.numpy(rv), 1)
    np.testing.assert_array_equal(kernels.numpy(sm), 0)  # csrc/cpu/norm.h: mean 0, rstd 1/sqrt(eps)
    np.testing.assert_allclose(kernels.numpy(sr), 1 / np.sqrt(np.float32(1e-5)), rtol=1e-6)
    gw, gb = kernels.empty((3,), np.float32), kernels.empty((3,), np.float32)
    kernels.C.batch_norm_backward(kernels.asarray(x), kernels.asarray(x), None, sm, sr,
                                  kernels.empty(x.shape, np.float32), gw, gb)
    np.testing.assert_array_equal(kernels.numpy(gw), 0)
    np.testing.assert_array_equal(kernels.numpy(gb), 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(2, 3), (4, 5, 7), (3, 4, 5, 6), (1, 3, 7)])
@pytest.mark.parametrize("with_weight", [True, False])
def test_batch_norm_backward(kernels, rng, dtype, shape, with_weight):
    x = (rng.standard_normal(shape) * 2 + 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    C, eps = shape[1], 1e-5
    w, _, w64, _ = affine(rng, C, dtype, with_weight)
    x64 = x.astype(np.float64).reshape(as_ncs(shape))
    _, _, mean, rstd = batch_norm_ref(x64, w64, w64, eps)
    gx, gw, gb = (kernels.empty(shape, dtype), kernels.empty((C,), dtype),
                  kernels.empty((C,), dtype))
    kernels.C.batch_norm_backward(kernels.asarray(dy), kernels.asarray(x), dev(kernels, w),
                                  kernels.asarray(mean.astype(dtype)),
                                  kernels.asarray(rstd.astype(dtype)), gx, gw, gb)
    rgx, rgw, rgb = batch_norm_backward_ref(dy.astype(np.float64).reshape(x64.shape), x64, w64, eps)
    n = x64.shape[0] * x64.shape[2]
    assert_close(kernels.numpy(gx), rgx.reshape(shape), dtype, k=n,
                 scale=grad_x_scale(dy, w64, rstd))
    assert_close(kernels.numpy(gw), rgw, dtype, k=n)
    assert_close(kernels.numpy(gb), rgb, dtype, k=n)
    # Gradients left out are simply not computed.
    gx2 = kernels.empty(shape, dtype)
    kernels.C.batch_norm_backward(kernels.asarray(dy), kernels.asarray(x), dev(kernels, w),
                                  kernels.asarray(mean.astype(dtype)),
                                  kernels.asarray(rstd.astype(dtype)), gx2, None, None)
    np.testing.assert_array_equal(kernels.numpy(gx2), kernels.numpy(gx))


def test_batch_norm_finite_differences(kernels, rng):
    shape, eps = (3, 2, 4), 1e-5
    x0, w0, b0 = rng.standard_normal(shape), rng.standard_normal(2), rng.standard_normal(2)
    proj = rng.standard_normal(shape)

    def forward(x, w, b):
        out = kernels.empty(shape, np.float64)
        sm, sr = kernels.empty((2,), np.float64), kernels.empty((2,), np.float64)
        kernels.C.batch_norm_forward_train(kernels.asarray(x), kernels.asarray(w),
                                           kernels.asarray(b), None, None, 0.1, eps, out, sm, sr)
        return kernels.numpy(out), sm, sr

    _, sm, sr = forward(x0, w0, b0)
    gx, gw, gb = (kernels.empty(shape, np.float64), kernels.empty((2,), np.float64),
                  kernels.empty((2,), np.float64))
    kernels.C.batch_norm_backward(kernels.asarray(proj), kernels.asarray(x0), kernels.asarray(w0),
                                  sm, sr, gx, gw, gb)
    check_gradients(lambda a: float(np.sum(forward(*a)[0] * proj)), [x0, w0, b0],
                    [kernels.numpy(g) for g in (gx, gw, gb)], rng)


# ---- layer norm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("M,D", [(1, 1), (5, 7), (73, 74), (0, 8), (3, 1000)])
@pytest.mark.parametrize("with_affine", [True, False])
def test_layer_norm(kernels, rng, dtype, M, D, with_affine):
    x = (rng.standard_normal((M, D)) * 2 - 1).astype(dtype)
    dy = rng.standard_normal((M, D)).astype(dtype)
    w, b, w64, b64 = affine(rng, D, dtype, with_affine)
    eps = 1e-5
    out, sm, sr = kernels.empty((M, D), dtype), kernels.empty((M,), dtype), kernels.empty((M,), dtype)
    kernels.C.layer_norm_forward(kernels.asarray(x), dev(kernels, w), dev(kernels, b), eps, out,
                                 sm, sr)
    xhat, mean, rstd = rows_forward(x.astype(np.float64), eps)
    assert_close(kernels.numpy(out), xhat * w64 + b64, dtype, k=D)
    assert_close(kernels.numpy(sm), mean, dtype, k=D, scale=1)
    assert_close(kernels.numpy(sr), rstd, dtype, k=D)

    gx, gw, gb = kernels.empty((M, D), dtype), kernels.empty((D,), dtype), kernels.empty((D,), dtype)
    kernels.C.layer_norm_backward(kernels.asarray(dy), kernels.asarray(x), dev(kernels, w), sm, sr,
                                  gx, gw, gb)
    dy64 = dy.astype(np.float64)
    assert_close(kernels.numpy(gx), rows_backward(dy64 * w64, xhat, rstd), dtype, k=D,
                 scale=grad_x_scale(dy, w64, rstd))
    assert_close(kernels.numpy(gw), (dy64 * xhat).sum(axis=0), dtype, k=M)
    assert_close(kernels.numpy(gb), dy64.sum(axis=0), dtype, k=M)


def test_layer_norm_large_mean_float32(kernels, rng):
    x = (1e4 + rng.standard_normal((4, 300))).astype(np.float32)
    out = kernels.empty(x.shape, np.float32)
    sm, sr = kernels.empty((4,), np.float32), kernels.empty((4,), np.float32)
    kernels.C.layer_norm_forward(kernels.asarray(x), None, None, 1e-5, out, sm, sr)
    xhat, _, _ = rows_forward(x.astype(np.float64), 1e-5)
    assert_close(kernels.numpy(out), xhat, np.float32, k=300, scale=1)


def test_layer_norm_finite_differences(kernels, rng):
    M, D, eps = 3, 5, 1e-5
    x0, w0, b0 = rng.standard_normal((M, D)), rng.standard_normal(D), rng.standard_normal(D)
    proj = rng.standard_normal((M, D))

    def forward(x, w, b):
        out = kernels.empty((M, D), np.float64)
        sm, sr = kernels.empty((M,), np.float64), kernels.empty((M,), np.float64)
        kernels.C.layer_norm_forward(kernels.asarray(x), kernels.asarray(w), kernels.asarray(b),
                                     eps, out, sm, sr)
        return kernels.numpy(out), sm, sr

    _, sm, sr = forward(x0, w0, b0)
    grads = [kernels.empty((M, D), np.float64), kernels.empty((D,), np.float64),
             kernels.empty((D,), np.float64)]
    kernels.C.layer_norm_backward(kernels.asarray(proj), kernels.asarray(x0), kernels.asarray(w0),
                                  sm, sr, *grads)
    check_gradients(lambda a: float(np.sum(forward(*a)[0] * proj)), [x0, w0, b0],
                    [kernels.numpy(g) for g in grads], rng)


# ---- group norm ----------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape,G", [((2, 6, 5), 3), ((1, 4), 2), ((3, 8, 4, 5), 8),
                                     ((2, 6, 7, 3), 1), ((0, 4, 3), 2)])
@pytest.mark.parametrize("with_affine", [True, False])
def test_group_norm(kernels, rng, dtype, shape, G, with_affine):
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    dy = rng.standard_normal(shape).astype(dtype)
    N, C = shape[0], shape[1]
    w, b, w64, b64 = affine(rng, C, dtype, with_affine)
    eps = 1e-5
    out, sm, sr = (kernels.empty(shape, dtype), kernels.empty((N, G), dtype),
                   kernels.empty((N, G), dtype))
    kernels.C.group_norm_forward(kernels.asarray(x), G, dev(kernels, w), dev(kernels, b), eps, out,
                                 sm, sr)
    x64 = x.astype(np.float64).reshape(as_ncs(shape))
    ref, _, mean, rstd = group_norm_ref(x64, G, w64, b64, eps)
    K = x64.shape[1] // G * x64.shape[2]
    assert_close(kernels.numpy(out), ref.reshape(shape), dtype, k=K)
    assert_close(kernels.numpy(sm), mean, dtype, k=K, scale=1)
    assert_close(kernels.numpy(sr), rstd, dtype, k=K)

    gx, gw, gb = kernels.empty(shape, dtype), kernels.empty((C,), dtype), kernels.empty((C,), dtype)
    kernels.C.group_norm_backward(kernels.asarray(dy), kernels.asarray(x), G, dev(kernels, w), sm,
                                  sr, gx, gw, gb)
    rgx, rgw, rgb = group_norm_backward_ref(dy.astype(np.float64).reshape(x64.shape), x64, G, w64,
                                            eps)
    assert_close(kernels.numpy(gx), rgx.reshape(shape), dtype, k=K,
                 scale=grad_x_scale(dy, w64, rstd))
    assert_close(kernels.numpy(gw), rgw, dtype, k=N * K)
    assert_close(kernels.numpy(gb), rgb, dtype, k=N * K)


def test_group_norm_finite_differences(kernels, rng):
    shape, G, eps = (2, 4, 3), 2, 1e-5
    x0, w0, b0 = rng.standard_normal(shape), rng.standard_normal(4), rng.standard_normal(4)
    proj = rng.standard_normal(shape)

    def forward(x, w, b):
        out = kernels.empty(shape, np.float64)
        sm, sr = kernels.empty((2, G), np.float64), kernels.empty((2, G), np.float64)
        kernels.C.group_norm_forward(kernels.asarray(x), G, kernels.asarray(w), kernels.asarray(b),
                                     eps, out, sm, sr)
        return kernels.numpy(out), sm, sr

    _, sm, sr = forward(x0, w0, b0)
    grads = [kernels.empty(shape, np.float64), kernels.empty((4,), np.float64),
             kernels.empty((4,), np.float64)]
    kernels.C.group_norm_backward(kernels.asarray(proj), kernels.asarray(x0), G,
                                  kernels.asarray(w0), sm, sr, *grads)
    check_gradients(lambda a: float(np.sum(forward(*a)[0] * proj)), [x0, w0, b0],
                    [kernels.numpy(g) for g in grads], rng)


# ---- argument checks -----------------------------------------------------------------------------
def test_norm_argument_errors(kernels):
    f32 = np.float32
    x = kernels.asarray(np.ones((4, 3, 5), f32))
    out, s3 = kernels.empty((4, 3, 5), f32), kernels.empty((3,), f32)
    C = kernels.C
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        C.batch_norm_forward_train(kernels.asarray(np.ones((1, 3), f32)), None, None, None, None,
                                   0.1, 1e-5, kernels.empty((1, 3), f32), s3, kernels.empty((3,), f32))
    with pytest.raises(ValueError, match="'weight' must have shape"):
        C.batch_norm_forward_train(x, kernels.asarray(np.ones(4, f32)), None, None, None, 0.1,
                                   1e-5, out, s3, kernels.empty((3,), f32))
    with pytest.raises(TypeError, match="'bias' must have the same dtype"):
        C.batch_norm_forward_train(x, None, kernels.asarray(np.ones(3)), None, None, 0.1, 1e-5,
                                   out, s3, kernels.empty((3,), f32))
    with pytest.raises(TypeError, match="'x' must be float32 or float64"):
        C.layer_norm_forward(kernels.asarray(np.ones((2, 3), np.int32)), None, None, 1e-5,
                             kernels.empty((2, 3), f32), kernels.empty((2,), f32),
                             kernels.empty((2,), f32))
    with pytest.raises(ValueError, match="'x' must have 2 dimensions"):
        C.layer_norm_forward(x, None, None, 1e-5, out, s3, s3)
    with pytest.raises(ValueError, match="'x' must be C-contiguous"):
        C.layer_norm_forward(kernels.asarray(np.ones((2, 6), f32))[:, ::2], None, None, 1e-5,
                             kernels.empty((2, 3), f32), kernels.empty((2,), f32),
                             kernels.empty((2,), f32))
    with pytest.raises(ValueError, match="'save_rstd' must have shape"):
        C.layer_norm_forward(kernels.asarray(np.ones((2, 3), f32)), None, None, 1e-5,
                             kernels.empty((2, 3), f32), kernels.empty((2,), f32),
                             kernels.empty((3,), f32))
    with pytest.raises(ValueError, match="'eps' must be a finite number"):
        C.layer_norm_forward(kernels.asarray(np.ones((2, 3), f32)), None, None, -1.0,
                             kernels.empty((2, 3), f32), kernels.empty((2,), f32),
                             kernels.empty((2,), f32))
    with pytest.raises(ValueError, match="'num_groups' must be positive and divide"):
        C.group_norm_forward(x, 2, None, None, 1e-5, out, kernels.empty((4, 2), f32),
                             kernels.empty((4, 2), f32))
    with pytest.raises(ValueError, match="'grad_out' must have shape"):
        C.group_norm_backward(kernels.asarray(np.ones((4, 3), f32)), x, 3, None,
                              kernels.empty((4, 3), f32), kernels.empty((4, 3), f32), None, None,
                              None)
    if kernels.name == "cpu":
        ro = np.empty((4, 3, 5), f32)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="'out' is read-only"):
            C.batch_norm_forward_eval(x, None, None, s3, s3, 1e-5, ro)
