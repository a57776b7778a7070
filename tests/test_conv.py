"""Convolution family: conv2d forward, its three gradients and the bias gradient.

The reference is a direct NumPy float64 convolution: one einsum per kernel tap over strided
slices of the zero-padded input (no im2col), and its gradients written from the same definition.
Errors are bounded elementwise by the classic summation bound c * sqrt(K) * eps * sum|terms|,
where sum|terms| is the same reference applied to absolute values and K the reduction length.
"""

from __future__ import annotations

import numpy as np
import pytest

GEOMETRY = ("stride", "padding", "dilation", "groups")


def out_size(n, k, s, p, d):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def tap_slices(i, j, oh, ow, stride, dilation):
    """Index of the padded-input positions that kernel tap (i, j) meets at every output."""
    (sh, sw), (dh, dw) = stride, dilation
    return (
        slice(i * dh, i * dh + sh * (oh - 1) + 1, sh),
        slice(j * dw, j * dw + sw * (ow - 1) + 1, sw),
    )


def ref_forward(x, w, b, stride, padding, dilation, groups):
    n, _, h, wd = x.shape
    o, cg, kh, kw = w.shape
    og = o // groups
    oh = out_size(h, kh, stride[0], padding[0], dilation[0])
    ow = out_size(wd, kw, stride[1], padding[1], dilation[1])
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    out = np.zeros((n, o, oh, ow))
    for g in range(groups):
        xg, wg = xp[:, g * cg : (g + 1) * cg], w[g * og : (g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                rows, cols = tap_slices(i, j, oh, ow, stride, dilation)
                out[:, g * og : (g + 1) * og] += np.einsum(
                    "nchw,oc->nohw", xg[:, :, rows, cols], wg[:, :, i, j]
                )
    if b is not None:
        out += b[None, :, None, None]
    return out


def ref_backward_input(gy, w, x_shape, stride, padding, dilation, groups):
    """grad_x[n, c, h, w] = sum over the outputs whose window touched (h, w) of gy * weight."""
    n, c, h, wd = x_shape
    o, cg, kh, kw = w.shape
    og = o // groups
    oh, ow = gy.shape[2:]
    gxp = np.zeros((n, c, h + 2 * padding[0], wd + 2 * padding[1]))
    for g in range(groups):
        gyg, wg = gy[:, g * og : (g + 1) * og], w[g * og : (g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                rows, cols = tap_slices(i, j, oh, ow, stride, dilation)
                gxp[:, g * cg : (g + 1) * cg, rows, cols] += np.einsum(
                    "nohw,oc->nchw", gyg, wg[:, :, i, j]
                )
    return gxp[:, :, padding[0] : padding[0] + h, padding[1] : padding[1] + wd]


def ref_backward_weight(x, gy, w_shape, stride, padding, dilation, groups):
    """grad_w[o, c, i, j] = sum over n and outputs of gy * the input that tap (i, j) met."""
    o, cg, kh, kw = w_shape
    og = o // groups
    oh, ow = gy.shape[2:]
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    gw = np.zeros(w_shape)
    for g in range(groups):
        xg, gyg = xp[:, g * cg : (g + 1) * cg], gy[:, g * og : (g + 1) * og]
        for i in range(kh):
            for j in range(kw):
                rows, cols = tap_slices(i, j, oh, ow, stride, dilation)
                gw[g * og : (g + 1) * og, :, i, j] = np.einsum(
                    "nohw,nchw->oc", gyg, xg[:, :, rows, cols]
                )
    return gw


def assert_bounded(actual, expected, abs_sum, k, dtype):
    """|actual - expected| <= 4 sqrt(K) eps sum|terms| elementwise (+ a floor for exact zeros)."""
    eps = np.finfo(dtype).eps
    bound = 4 * np.sqrt(max(k, 1)) * eps * abs_sum + np.finfo(dtype).tiny
    assert actual.shape == expected.shape
    assert actual.dtype == dtype
    err = np.abs(actual.astype(np.float64) - expected)
    assert np.all(err <= bound), f"max error {err.max():.3e}, worst ratio {(err / bound).max():.2f}"


def run_conv_kernel(kernels, name, inputs, out_shape, stride, padding, dilation, groups, dtype):
    """``kernels.C.<name>(*inputs, out, *stride, *padding, *dilation, groups)`` (a None input
    stays None) into an output pre-filled with NaN, so that an element it never writes shows."""
    out = kernels.asarray(np.full(out_shape, np.nan, dtype))
    getattr(kernels.C, name)(*(None if a is None else kernels.asarray(a, dtype) for a in inputs), out,
                             *stride, *padding, *dilation, groups)
    return kernels.numpy(out)


def run_forward(kernels, x, w, b, stride, padding, dilation, groups, dtype):
    n, _, h, wd = x.shape
    oh = out_size(h, w.shape[2], stride[0], padding[0], dilation[0])
    ow = out_size(wd, w.shape[3], stride[1], padding[1], dilation[1])
    return run_conv_kernel(kernels, "conv2d_forward", (x, w, b), (n, w.shape[0], oh, ow),
                           stride, padding, dilation, groups, dtype)


def run_backward_input(kernels, gy, w, x_shape, stride, padding, dilation, groups, dtype):
    return run_conv_kernel(kernels, "conv2d_backward_input", (gy, w), x_shape, stride, padding, dilation, groups,
                           dtype)


def run_backward_weight(kernels, x, gy, w_shape, stride, padding, dilation, groups, dtype):
    return run_conv_kernel(kernels, "conv2d_backward_weight", (x, gy), w_shape, stride, padding, dilation, groups,
                           dtype)


def run_bias_backward(kernels, gy, dtype):
    gb = kernels.asarray(np.full(gy.shape[1], np.nan, dtype))
    kernels.C.conv2d_backward_bias(kernels.asarray(gy, dtype), gb)
    return kernels.numpy(gb)


def check_all(kernels, x, w, b, gy, geometry, dtype):
    """Forward and every gradient against the reference, inputs rounded to dtype first."""
    x, w, gy = (a.astype(dtype).astype(np.float64) for a in (x, w, gy))
    b = None if b is None else b.astype(dtype).astype(np.float64)
    groups = geometry[3]
    o, cg, kh, kw = w.shape
    taps = cg * kh * kw

    expected = ref_forward(x, w, b, *geometry)
    abs_sum = ref_forward(abs(x), abs(w), None if b is None else abs(b), *geometry)
    assert_bounded(run_forward(kernels, x, w, b, *geometry, dtype), expected, abs_sum, taps + 1, dtype)

    assert gy.shape == expected.shape
    gx = ref_backward_input(gy, w, x.shape, *geometry)
    gx_abs = ref_backward_input(abs(gy), abs(w), x.shape, *geometry)
    assert_bounded(run_backward_input(kernels, gy, w, x.shape, *geometry, dtype), gx, gx_abs,
                   (o // groups) * kh * kw, dtype)

    positions = gy.shape[0] * gy.shape[2] * gy.shape[3]  # the terms of each weight and bias gradient
    gw = ref_backward_weight(x, gy, w.shape, *geometry)
    gw_abs = ref_backward_weight(abs(x), abs(gy), w.shape, *geometry)
    assert_bounded(run_backward_weight(kernels, x, gy, w.shape, *geometry, dtype), gw, gw_abs, positions, dtype)
    assert_bounded(run_bias_backward(kernels, gy, dtype), gy.sum(axis=(0, 2, 3)), abs(gy).sum(axis=(0, 2, 3)),
                   positions, dtype)


def random_problem(rng):
    """A random geometry whose padded input holds at least one dilated kernel."""
    while True:
        kh, kw = [(1, 1), (3, 3), (5, 2), (2, 5)][rng.integers(4)]
        h, wd = (int(rng.choice([1, 2, 7, 9, 13])) for _ in range(2))
        stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
        padding = tuple(int(p) for p in rng.integers(0, 3, size=2))
        dilation = tuple(int(d) for d in rng.integers(1, 3, size=2))
        cg, og = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        kind = rng.integers(3)
        groups = 1 if kind == 0 else 2 if kind == 1 else int(rng.integers(2, 5))
        if kind == 2:  # depthwise: one input channel per group
            cg = 1
        oh = out_size(h, kh, stride[0], padding[0], dilation[0])
        ow = out_size(wd, kw, stride[1], padding[1], dilation[1])
        if oh >= 1 and ow >= 1:
            break
    n = int(rng.choice([0, 1, 2, 3]))
    x = rng.standard_normal((n, cg * groups, h, wd))
    w = rng.standard_normal((og * groups, cg, kh, kw))
    b = rng.standard_normal(og * groups) if rng.random() < 0.7 else None
    gy = rng.standard_normal((n, og * groups, oh, ow))
    return x, w, b, gy, (stride, padding, dilation, groups)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(40))
def test_random_geometries(kernels, dtype, seed):
    rng = np.random.default_rng(seed)
    x, w, b, gy, geometry = random_problem(rng)
    check_all(kernels, x, w, b, gy, geometry, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "n, c, h, w, o, kernel, geometry",
    [
        (2, 3, 1, 11, 4, (1, 3), ((1, 2), (0, 1), (1, 2), 1)),  # 1-D convolution (H = 1)
        (1, 1, 1, 7, 1, (1, 7), ((1, 1), (0, 0), (1, 1), 1)),  # 1-D, kernel as long as the input
        (3, 4, 7, 5, 6, (1, 1), ((1, 1), (0, 0), (1, 1), 2)),  # pointwise path, 2 groups
        (2, 6, 5, 9, 6, (1, 1), ((1, 1), (0, 0), (2, 1), 1)),  # pointwise, dilation is irrelevant
        (2, 6, 8, 8, 12, (3, 3), ((1, 1), (1, 1), (1, 1), 6)),  # depthwise with multiplier 2
        (1, 2, 73, 74, 3, (3, 3), ((2, 2), (1, 1), (1, 1), 1)),  # odd, unaligned sizes
        (15, 16, 32, 32, 2, (3, 3), ((1, 1), (1, 1), (1, 1), 1)),  # several chunks, last of 1
    ],
)
def test_fixed_geometries(kernels, dtype, n, c, h, w, o, kernel, geometry):
    rng = np.random.default_rng(7)
    (sh, sw), (ph, pw), (dh, dw), groups = geometry
    oh, ow = out_size(h, kernel[0], sh, ph, dh), out_size(w, kernel[1], sw, pw, dw)
    x = rng.standard_normal((n, c, h, w))
    wt = rng.standard_normal((o, c // groups, *kernel))
    check_all(
        kernels, x, wt, rng.standard_normal(o), rng.standard_normal((n, o, oh, ow)), geometry, dtype
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_course_notes_example(kernels, dtype):
    x = np.array(
        [[3, 3, 2, 1, 0], [0, 0, 1, 3, 1], [3, 1, 2, 2, 3], [2, 0, 0, 2, 2], [2, 0, 0, 0, 1]]
    )
    k = np.array([[0, 1, 2], [2, 2, 0], [0, 1, 2]])
    out = run_forward(kernels, x[None, None], k[None, None], None, (1, 1), (0, 0), (1, 1), 1, dtype)
    np.testing.assert_array_equal(out[0, 0], [[12, 12, 17], [10, 17, 19], [9, 6, 14]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "h, w, kernel, geometry",
    [
        # (H + 2p - d(k-1) - 1) not divisible by the stride: the last rows/columns meet no window.
        (8, 9, (3, 3), ((2, 3), (0, 1), (1, 1), 1)),
        (11, 6, (2, 3), ((3, 2), (1, 0), (1, 1), 1)),
        # conv_transpose2d with output_padding < dilation but >= stride: grad_x is larger than
        # the smallest input that gives grad_out's size.
        (9, 9, (3, 3), ((1, 1), (0, 0), (3, 3), 1)),
    ],
)
def test_backward_input_leftover_rows(kernels, dtype, h, w, kernel, geometry):
    rng = np.random.default_rng(3)
    stride, padding, dilation, _ = geometry
    oh = out_size(h, kernel[0], stride[0], padding[0], dilation[0])
    ow = out_size(w, kernel[1], stride[1], padding[1], dilation[1])
    if dilation[0] > stride[0]:  # an output one row/column smaller than this input gives
        oh, ow = oh - 2, ow - 2
    gy = rng.standard_normal((2, 4, oh, ow)).astype(dtype).astype(np.float64)
    wt = rng.standard_normal((4, 3, *kernel)).astype(dtype).astype(np.float64)
    expected = ref_backward_input(gy, wt, (2, 3, h, w), *geometry)
    abs_sum = ref_backward_input(abs(gy), abs(wt), (2, 3, h, w), *geometry)
    actual = run_backward_input(kernels, gy, wt, (2, 3, h, w), *geometry, dtype)
    assert_bounded(actual, expected, abs_sum, 4 * kernel[0] * kernel[1], dtype)
    if dilation[0] == 1:
        assert np.all(actual[:, :, (oh - 1) * stride[0] - padding[0] + kernel[0] :] == 0)


def test_gradients_are_adjoints(kernels):
    """<conv(x), y> = <x, backward_input(y)> = <w, backward_weight(x, y)>, in float64."""
    rng = np.random.default_rng(11)
    geometry = ((2, 1), (1, 2), (1, 2), 2)
    x, w = rng.standard_normal((3, 4, 9, 8)), rng.standard_normal((6, 2, 3, 2))
    y = run_forward(kernels, x, w, None, *geometry, np.float64)
    gy = rng.standard_normal(y.shape)
    gx = run_backward_input(kernels, gy, w, x.shape, *geometry, np.float64)
    gw = run_backward_weight(kernels, x, gy, w.shape, *geometry, np.float64)
    inner = np.vdot(y, gy)
    assert np.isclose(np.vdot(x, gx), inner, rtol=1e-12)
    assert np.isclose(np.vdot(w, gw), inner, rtol=1e-12)


def test_repeatable(kernels):
    """Same inputs, bitwise the same outputs: the per-thread partial gradients are summed in a
    fixed order (a moving result would reveal a race)."""
    rng = np.random.default_rng(12)
    x, w = rng.standard_normal((15, 8, 20, 20)), rng.standard_normal((4, 8, 3, 3))
    gy = rng.standard_normal((15, 4, 18, 18))
    geometry = ((1, 1), (0, 0), (1, 1), 1)
    for dtype in (np.float32, np.float64):
        runs = [
            (
                run_backward_weight(kernels, x, gy, w.shape, *geometry, dtype),
                run_backward_input(kernels, gy, w, x.shape, *geometry, dtype),
            )
            for _ in range(3)
        ]
        for gw, gx in runs[1:]:
            np.testing.assert_array_equal(gw, runs[0][0])
            np.testing.assert_array_equal(gx, runs[0][1])


def test_empty_batch(kernels):
    x = kernels.asarray(np.zeros((0, 2, 5, 5), np.float32))
    w = kernels.asarray(np.ones((3, 2, 3, 3), np.float32))
    out = kernels.empty((0, 3, 3, 3), np.float32)
    kernels.C.conv2d_forward(x, w, None, out)
    gx = kernels.empty((0, 2, 5, 5), np.float32)
    kernels.C.conv2d_backward_input(out, w, gx)
    gw = kernels.asarray(np.full((3, 2, 3, 3), np.nan, np.float32))
    kernels.C.conv2d_backward_weight(x, out, gw)
    np.testing.assert_array_equal(kernels.numpy(gw), 0)
    gb = kernels.asarray(np.full(3, np.nan, np.float32))
    kernels.C.conv2d_backward_bias(out, gb)
    np.testing.assert_array_equal(kernels.numpy(gb), 0)


def test_rejects_bad_arguments(kernels):
    C, f32 = kernels.C, np.float32

    def arr(shape, dtype=f32):
        return kernels.asarray(np.zeros(shape, dtype))

    x, w, b, out = arr((2, 4, 6, 6)), arr((6, 2, 3, 3)), arr(6), arr((2, 6, 4, 4))
    C.conv2d_forward(x, w, b, out, 1, 1, 0, 0, 1, 1, 2)  # the valid call

    def raises(exc, match, fn, *args):
        with pytest.raises(exc, match=match):
            fn(*args)

    raises(ValueError, "'out' must have shape", C.conv2d_forward, x, w, b, arr((2, 6, 5, 5)), 1, 1, 0, 0, 1, 1, 2)
    raises(ValueError, "'x' must have 4 dimensions", C.conv2d_forward, arr((4, 6, 6)), w, b, out)
    raises(TypeError, "'weight' must have the same dtype", C.conv2d_forward, x, arr((6, 2, 3, 3), np.float64), b, out)
    raises(TypeError, "'x' must be float32 or float64", C.conv2d_forward, arr((2, 4, 6, 6), np.int32), w, b, out)
    raises(ValueError, "'bias' must have shape", C.conv2d_forward, x, w, arr(5), out, 1, 1, 0, 0, 1, 1, 2)
    raises(ValueError, "divisible by groups=3", C.conv2d_forward, x, w, b, out, 1, 1, 0, 0, 1, 1, 3)
    raises(ValueError, "'weight' must have C/groups = 4", C.conv2d_forward, x, w, b, out, 1, 1, 0, 0, 1, 1, 1)
    raises(ValueError, "'stride_h' and 'stride_w' must be positive",
           C.conv2d_forward, x, w, b, out, 0, 1, 0, 0, 1, 1, 2)
    raises(ValueError, "'pad_h' and 'pad_w' must be non-negative", C.conv2d_forward, x, w, b, out, 1, 1, -1, 0, 1, 1, 2)
    raises(ValueError, "'dil_h' and 'dil_w' must be positive", C.conv2d_forward, x, w, b, out, 1, 1, 0, 0, 1, 0, 2)
    raises(ValueError, "'groups' must be positive", C.conv2d_forward, x, w, b, out, 1, 1, 0, 0, 1, 1, 0)
    raises(ValueError, "positive kernel size", C.conv2d_forward, x, arr((6, 2, 0, 3)), b, out, 1, 1, 0, 0, 1, 1, 2)
    raises(ValueError, "smaller, with padding, than the dilated kernel",
           C.conv2d_forward, x, w, b, out, 1, 1, 0, 0, 3, 3, 2)
    raises(ValueError, "'x' must be C-contiguous",
           C.conv2d_forward, arr((2, 4, 6, 12))[..., ::2], w, b, out, 1, 1, 0, 0, 1, 1, 2)
    raises(ValueError, "'grad_out' must have shape \\(2, 6, OH, OW\\) with 1 <= OH <= 4",
           C.conv2d_backward_input, arr((2, 6, 5, 4)), w, x, 1, 1, 0, 0, 1, 1, 2)
    raises(ValueError, "'grad_out' must have shape",
           C.conv2d_backward_weight, x, arr((2, 6, 3, 4)), w, 1, 1, 0, 0, 1, 1, 2)
    raises(ValueError, "'grad_bias' must have shape \\(6,\\)", C.conv2d_backward_bias, out, arr(4))
    raises(ValueError, "'grad_out' must have 4 dimensions", C.conv2d_backward_bias, arr((2, 6)), b)
    if kernels.name == "cpu":
        ro = np.zeros((2, 6, 4, 4), f32)
        ro.flags.writeable = False
        raises(ValueError, "'out' is read-only", C.conv2d_forward, x, w, b, ro, 1, 1, 0, 0, 1, 1, 2)
        raises(TypeError, "'x' must be a numpy.ndarray", C.conv2d_forward, [[1.0]], w, b, out)
