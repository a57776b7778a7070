"""Pooling and upsampling family: max/avg/adaptive pooling, max unpooling, nearest and bilinear
upsampling, forward and backward.

References are NumPy float64 loops over output positions (vectorised over the N*C planes only),
written from PyTorch's definitions; each backward is checked against the reference's own
gradient and, in float64, against central differences on a tiny case.
"""

from __future__ import annotations

import numpy as np
import pytest

# ---- references ------------------------------------------------------------------------------


def pool_size(n, k, s, p, d, ceil_mode):
    """PyTorch's pooling output size (ceil mode: the last window starts inside input + left pad)."""
    span = n + 2 * p - d * (k - 1) - 1
    out = (span + (s - 1 if ceil_mode else 0)) // s + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def ref_max_pool(x, k, s, p, d, out_hw):
    """Max and flat argmax over each window; a NaN wins (the last one), ties keep the first."""
    n, c, h, w = x.shape
    out = np.full((n, c, *out_hw), -np.inf)
    idx = np.zeros((n, c, *out_hw), np.int64)
    for oh in range(out_hw[0]):
        for ow in range(out_hw[1]):
            first = True
            for i in range(k[0]):
                ih = oh * s[0] - p[0] + i * d[0]
                for j in range(k[1]):
                    iw = ow * s[1] - p[1] + j * d[1]
                    if not (0 <= ih < h and 0 <= iw < w):
                        continue
                    v = x[:, :, ih, iw]
                    take = (v > out[:, :, oh, ow]) | np.isnan(v)
                    if first:  # the index starts at the first tap inside the input
                        idx[:, :, oh, ow] = ih * w + iw
                        first = False
                    out[:, :, oh, ow] = np.where(take, v, out[:, :, oh, ow])
                    idx[:, :, oh, ow] = np.where(take, ih * w + iw, idx[:, :, oh, ow])
            assert not first, "the test generated a window without input elements"
    return out, idx


def ref_scatter_add(g, idx, hw):
    """grad_x of max pooling: each output's gradient added at its argmax."""
    n, c = g.shape[:2]
    gx = np.zeros((n * c, hw[0] * hw[1]))
    planes = zip(g.reshape(n * c, np.prod(g.shape[2:])), idx.reshape(n * c, np.prod(g.shape[2:])))
    for plane, (gp, ip) in enumerate(planes):
        np.add.at(gx[plane], ip, gp)
    return gx.reshape(n, c, *hw)


def avg_windows(hw, out_hw, k, s, p, count_include_pad, divisor_override):
    """(oh, ow, rows, cols, divisor) for every non-empty window, by PyTorch's rules."""
    for oh in range(out_hw[0]):
        for ow in range(out_hw[1]):
            h0, w0 = oh * s[0] - p[0], ow * s[1] - p[1]
            h1, w1 = min(h0 + k[0], hw[0] + p[0]), min(w0 + k[1], hw[1] + p[1])
            padded = (h1 - h0) * (w1 - w0)
            h0, w0, h1, w1 = max(h0, 0), max(w0, 0), min(h1, hw[0]), min(w1, hw[1])
            if h0 >= h1 or w0 >= w1:
                continue
            divisor = divisor_override or (padded if count_include_pad else (h1 - h0) * (w1 - w0))
            yield oh, ow, slice(h0, h1), slice(w0, w1), divisor


def ref_avg_pool(x, out_hw, *rules):
    out = np.zeros(x.shape[:2] + tuple(out_hw))
    for oh, ow, rows, cols, divisor in avg_windows(x.shape[2:], out_hw, *rules):
        out[:, :, oh, ow] = x[:, :, rows, cols].sum(axis=(2, 3)) / divisor
    return out


def ref_avg_pool_backward(g, hw, *rules):
    gx = np.zeros(g.shape[:2] + tuple(hw))
    for oh, ow, rows, cols, divisor in avg_windows(hw, g.shape[2:], *rules):
        gx[:, :, rows, cols] += g[:, :, oh, ow, None, None] / divisor
    return gx


