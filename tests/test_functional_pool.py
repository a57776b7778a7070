"""Tensor-level pooling and resampling (ember/ops/pool.py): max/avg/adaptive pooling, unpooling,
interpolate (nearest, linear, bilinear, area) and pixel (un)shuffle.

References are NumPy float64 loops over output positions written from PyTorch's documented
definitions (window bounds, divisors, source coordinates). These maps are linear (or piecewise
linear) in their input, so besides gradcheck the double backward is checked by differentiating
the vector-Jacobian product with respect to the output gradient.
"""
from __future__ import annotations

import math

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck
from ember.ops.pool import (adaptive_avg_pool1d, adaptive_avg_pool2d, adaptive_max_pool1d, adaptive_max_pool2d,
                            avg_pool1d, avg_pool2d, interpolate, max_pool1d, max_pool2d, max_unpool1d, max_unpool2d,
                            pixel_shuffle, pixel_unshuffle, upsample, upsample_bilinear)
from helpers import host, tensor


def pool_size(n, k, s, p, d, ceil_mode):
    """PyTorch's documented formula, with the ceil-mode rule that the last window must start
    inside the input or the left padding."""
    rounding = math.ceil if ceil_mode else math.floor
    out = rounding((n + 2 * p - d * (k - 1) - 1) / s) + 1
    if ceil_mode and (out - 1) * s >= n + p:
        out -= 1
    return out


def ref_max_pool2d(x, k, s, p, d, ceil_mode):
    n, c, h, w = x.shape
    oh, ow = pool_size(h, k[0], s[0], p[0], d[0], ceil_mode), pool_size(w, k[1], s[1], p[1], d[1], ceil_mode)
    out, idx = np.zeros((n, c, oh, ow)), np.zeros((n, c, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            rows = [i * s[0] - p[0] + a * d[0] for a in range(k[0])]
            cols = [j * s[1] - p[1] + b * d[1] for b in range(k[1])]
            cand = [(r, q) for r in rows for q in cols if 0 <= r < h and 0 <= q < w]
            vals = np.stack([x[:, :, r, q] for r, q in cand], -1)
            best = vals.argmax(-1)
            out[:, :, i, j] = vals.max(-1)
            flat = np.array([r * w + q for r, q in cand])
            idx[:, :, i, j] = flat[best]
    return out, idx


def ref_avg_pool2d(x, k, s, p, ceil_mode, count_include_pad, divisor_override):
    n, c, h, w = x.shape
    oh, ow = pool_size(h, k[0], s[0], p[0], 1, ceil_mode), pool_size(w, k[1], s[1], p[1], 1, ceil_mode)
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * s[0] - p[0], j * s[1] - p[1]
            # the window clipped to input + padding (for the divisor) and to the input (for the sum)
            r1, c1 = min(r0 + k[0], h + p[0]), min(c0 + k[1], w + p[1])
            pad_count = (r1 - r0) * (c1 - c0)
            ra, rb, ca, cb = max(r0, 0), min(r1, h), max(c0, 0), min(c1, w)
            total = x[:, :, ra:rb, ca:cb].sum((2, 3))
            div = divisor_override or (pad_count if count_include_pad else (rb - ra) * (cb - ca))
            out[:, :, i, j] = total / div
    return out


def adaptive_bounds(i, n_in, n_out):
    return (i * n_in) // n_out, -((-(i + 1) * n_in) // n_out)


def ref_adaptive(x, out_hw, reduce):
    n, c, h, w = x.shape
    out = np.zeros((n, c) + tuple(out_hw))
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            (r0, r1), (c0, c1) = adaptive_bounds(i, h, out_hw[0]), adaptive_bounds(j, w, out_hw[1])
            out[:, :, i, j] = reduce(x[:, :, r0:r1, c0:c1], axis=(2, 3))
    return out


def ref_bilinear(x, out_hw, align_corners):
    n, c, h, w = x.shape

    def coords(n_out, n_in):
        src = []
        for o in range(n_out):
            if align_corners:
                s = o * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            else:
                s = max((o + 0.5) * n_in / n_out - 0.5, 0.0)
            i0 = min(int(np.floor(s)), n_in - 1)
            i1 = min(i0 + 1, n_in - 1)
            src.append((i0, i1, s - i0))
        return src

    out = np.zeros((n, c) + tuple(out_hw))
    for i, (r0, r1, fr) in enumerate(coords(out_hw[0], h)):
        for j, (c0, c1, fc) in enumerate(coords(out_hw[1], w)):
            out[:, :, i, j] = ((1 - fr) * ((1 - fc) * x[:, :, r0, c0] + fc * x[:, :, r0, c1])
                               + fr * ((1 - fc) * x[:, :, r1, c0] + fc * x[:, :, r1, c1]))
    return out


def check_grads(f, x, device, rng):
    """gradcheck of f and of its vector-Jacobian product w.r.t. the output gradient (the
    backward of the backward)."""
    assert gradcheck(f, (x,))
    g = tensor(rng.standard_normal(tuple(f(x).shape)), device, True)
    assert gradcheck(lambda g: ember.autograd.grad(f(x), x, g, create_graph=True)[0], (g,))


# ---- max pooling -------------------------------------------------------------------------------
MAX_CASES = [
    # (H, W, kernel, stride, padding, dilation, ceil_mode)
    ((7, 6), (3, 3), (2, 2), (1, 1), (1, 1), True),
    ((9, 5), (2, 3), (1, 2), (1, 0), (2, 1), False),
    ((1, 1), (1, 1), (1, 1), (0, 0), (1, 1), False),
    ((5, 8), (3, 2), (3, 3), (1, 1), (1, 2), True),
    ((6, 6), (2, 2), (2, 2), (0, 0), (1, 1), True),
]


@pytest.mark.parametrize("case", MAX_CASES)
def test_max_pool2d_matches_reference(case, device, rng):
    hw, k, s, p, d, ceil_mode = case
    x = rng.standard_normal((2, 3) + hw)
    out, idx = max_pool2d(tensor(x, device), k, s, p, d, ceil_mode, return_indices=True)
    ref, ref_idx = ref_max_pool2d(x, k, s, p, d, ceil_mode)
    np.testing.assert_array_equal(host(out), ref)
    np.testing.assert_array_equal(host(idx), ref_idx)
    assert idx.dtype == ember.int64
    check_grads(lambda x: max_pool2d(x, k, s, p, d, ceil_mode), tensor(x, device, True), device, rng)


def test_max_pool1d_unbatched_stride_default_and_empty_batch(device, rng):
    x = rng.standard_normal((3, 10))
    out, idx = max_pool1d(tensor(x, device), 3, return_indices=True)  # stride defaults to kernel_size
    ref, ref_idx = ref_max_pool2d(x[None, :, None], (1, 3), (1, 3), (0, 0), (1, 1), False)
    np.testing.assert_array_equal(host(out), ref[0, :, 0])
    np.testing.assert_array_equal(host(idx), ref_idx[0, :, 0])
    out = max_pool1d(tensor(x[None], device), 4, 2, 2, 1, True)
    assert out.shape == (1, 3, pool_size(10, 4, 2, 2, 1, True))
    assert max_pool2d(ember.zeros(0, 2, 4, 4, device=device), 2).shape == (0, 2, 2, 2)
    check_grads(lambda x: max_pool1d(x, 3, 2, 1), tensor(x[None], device, True), device, rng)


def test_max_pool2d_float32_and_top_level(device, rng):
    x = rng.standard_normal((1, 2, 5, 5)).astype(np.float32)
    out = ember.max_pool2d(ember.tensor(x, device=device), 2)
    assert out.dtype == ember.float32
    np.testing.assert_array_equal(host(out), ref_max_pool2d(x.astype(np.float64), (2, 2), (2, 2), (0, 0), (1, 1),
                                                            False)[0])


# ---- average pooling ---------------------------------------------------------------------------
AVG_CASES = [
    # (H, W, kernel, stride, padding, ceil_mode, count_include_pad, divisor_override)
    ((7, 6), (3, 3), (2, 2), (1, 1), True, True, None),
    ((7, 6), (3, 3), (2, 2), (1, 1), True, False, None),
    ((5, 9), (2, 4), (1, 3), (1, 2), False, True, 3),
    ((1, 1), (1, 1), (1, 1), (0, 0), False, True, None),
    ((8, 5), (4, 2), (3, 2), (2, 1), True, False, None),
]


@pytest.mark.parametrize("case", AVG_CASES)
def test_avg_pool2d_matches_reference(case, device, rng):
    hw, k, s, p, ceil_mode, cip, div = case
    x = rng.standard_normal((2, 3) + hw)
    out = avg_pool2d(tensor(x, device), k, s, p, ceil_mode, cip, div)
    np.testing.assert_allclose(host(out), ref_avg_pool2d(x, k, s, p, ceil_mode, cip, div), rtol=1e-12, atol=1e-14)
    check_grads(lambda x: avg_pool2d(x, k, s, p, ceil_mode, cip, div), tensor(x, device, True), device, rng)


def test_avg_pool1d(device, rng):
    x = rng.standard_normal((2, 3, 9))
    out = avg_pool1d(tensor(x, device), 4, 3, 2, True, False)
    ref = ref_avg_pool2d(x[:, :, None], (1, 4), (1, 3), (0, 2), True, False, None)[:, :, 0]
    np.testing.assert_allclose(host(out), ref, rtol=1e-12)
    assert avg_pool1d(tensor(x[0], device), 3).shape == (3, 3)


# ---- adaptive pooling --------------------------------------------------------------------------
@pytest.mark.parametrize("hw,out_hw", [((7, 6), (3, 4)), ((5, 5), (5, 5)), ((4, 9), (1, 1)), ((3, 2), (7, 5))])
def test_adaptive_pools_match_reference(hw, out_hw, device, rng):
    x = rng.standard_normal((2, 3) + hw)
    avg = adaptive_avg_pool2d(tensor(x, device), out_hw)
    np.testing.assert_allclose(host(avg), ref_adaptive(x, out_hw, np.mean), rtol=1e-12)
    mx, idx = adaptive_max_pool2d(tensor(x, device), out_hw, return_indices=True)
    np.testing.assert_array_equal(host(mx), ref_adaptive(x, out_hw, np.max))
    flat = host(idx)
    np.testing.assert_array_equal(np.take_along_axis(x.reshape(2, 3, -1), flat.reshape(2, 3, -1), 2),
                                  host(mx).reshape(2, 3, -1))
    check_grads(lambda x: adaptive_avg_pool2d(x, out_hw), tensor(x, device, True), device, rng)
    check_grads(lambda x: adaptive_max_pool2d(x, out_hw), tensor(x, device, True), device, rng)


def test_adaptive_none_sizes_and_1d(device, rng):
    x = rng.standard_normal((2, 3, 5, 7))
    assert adaptive_avg_pool2d(tensor(x, device), (None, 2)).shape == (2, 3, 5, 2)
    assert adaptive_avg_pool2d(tensor(x[0], device), 4).shape == (3, 4, 4)
    y = x[:, :, 0]
    np.testing.assert_allclose(host(adaptive_avg_pool1d(tensor(y, device), 3)),
                               ref_adaptive(y[:, :, None], (1, 3), np.mean)[:, :, 0], rtol=1e-12)
    out, idx = adaptive_max_pool1d(tensor(y, device), 4, return_indices=True)
    np.testing.assert_array_equal(host(out), ref_adaptive(y[:, :, None], (1, 4), np.max)[:, :, 0])
    assert idx.shape == (2, 3, 4)


# ---- unpooling ---------------------------------------------------------------------------------
def test_max_unpool2d_inverts_max_pool2d_at_the_maxima(device, rng):
    for hw, output_size in [((6, 6), None), ((6, 7), (6, 7))]:
        x = rng.standard_normal((2, 3) + hw)
        out, idx = max_pool2d(tensor(x, device), 2, return_indices=True)
        # default size: (H - 1) stride - 2 padding + kernel_size, here (6, 6)
        un = max_unpool2d(out, idx, 2, output_size=output_size)
        assert un.shape == (2, 3) + hw
        expected = np.zeros((2, 3, hw[0] * hw[1]))
        np.put_along_axis(expected, host(idx).reshape(2, 3, -1), host(out).reshape(2, 3, -1), 2)
        np.testing.assert_array_equal(host(un), expected.reshape((2, 3) + hw))
    check_grads(lambda v: max_unpool2d(v, idx, 2, output_size=(6, 7)), tensor(host(out), device, True), device, rng)


def test_max_unpool1d(device, rng):
    x = rng.standard_normal((1, 2, 8))
    out, idx = max_pool1d(tensor(x, device), 2, return_indices=True)
    un = max_unpool1d(out, idx, 2)
    expected = np.where(host(max_pool1d(tensor(x, device), 2)).repeat(2, -1) == x, x, 0)
    np.testing.assert_array_equal(host(un), expected)


# ---- interpolate -------------------------------------------------------------------------------
@pytest.mark.parametrize("out_hw", [(14, 12), (5, 11), (3, 2), (1, 1)])
def test_interpolate_nearest(out_hw, device, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    out = interpolate(tensor(x, device), size=out_hw)
    rows = [(i * 7) // out_hw[0] for i in range(out_hw[0])]
    cols = [(j * 6) // out_hw[1] for j in range(out_hw[1])]
    np.testing.assert_array_equal(host(out), x[:, :, rows][:, :, :, cols])
    check_grads(lambda x: interpolate(x, size=out_hw), tensor(x, device, True), device, rng)


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("out_hw", [(14, 12), (5, 11), (3, 2), (1, 1)])
def test_interpolate_bilinear(out_hw, align_corners, device, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    out = interpolate(tensor(x, device), size=out_hw, mode="bilinear", align_corners=align_corners)
    np.testing.assert_allclose(host(out), ref_bilinear(x, out_hw, align_corners), rtol=1e-12, atol=1e-13)
    check_grads(lambda x: interpolate(x, out_hw, mode="bilinear", align_corners=align_corners),
                tensor(x, device, True), device, rng)


def test_interpolate_scale_factor_linear_area_and_aliases(device, rng):
    x = rng.standard_normal((2, 3, 5))
    out = interpolate(tensor(x, device), scale_factor=2.5, mode="linear")
    assert out.shape == (2, 3, 12)  # floor(5 * 2.5)
    np.testing.assert_allclose(host(out), ref_bilinear(x[:, :, None], (1, 12), False)[:, :, 0], rtol=1e-12)
    x4 = rng.standard_normal((1, 2, 4, 6))
    np.testing.assert_array_equal(host(interpolate(tensor(x4, device), scale_factor=2)),
                                  x4.repeat(2, 2).repeat(2, 3))
    np.testing.assert_allclose(host(interpolate(tensor(x4, device), size=(2, 3), mode="area")),
                               ref_adaptive(x4, (2, 3), np.mean), rtol=1e-12)
    with pytest.warns(UserWarning, match="deprecated"):
        up = upsample(tensor(x4, device), scale_factor=(2, 1))
    assert up.shape == (1, 2, 8, 6)
    with pytest.warns(UserWarning, match="deprecated"):
        ub = upsample_bilinear(tensor(x4, device), size=(5, 7))
    np.testing.assert_allclose(host(ub), ref_bilinear(x4, (5, 7), True), rtol=1e-12)


def test_interpolate_errors(device):
    x = ember.zeros(1, 2, 4, 4, device=device)
    with pytest.raises(ValueError, match="only one of size or scale_factor should be defined"):
        interpolate(x, size=2, scale_factor=2)
    with pytest.raises(ValueError, match="either size or scale_factor should be defined"):
        interpolate(x)
    with pytest.raises(ValueError, match="align_corners option can only be set with the interpolating modes"):
        interpolate(x, scale_factor=2, align_corners=True)
    with pytest.raises(NotImplementedError, match="Got 3D input, but bilinear mode needs 4D input"):
        interpolate(ember.zeros(1, 2, 4, device=device), scale_factor=2, mode="bilinear")
    with pytest.raises(NotImplementedError, match="bicubic"):
        interpolate(x, scale_factor=2, mode="bicubic")


# ---- pixel shuffle -----------------------------------------------------------------------------
def test_pixel_shuffle_and_unshuffle(device, rng):
    x = rng.standard_normal((2, 3 * 4, 3, 5))
    out = pixel_shuffle(tensor(x, device), 2)
    ref = np.zeros((2, 3, 6, 10))
    for c in range(3):
        for i in range(2):
            for j in range(2):
                ref[:, c, i::2, j::2] = x[:, c * 4 + i * 2 + j]
    np.testing.assert_array_equal(host(out), ref)
    np.testing.assert_array_equal(host(pixel_unshuffle(out, 2)), x)
    assert pixel_shuffle(ember.zeros(4, 5, 9, 2, 2, device=device), 3).shape == (4, 5, 1, 6, 6)
    check_grads(lambda x: pixel_shuffle(x, 2), tensor(x, device, True), device, rng)
    with pytest.raises(RuntimeError, match=r"input.size\(-3\)=5 is not divisible by 4"):
        pixel_shuffle(ember.zeros(1, 5, 2, 2, device=device), 2)
    with pytest.raises(RuntimeError, match=r"input.size\(-2\)=5 is not divisible by 2"):
        pixel_unshuffle(ember.zeros(1, 1, 5, 4, device=device), 2)


# ---- errors ------------------------------------------------------------------------------------
def test_pool_errors(device):
    with pytest.raises(RuntimeError, match="non-empty 3D or 4D"):
        max_pool2d(ember.zeros(4, 4, device=device), 2)
    with pytest.raises(RuntimeError, match="max_pool1d\\(\\) Expected 2D or 3D input tensor"):
        max_pool1d(ember.zeros(1, 1, 4, 4, device=device), 2)
    with pytest.raises(RuntimeError, match="pad should be at most half of effective kernel size"):
        max_pool2d(ember.zeros(1, 1, 4, 4, device=device), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"Given input size: \(1x2x2\). Calculated output size: \(1x0x0\). "
                                           "Output size is too small"):
        max_pool2d(ember.zeros(1, 1, 2, 2, device=device), 3)
    with pytest.raises(RuntimeError, match="divisor must be not zero"):
        avg_pool2d(ember.zeros(1, 1, 4, 4, device=device), 2, divisor_override=0)
    with pytest.raises(RuntimeError, match="Expected shape of indices to be same as that of the input tensor"):
        max_unpool2d(ember.zeros(1, 1, 2, 2, device=device), ember.zeros(1, 1, 2, 3, dtype=ember.int64,
                                                                          device=device), 2)