def adaptive_range(i, n_in, n_out):
    return slice(i * n_in // n_out, -(-(i + 1) * n_in // n_out))


def ref_adaptive_avg(x, out_hw):
    out = np.zeros(x.shape[:2] + tuple(out_hw))
    for oh in range(out_hw[0]):
        for ow in range(out_hw[1]):
            win = x[
                :,
                :,
                adaptive_range(oh, x.shape[2], out_hw[0]),
                adaptive_range(ow, x.shape[3], out_hw[1]),
            ]
            out[:, :, oh, ow] = win.mean(axis=(2, 3))
    return out


def ref_adaptive_avg_backward(g, hw):
    gx = np.zeros(g.shape[:2] + tuple(hw))
    for oh in range(g.shape[2]):
        for ow in range(g.shape[3]):
            rows, cols = (
                adaptive_range(oh, hw[0], g.shape[2]),
                adaptive_range(ow, hw[1], g.shape[3]),
            )
            size = (rows.stop - rows.start) * (cols.stop - cols.start)
            gx[:, :, rows, cols] += g[:, :, oh, ow, None, None] / size
    return gx


def ref_adaptive_max(x, out_hw):
    n, c, h, w = x.shape
    out, idx = np.zeros((n, c, *out_hw)), np.zeros((n, c, *out_hw), np.int64)
    for oh in range(out_hw[0]):
        for ow in range(out_hw[1]):
            rows, cols = adaptive_range(oh, h, out_hw[0]), adaptive_range(ow, w, out_hw[1])
            flat = x[:, :, rows, cols].reshape(n, c, -1)
            arg = np.argmax(flat, axis=2)  # first maximum; no NaNs in these inputs
            out[:, :, oh, ow] = np.take_along_axis(flat, arg[..., None], 2)[..., 0]
            width = cols.stop - cols.start
            idx[:, :, oh, ow] = (rows.start + arg // width) * w + cols.start + arg % width
    return out, idx


def ref_unpool(x, idx, out_hw):
    n, c = x.shape[:2]
    out = np.zeros((n * c, out_hw[0] * out_hw[1]))
    for plane, (xp, ip) in enumerate(
        zip(x.reshape(n * c, np.prod(x.shape[2:])), idx.reshape(n * c, np.prod(x.shape[2:])))
    ):
        out[plane, ip] = xp
    return out.reshape(n, c, *out_hw)


def nearest_sources(n_in, n_out):
    return np.arange(n_out) * n_in // n_out


def ref_nearest(x, out_hw):
    return x[:, :, nearest_sources(x.shape[2], out_hw[0])][
        :, :, :, nearest_sources(x.shape[3], out_hw[1])
    ]


def ref_nearest_backward(g, hw):
    gx = np.zeros(g.shape[:2] + tuple(hw))
    rows, cols = nearest_sources(hw[0], g.shape[2]), nearest_sources(hw[1], g.shape[3])
    for oh, ih in enumerate(rows):
        for ow, iw in enumerate(cols):
            gx[:, :, ih, iw] += g[:, :, oh, ow]
    return gx


def linear_taps(n_in, n_out, align_corners):
    """PyTorch's source index per output: (i0, i1, weight of i0, weight of i1)."""
    taps = []
    for o in range(n_out):
        if n_in == n_out:
            taps.append((o, o, 1.0, 0.0))
            continue
        if align_corners:
            src = o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
        else:
            src = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
        i0 = min(int(np.floor(src)), n_in - 1)
        l1 = min(max(src - i0, 0.0), 1.0)
        taps.append((i0, i0 + (i0 < n_in - 1), 1 - l1, l1))
    return taps


def ref_bilinear(x, out_hw, align_corners):
    out = np.zeros(x.shape[:2] + tuple(out_hw))
    for oh, (h0, h1, a0, a1) in enumerate(linear_taps(x.shape[2], out_hw[0], align_corners)):
        for ow, (w0, w1, b0, b1) in enumerate(linear_taps(x.shape[3], out_hw[1], align_corners)):
            out[:, :, oh, ow] = a0 * (b0 * x[:, :, h0, w0] + b1 * x[:, :, h0, w1]) + a1 * (
                b0 * x[:, :, h1, w0] + b1 * x[:, :, h1, w1]
            )
    return out


def ref_bilinear_backward(g, hw, align_corners):
    gx = np.zeros(g.shape[:2] + tuple(hw))
    for oh, (h0, h1, a0, a1) in enumerate(linear_taps(hw[0], g.shape[2], align_corners)):
        for ow, (w0, w1, b0, b1) in enumerate(linear_taps(hw[1], g.shape[3], align_corners)):
            for ih, iw, wt in (
                (h0, w0, a0 * b0),
                (h0, w1, a0 * b1),
                (h1, w0, a1 * b0),
                (h1, w1, a1 * b1),
            ):
                gx[:, :, ih, iw] += wt * g[:, :, oh, ow]
    return gx


# ---- helpers ---------------------------------------------------------------------------------


def assert_close(actual, expected, dtype, k=1):
    """Float tolerance for sums of k terms of order one (all inputs here are O(1))."""
    tol = 4 * np.sqrt(k) * np.finfo(dtype).eps
    assert actual.dtype == dtype and actual.shape == expected.shape
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def call(kernels, fn, inputs, outputs, *args):
    """Run kernels.C.<fn> on host arrays; outputs are (shape, dtype) pairs prefilled with garbage."""
    dev_in = [kernels.asarray(a) for a in inputs]
    dev_out = [kernels.asarray(np.full(shape, -7, dtype)) for shape, dtype in outputs]
    getattr(kernels.C, fn)(*dev_in, *dev_out, *args)
    res = [kernels.numpy(o) for o in dev_out]
    return res[0] if len(res) == 1 else res


def directional_fd(f, x, g, v, h=1e-6):
    """d/dt sum(g * f(x + t v)) at t = 0, by central differences."""
    return (np.vdot(g, f(x + h * v)) - np.vdot(g, f(x - h * v))) / (2 * h)


def random_window(rng, dilation):
    """Random kernel/stride/padding/dilation and input size whose windows all meet the input."""
    while True:
        k = tuple(int(v) for v in rng.integers(1, 4, size=2))
        s = tuple(int(v) for v in rng.integers(1, 4, size=2))
        d = tuple(int(v) for v in rng.integers(1, 3, size=2)) if dilation else (1, 1)
        p = tuple(int(rng.integers(0, ((ki - 1) * di + 1) // 2 + 1)) for ki, di in zip(k, d))
        hw = tuple(int(v) for v in rng.choice([1, 2, 5, 7, 8], size=2))
        ceil_mode = bool(rng.integers(2))
        out_hw = tuple(
            pool_size(n, ki, si, pi, di, ceil_mode) for n, ki, si, pi, di in zip(hw, k, s, p, d)
        )
        if min(out_hw) < 1:
            continue
        # Windows starting in the padding must still reach the input (the binding rejects others).
        ok = all(
            any(0 <= o * si - pi + t * di < n for t in range(ki))
            for n, no, ki, si, pi, di in zip(hw, out_hw, k, s, p, d)
            for o in range(no)
        )
        if ok:
            return k, s, p, d, hw, out_hw


DTYPES = [np.float32, np.float64]

# ---- max pooling -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(25))
def test_max_pool_random(kernels, dtype, seed):
    rng = np.random.default_rng(seed)
    k, s, p, d, hw, out_hw = random_window(rng, dilation=True)
    n, c = int(rng.choice([0, 1, 3])), int(rng.integers(1, 4))
    x = rng.standard_normal((n, c, *hw)).astype(dtype)
    out, idx = call(
        kernels,
        "max_pool2d_forward",
        [x],
        [((n, c, *out_hw), dtype), ((n, c, *out_hw), np.int64)],
        *k,
        *s,
        *p,
        *d,
    )
    ref_out, ref_idx = ref_max_pool(x.astype(np.float64), k, s, p, d, out_hw)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(out, ref_out.astype(dtype))

    g = rng.standard_normal(out.shape).astype(dtype)
    gx = call(kernels, "max_pool2d_backward", [g, idx], [(x.shape, dtype)])
    assert_close(gx, ref_scatter_add(g.astype(np.float64), ref_idx, hw), dtype, k[0] * k[1])


def test_max_pool_nan_and_ties(kernels):
    x = np.zeros((1, 1, 3, 4))
    x[0, 0, 0, 1] = np.nan  # window (0, 0) holds one NaN: it wins over larger values
    x[0, 0, 1, 0] = 5.0
    x[0, 0, 1, 2:] = np.nan  # window (0, 1) holds two NaNs: the last one wins
    out, idx = call(
        kernels,
        "max_pool2d_forward",
        [x],
        [((1, 1, 2, 2), np.float64), ((1, 1, 2, 2), np.int64)],
        2,
        2,
        2,
        2,
        0,
        0,
        1,
        1,
    )
    assert np.isnan(out[0, 0, 0]).all()
    np.testing.assert_array_equal(idx[0, 0, 0], [1, 7])
    np.testing.assert_array_equal(out[0, 0, 1], [0, 0])  # ties: the first position of the window
    np.testing.assert_array_equal(idx[0, 0, 1], [8, 10])


def test_max_pool_gradient_by_finite_differences(kernels):
    rng = np.random.default_rng(5)
    x = rng.permutation(2 * 3 * 5 * 6).reshape(2, 3, 5, 6) / 10.0  # distinct values: no ties
    geometry = (3, 2, 2, 1, 1, 1, 1, 2)
    out_hw = (pool_size(5, 3, 2, 1, 1, True), pool_size(6, 2, 1, 1, 2, True))

    def f(a):
        return call(
            kernels,
            "max_pool2d_forward",
            [a],
            [((2, 3, *out_hw), np.float64), ((2, 3, *out_hw), np.int64)],
            *geometry,
        )

    out, idx = f(x)
    g = rng.standard_normal(out.shape)
    gx = call(kernels, "max_pool2d_backward", [g, idx], [(x.shape, np.float64)])
    v = rng.standard_normal(x.shape)
    fd = directional_fd(lambda a: f(a)[0], x, g, v, h=1e-4)
    assert np.isclose(fd, np.vdot(gx, v), rtol=1e-8)


def test_course_notes_pooling(kernels):
    fmap = np.array([[0, 5, 8, 0], [6, 10, 1, 5], [4, 0, 2, 11], [0, 1, 11, 3]], np.float32)[
        None, None
    ]
    out, _ = call(
        kernels,
        "max_pool2d_forward",
        [fmap],
        [((1, 1, 2, 2), np.float32), ((1, 1, 2, 2), np.int64)],
        2,
        2,
        2,
        2,
    )
    np.testing.assert_array_equal(out[0, 0], [[10, 8], [4, 11]])
    avg = call(kernels, "avg_pool2d_forward", [fmap], [((1, 1, 2, 2), np.float32)], 2, 2, 2, 2)
    np.testing.assert_array_equal(avg[0, 0], [[5.25, 3.5], [1.25, 6.75]])


# ---- average pooling -------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("seed", range(25))
def test_avg_pool_random(kernels, dtype, seed):
    rng = np.random.default_rng(100 + seed)
    k, s, p, _, hw, out_hw = random_window(rng, dilation=False)
    count_include_pad = bool(rng.integers(2))
    divisor_override = int(rng.choice([0, 0, 3]))
    rules = (k, s, p, count_include_pad, divisor_override)
    n, c = int(rng.choice([0, 1, 3])), int(rng.integers(1, 4))
    x = rng.standard_normal((n, c, *hw)).astype(dtype)
    args = (*k, *s, *p, count_include_pad, divisor_override)
    out = call(kernels, "avg_pool2d_forward", [x], [((n, c, *out_hw), dtype)], *args)
    assert_close(out, ref_avg_pool(x.astype(np.float64), out_hw, *rules), dtype, k[0] * k[1])

    g = rng.standard_normal(out.shape).astype(dtype)
    gx = call(kernels, "avg_pool2d_backward", [g], [(x.shape, dtype)], *args)
    assert_close(gx, ref_avg_pool_backward(g.astype(np.float64), hw, *rules), dtype, k[0] * k[1])


def test_avg_pool_gradient_by_finite_differences(kernels):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 2, 7, 5))
    args = (3, 2, 2, 2, 1, 1, False, 0)
    out_hw = (pool_size(7, 3, 2, 1, 1, True), pool_size(5, 2, 2, 1, 1, True))

    def f(a):
        return call(kernels, "avg_pool2d_forward", [a], [((2, 2, *out_hw), np.float64)], *args)

    g, v = rng.standard_normal((2, 2, *out_hw)), rng.standard_normal(x.shape)
    gx = call(kernels, "avg_pool2d_backward", [g], [(x.shape, np.float64)], *args)
    assert np.isclose(directional_fd(f, x, g, v), np.vdot(gx, v), rtol=1e-7)


def test_avg_pool_divisors(kernels):
    """PyTorch's divisors at the borders, with and without padding in the count, and in ceil mode."""

    def avg(x, out_hw, *args):
        return call(kernels, "avg_pool2d_forward", [x], [((1, 1, *out_hw), np.float64)], *args)[
            0, 0
        ]

    x = np.ones((1, 1, 5, 5))
    np.testing.assert_allclose(
        avg(x, (3, 3), 2, 2, 2, 2, 1, 1, True, 0), [[0.25, 0.5, 0.5], [0.5, 1, 1], [0.5, 1, 1]]
    )
    np.testing.assert_array_equal(avg(x, (3, 3), 2, 2, 2, 2, 1, 1, False, 0), 1)
    # k=3, s=2, p=1 on 6 columns, ceil mode: windows start at -1, 1, 3, 5; the last one is clipped
    # to input + padding (columns 5, 6) for the count_include_pad divisor.
    x = np.ones((1, 1, 1, 6))
    np.testing.assert_allclose(avg(x, (1, 4), 1, 3, 1, 2, 0, 1, True, 0), [[2 / 3, 1, 1, 0.5]])
    np.testing.assert_array_equal(avg(x, (1, 4), 1, 3, 1, 2, 0, 1, False, 0), 1)
    # k=3, s=2, p=0 on 6 columns, ceil mode: the last window holds columns 4, 5 only.
    np.testing.assert_array_equal(avg(x, (1, 3), 1, 3, 1, 2, 0, 0, True, 0), 1)
    np.testing.assert_allclose(avg(x, (1, 3), 1, 3, 1, 2, 0, 0, True, 4), [[0.75, 0.75, 0.5]])


# ---- adaptive pooling ------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw, out_hw", [((7, 5), (3, 2)), ((1, 9), (1, 4)), ((4, 4), (4, 4)), ((3, 5), (7, 8)),
                                        ((6, 6), (1, 1)), ((10, 7), (4, 3))])
def test_adaptive_pools(kernels, dtype, hw, out_hw):
    rng = np.random.default_rng(hw[0] * 10 + out_hw[0])
    x = rng.standard_normal((2, 3, *hw)).astype(dtype)
    window = (-(-hw[0] // out_hw[0]) + 1) * (-(-hw[1] // out_hw[1]) + 1)
    out = call(kernels, "adaptive_avg_pool2d_forward", [x], [((2, 3, *out_hw), dtype)])
    assert_close(out, ref_adaptive_avg(x.astype(np.float64), out_hw), dtype, window)
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = call(kernels, "adaptive_avg_pool2d_backward", [g], [(x.shape, dtype)])
    assert_close(gx, ref_adaptive_avg_backward(g.astype(np.float64), hw), dtype, window)

    out, idx = call(
        kernels,
        "adaptive_max_pool2d_forward",
        [x],
        [((2, 3, *out_hw), dtype), ((2, 3, *out_hw), np.int64)],
    )
    ref_out, ref_idx = ref_adaptive_max(x.astype(np.float64), out_hw)
    np.testing.assert_array_equal(idx, ref_idx)
    np.testing.assert_array_equal(out, ref_out.astype(dtype))
    gx = call(kernels, "max_pool2d_backward", [g, idx], [(x.shape, dtype)])
    assert_close(gx, ref_scatter_add(g.astype(np.float64), ref_idx, hw), dtype, window)


def test_adaptive_avg_gradient_by_finite_differences(kernels):
    rng = np.random.default_rng(8)
    x, g, v = (
        rng.standard_normal((1, 2, 7, 5)),
        rng.standard_normal((1, 2, 3, 4)),
        rng.standard_normal((1, 2, 7, 5)),
    )

    def f(a):
        return call(kernels, "adaptive_avg_pool2d_forward", [a], [((1, 2, 3, 4), np.float64)])

    gx = call(kernels, "adaptive_avg_pool2d_backward", [g], [(x.shape, np.float64)])
    assert np.isclose(directional_fd(f, x, g, v), np.vdot(gx, v), rtol=1e-7)


# ---- max unpooling ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_unpool(kernels, dtype):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((2, 3, 6, 7)).astype(dtype)
    _, idx = call(
        kernels,
        "max_pool2d_forward",
        [x],
        [((2, 3, 3, 3), dtype), ((2, 3, 3, 3), np.int64)],
        2,
        2,
        2,
        2,
    )
    pooled = rng.standard_normal((2, 3, 3, 3)).astype(dtype)
    out = call(kernels, "max_unpool2d_forward", [pooled, idx], [((2, 3, 6, 7), dtype)])
    np.testing.assert_array_equal(out, ref_unpool(pooled, idx, (6, 7)).astype(dtype))

    g = rng.standard_normal((2, 3, 6, 7)).astype(dtype)
    gx = call(kernels, "max_unpool2d_backward", [g, idx], [((2, 3, 3, 3), dtype)])
    np.testing.assert_array_equal(
        gx, np.take_along_axis(g.reshape(2, 3, -1), idx.reshape(2, 3, -1), 2).reshape(gx.shape)
    )
    # The gather is the adjoint of the scatter: <unpool(x), g> = <x, unpool_backward(g)>.
    assert np.isclose(
        np.vdot(out.astype(np.float64), g), np.vdot(pooled.astype(np.float64), gx), rtol=1e-5
    )


# ---- upsampling ------------------------------------------------------------------------------

SIZES = [((3, 4), (6, 8)), ((1, 5), (1, 11)), ((5, 7), (3, 2)), ((4, 4), (4, 4)), ((1, 1), (3, 2)), ((2, 3), (7, 7))]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("hw, out_hw", SIZES)
def test_upsample_nearest(kernels, dtype, hw, out_hw):
    rng = np.random.default_rng(hw[1] * 7 + out_hw[1])
    x = rng.standard_normal((2, 3, *hw)).astype(dtype)
    out = call(kernels, "upsample_nearest2d_forward", [x], [((2, 3, *out_hw), dtype)])
    np.testing.assert_array_equal(out, ref_nearest(x, out_hw))
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = call(kernels, "upsample_nearest2d_backward", [g], [(x.shape, dtype)])
    fan_in = -(-out_hw[0] // hw[0]) * -(-out_hw[1] // hw[1])
    assert_close(gx, ref_nearest_backward(g.astype(np.float64), hw), dtype, fan_in)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("hw, out_hw", SIZES)
def test_upsample_bilinear(kernels, dtype, align_corners, hw, out_hw):
    rng = np.random.default_rng(hw[0] * 7 + out_hw[0])
    x = rng.standard_normal((2, 3, *hw)).astype(dtype)
    out = call(
        kernels, "upsample_bilinear2d_forward", [x], [((2, 3, *out_hw), dtype)], align_corners
    )
    assert_close(out, ref_bilinear(x.astype(np.float64), out_hw, align_corners), dtype, 16)
    g = rng.standard_normal(out.shape).astype(dtype)
    gx = call(kernels, "upsample_bilinear2d_backward", [g], [(x.shape, dtype)], align_corners)
    fan_in = 4 * (-(-out_hw[0] // hw[0]) + 1) * (-(-out_hw[1] // hw[1]) + 1)
    assert_close(gx, ref_bilinear_backward(g.astype(np.float64), hw, align_corners), dtype, fan_in)


@pytest.mark.parametrize("align_corners", [False, True])
def test_upsample_gradients_by_finite_differences(kernels, align_corners):
    rng = np.random.default_rng(10)
    x, g, v = (
        rng.standard_normal((1, 2, 3, 5)),
        rng.standard_normal((1, 2, 7, 4)),
        rng.standard_normal((1, 2, 3, 5)),
    )
    for name, extra in (("nearest", ()), ("bilinear", (align_corners,))):

        def f(a, name=name, extra=extra):
            return call(
                kernels, f"upsample_{name}2d_forward", [a], [((1, 2, 7, 4), np.float64)], *extra
            )

        gx = call(kernels, f"upsample_{name}2d_backward", [g], [(x.shape, np.float64)], *extra)
        assert np.isclose(directional_fd(f, x, g, v), np.vdot(gx, v), rtol=1e-7)


# ---- empty batches and errors ----------------------------------------------------------------


def test_empty_batch(kernels):
    x, g = np.zeros((0, 2, 4, 4), np.float32), np.zeros((0, 2, 2, 2), np.float32)
    idx = np.zeros((0, 2, 2, 2), np.int64)
    small, big = ((0, 2, 2, 2), np.float32), ((0, 2, 4, 4), np.float32)
    call(kernels, "max_pool2d_forward", [x], [small, ((0, 2, 2, 2), np.int64)], 2, 2, 2, 2)
    call(kernels, "max_pool2d_backward", [g, idx], [big])
    call(kernels, "avg_pool2d_forward", [x], [small], 2, 2, 2, 2)
    call(kernels, "avg_pool2d_backward", [g], [big], 2, 2, 2, 2)
    call(kernels, "adaptive_avg_pool2d_forward", [x], [small])
    call(kernels, "adaptive_avg_pool2d_backward", [g], [big])
    call(kernels, "adaptive_max_pool2d_forward", [x], [small, ((0, 2, 2, 2), np.int64)])
    call(kernels, "max_unpool2d_forward", [g, idx], [big])
    call(kernels, "max_unpool2d_backward", [x, idx], [small])
    for name in ("nearest", "bilinear"):
        call(kernels, f"upsample_{name}2d_forward", [g], [big])
        call(kernels, f"upsample_{name}2d_backward", [x], [small])


def test_rejects_bad_arguments(kernels):
    C = kernels.C

    def arr(shape, dtype=np.float32, fill=0):
        return kernels.asarray(np.full(shape, fill, dtype))

    x, out, idx = arr((2, 3, 4, 4)), arr((2, 3, 2, 2)), arr((2, 3, 2, 2), np.int64)
    C.max_pool2d_forward(x, out, idx, 2, 2, 2, 2)  # the valid call

    def raises(exc, match, fn, *args):
        with pytest.raises(exc, match=match):
            fn(*args)

    raises(ValueError, "'out' must have spatial size \\(2, 2\\), or \\(2, 2\\) with ceil_mode",
           C.max_pool2d_forward, x, arr((2, 3, 3, 3)), arr((2, 3, 3, 3), np.int64), 2, 2, 2, 2)
    raises(TypeError, "'indices' must be int64", C.max_pool2d_forward, x, out, arr((2, 3, 2, 2), np.int32), 2, 2, 2, 2)
    raises(ValueError, "'indices' must have shape",
           C.max_pool2d_forward, x, out, arr((2, 3, 2, 1), np.int64), 2, 2, 2, 2)
    raises(TypeError, "'out' must have the same dtype",
           C.max_pool2d_forward, x, arr((2, 3, 2, 2), np.float64), idx, 2, 2, 2, 2)
    raises(ValueError, "'x' must have 4 dimensions", C.max_pool2d_forward, arr((3, 4, 4)), out, idx, 2, 2, 2, 2)
    raises(ValueError, "'out' must have the batch and channel sizes",
           C.max_pool2d_forward, x, arr((2, 2, 2, 2)), arr((2, 2, 2, 2), np.int64), 2, 2, 2, 2)
    raises(ValueError, "'kh' and 'kw' must be positive", C.max_pool2d_forward, x, out, idx, 0, 2, 2, 2)
    raises(ValueError, "'sh' and 'sw' must be positive", C.max_pool2d_forward, x, out, idx, 2, 2, 0, 2)
    raises(ValueError, "'dh' and 'dw' must be positive", C.max_pool2d_forward, x, out, idx, 2, 2, 2, 2, 0, 0, 0, 1)
    raises(ValueError, "at most half of the", C.max_pool2d_forward, x, out, idx, 2, 2, 2, 2, 2, 0)
    raises(ValueError, "a window lies entirely in the padding",
           C.max_pool2d_forward, arr((2, 3, 1, 4)), arr((2, 3, 1, 2)), arr((2, 3, 1, 2), np.int64),
           2, 2, 2, 2, 2, 0, 3, 1)
    raises(ValueError, "'indices' holds positions outside \\[0, H\\*W\\) = \\[0, 16\\)",
           C.max_pool2d_backward, out, arr((2, 3, 2, 2), np.int64, 16), x)
    raises(ValueError, "'indices' holds positions outside",
           C.max_pool2d_backward, out, arr((2, 3, 2, 2), np.int64, -1), x)
    raises(ValueError, "'indices' holds positions outside \\[0, OH\\*OW\\)",
           C.max_unpool2d_forward, out, arr((2, 3, 2, 2), np.int64, 16), x)
    raises(ValueError, "'indices' holds positions outside",
           C.max_unpool2d_backward, x, arr((2, 3, 2, 2), np.int64, 99), out)
    raises(ValueError, "'divisor_override' must be >= 0", C.avg_pool2d_forward, x, out, 2, 2, 2, 2, 0, 0, True, -1)
    raises(ValueError, "'grad_out' must have spatial size", C.avg_pool2d_backward, arr((2, 3, 3, 2)), x, 2, 2, 2, 2)
    raises(ValueError, "'out' must have non-empty spatial dimensions",
           C.adaptive_avg_pool2d_forward, x, arr((2, 3, 0, 2)))
    raises(ValueError, "'x' must have non-empty spatial dimensions",
           C.upsample_nearest2d_forward, arr((2, 3, 0, 4)), out)
    raises(ValueError, "'grad_x' must be C-contiguous",
           C.upsample_bilinear2d_backward, out, arr((2, 3, 4, 8))[..., ::2])
    if kernels.name == "cpu":
        ro = np.zeros((2, 3, 2, 2), np.float32)
        ro.flags.writeable = False
        raises(ValueError, "'out' is read-only", C.avg_pool2d_forward, x, ro, 2, 2, 2, 2)
