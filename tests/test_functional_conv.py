"""Tensor-level convolutions and linear maps (ember/ops/conv.py): linear, bilinear, conv1d/2d,
conv_transpose1d/2d, unfold/fold.

References are NumPy float64 written from the definitions: a convolution sums, for every kernel
tap, the strided slice of the zero-padded input it meets; a transposed convolution scatters every
input element times the kernel into the output; unfold copies each tap's slice. conv2d's is the op
table's reference (ember.ops.table). Gradients are
checked with gradcheck (float64) and, for the ops made twice differentiable, gradgradcheck.
"""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.conv import bilinear, conv1d, conv2d, conv_transpose1d, conv_transpose2d, fold, linear, unfold
from ember.ops.table import conv2d_ref as ref_conv2d
from helpers import host, tensor


# ---- references --------------------------------------------------------------------------------
def ref_conv_transpose2d(x, w, b, stride, padding, output_padding, dilation, groups):
    n, c, h, wd = x.shape
    _, cog, kh, kw = w.shape
    cg = c // groups
    oh = (h - 1) * stride[0] - 2 * padding[0] + dilation[0] * (kh - 1) + output_padding[0] + 1
    ow = (wd - 1) * stride[1] - 2 * padding[1] + dilation[1] * (kw - 1) + output_padding[1] + 1
    full = np.zeros((n, cog * groups, oh + 2 * padding[0] + stride[0] + dilation[0] * kh,
                     ow + 2 * padding[1] + stride[1] + dilation[1] * kw))
    for g in range(groups):
        for ci in range(g * cg, (g + 1) * cg):
            for i in range(h):
                for j in range(wd):
                    for a in range(kh):
                        for bb in range(kw):
                            full[:, g * cog:(g + 1) * cog, i * stride[0] + a * dilation[0],
                                 j * stride[1] + bb * dilation[1]] += x[:, ci, i, j, None] * w[ci, :, a, bb]
    out = full[:, :, padding[0]:padding[0] + oh, padding[1]:padding[1] + ow]
    if b is not None:
        out = out + b[None, :, None, None]
    return out


def ref_unfold(x, kernel, dilation, padding, stride):
    n, c, h, wd = x.shape
    oh = (h + 2 * padding[0] - dilation[0] * (kernel[0] - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kernel[1] - 1) - 1) // stride[1] + 1
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    cols = np.zeros((n, c, kernel[0], kernel[1], oh, ow))
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            for r in range(oh):
                for s in range(ow):
                    cols[:, :, i, j, r, s] = xp[:, :, r * stride[0] + i * dilation[0], s * stride[1] + j * dilation[1]]
    return cols.reshape(n, c * kernel[0] * kernel[1], oh * ow)


# ---- conv2d ------------------------------------------------------------------------------------
CONV2D_CASES = [
    # (N, C, H, W, O, kernel, stride, padding, dilation, groups)
    (2, 3, 7, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (1, 4, 9, 5, 6, (2, 3), (2, 1), (0, 2), (1, 2), 2),
    (3, 1, 1, 1, 1, (1, 1), (1, 1), (0, 0), (1, 1), 1),
    (2, 6, 5, 7, 6, (3, 2), (3, 2), (1, 0), (2, 1), 6),  # depthwise
    (0, 2, 5, 5, 3, (3, 3), (1, 1), (0, 0), (1, 1), 1),  # empty batch
]


@pytest.mark.parametrize("case", CONV2D_CASES)
def test_conv2d_forward_matches_reference(case, device, rng):
    n, c, h, wd, o, k, s, p, d, g = case
    x, w, b = rng.standard_normal((n, c, h, wd)), rng.standard_normal((o, c // g, *k)), rng.standard_normal(o)
    out = conv2d(tensor(x, device), tensor(w, device), tensor(b, device), s, p, d, g)
    np.testing.assert_allclose(host(out), ref_conv2d(x, w, b, s, p, d, g), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", CONV2D_CASES[:4])
def test_conv2d_gradients(case, device, rng):
    n, c, h, wd, o, k, s, p, d, g = case
    x = tensor(rng.standard_normal((n, c, h, wd)), device, True)
    w = tensor(rng.standard_normal((o, c // g, *k)), device, True)
    b = tensor(rng.standard_normal(o), device, True)
    f = lambda x, w, b: conv2d(x, w, b, s, p, d, g)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_conv2d_empty_batch_gradients(device):
    x = ember.zeros(0, 2, 5, 5, dtype=ember.float64, device=device, requires_grad=True)
    w = ember.ones(3, 2, 3, 3, dtype=ember.float64, device=device, requires_grad=True)
    b = ember.ones(3, dtype=ember.float64, device=device, requires_grad=True)
    conv2d(x, w, b).sum().backward()
    assert x.grad.shape == (0, 2, 5, 5)
    np.testing.assert_array_equal(host(w.grad), 0)
    np.testing.assert_array_equal(host(b.grad), 0)


def test_conv2d_unbatched_and_float32(device, rng):
    x, w = rng.standard_normal((3, 8, 8)), rng.standard_normal((5, 3, 3, 3))
    out = conv2d(tensor(x, device, dtype=ember.float32), tensor(w, device, dtype=ember.float32), padding=1)
    assert out.shape == (5, 8, 8) and out.dtype == ember.float32
    ref = ref_conv2d(x[None], w, None, (1, 1), (1, 1), (1, 1), 1)[0]
    # float32 rounding of inputs and a reduction over K = 27 products
    tol = 4 * np.sqrt(27) * np.finfo(np.float32).eps * ref_conv2d(abs(x[None]), abs(w), None, (1, 1), (1, 1),
                                                                 (1, 1), 1)[0]
    assert np.all(np.abs(host(out) - ref) <= tol + 1e-30)


def test_conv2d_float16_computes_in_float32(device, rng):
    x, w = rng.standard_normal((1, 2, 4, 4)), rng.standard_normal((3, 2, 3, 3))
    out = conv2d(tensor(x, device, dtype=ember.float16), tensor(w, device, dtype=ember.float16))
    assert out.dtype == ember.float16
    ref = ref_conv2d(x.astype(np.float16).astype(np.float64), w.astype(np.float16).astype(np.float64),
                     None, (1, 1), (0, 0), (1, 1), 1)
    np.testing.assert_allclose(host(out).astype(np.float64), ref, rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("kernel,dilation", [((4, 3), (1, 1)), ((2, 2), (1, 3)), ((3, 5), (2, 1))])
def test_conv2d_same_padding_pads_the_odd_extra_at_the_end(kernel, dilation, device, rng):
    x, w = rng.standard_normal((2, 2, 6, 7)), rng.standard_normal((3, 2, *kernel))
    out = conv2d(tensor(x, device), tensor(w, device), padding="same", dilation=dilation)
    assert out.shape == (2, 3, 6, 7)
    total = [d * (k - 1) for d, k in zip(dilation, kernel)]
    xp = np.pad(x, ((0, 0), (0, 0), (total[0] // 2, total[0] - total[0] // 2),
                    (total[1] // 2, total[1] - total[1] // 2)))
    np.testing.assert_allclose(host(out), ref_conv2d(xp, w, None, (1, 1), (0, 0), dilation, 1), rtol=1e-12, atol=1e-12)
    xt, wt = tensor(x, device, True), tensor(w, device, True)
    assert gradcheck(lambda x, w: conv2d(x, w, padding="same", dilation=dilation), (xt, wt))


def test_conv2d_valid_padding_and_output_size_formula(device, rng):
    for h, k, s, p, d in [(10, 3, 2, 1, 1), (11, 4, 3, 2, 2), (5, 5, 1, 0, 1), (7, 2, 5, 0, 3)]:
        x = ember.zeros(1, 1, h, h, dtype=ember.float64, device=device)
        w = ember.zeros(1, 1, k, k, dtype=ember.float64, device=device)
        # PyTorch: H_out = floor((H + 2 padding - dilation (k - 1) - 1) / stride + 1)
        expected = int(np.floor((h + 2 * p - d * (k - 1) - 1) / s + 1))
        assert conv2d(x, w, stride=s, padding=p, dilation=d).shape[-1] == expected
    x = ember.zeros(1, 1, 6, 6, device=device)
    assert conv2d(x, ember.zeros(1, 1, 3, 3, device=device), padding="valid").shape == (1, 1, 4, 4)


# ---- conv1d ------------------------------------------------------------------------------------
@pytest.mark.parametrize("n,c,length,o,k,s,p,d,g", [(2, 4, 9, 6, 3, 2, 1, 2, 2), (1, 1, 1, 1, 1, 1, 0, 1, 1),
                                                    (3, 3, 8, 3, 4, 1, 3, 1, 3)])
def test_conv1d_matches_reference_and_gradients(n, c, length, o, k, s, p, d, g, device, rng):
    x, w, b = rng.standard_normal((n, c, length)), rng.standard_normal((o, c // g, k)), rng.standard_normal(o)
    out = conv1d(tensor(x, device), tensor(w, device), tensor(b, device), s, p, d, g)
    ref = ref_conv2d(x[:, :, None], w[:, :, None], b, (1, s), (0, p), (1, d), g)[:, :, 0]
    np.testing.assert_allclose(host(out), ref, rtol=1e-12, atol=1e-12)
    xt, wt, bt = tensor(x, device, True), tensor(w, device, True), tensor(b, device, True)
    assert gradcheck(lambda x, w, b: conv1d(x, w, b, s, p, d, g), (xt, wt, bt))


def test_conv1d_unbatched_and_same(device, rng):
    x, w = rng.standard_normal((2, 7)), rng.standard_normal((4, 2, 4))
    out = conv1d(tensor(x, device), tensor(w, device), padding="same")
    ref = ref_conv2d(np.pad(x, ((0, 0), (1, 2)))[None, :, None], w[:, :, None], None, (1, 1), (0, 0), (1, 1), 1)
    np.testing.assert_allclose(host(out), ref[0, :, 0], rtol=1e-12, atol=1e-12)


# ---- transposed convolutions -------------------------------------------------------------------
TRANSPOSE_CASES = [
    # (N, C_in, H, W, C_out/groups, kernel, stride, padding, output_padding, dilation, groups)
    (2, 4, 3, 4, 3, (3, 2), (2, 3), (1, 0), (1, 2), (1, 1), 2),
    (1, 2, 5, 4, 2, (3, 3), (1, 1), (1, 1), (1, 1), (2, 2), 1),  # output_padding >= stride (< dilation)
    (2, 3, 1, 1, 1, (1, 1), (1, 1), (0, 0), (0, 0), (1, 1), 1),
    (1, 3, 4, 3, 2, (2, 4), (3, 2), (0, 1), (2, 0), (1, 2), 3),
]


@pytest.mark.parametrize("case", TRANSPOSE_CASES)
def test_conv_transpose2d_matches_reference_and_gradients(case, device, rng):
    n, c, h, wd, cog, k, s, p, op, d, g = case
    x, w, b = rng.standard_normal((n, c, h, wd)), rng.standard_normal((c, cog, *k)), rng.standard_normal(cog * g)
    out = conv_transpose2d(tensor(x, device), tensor(w, device), tensor(b, device), s, p, op, g, d)
    np.testing.assert_allclose(host(out), ref_conv_transpose2d(x, w, b, s, p, op, d, g), rtol=1e-12, atol=1e-12)
    xt, wt, bt = tensor(x, device, True), tensor(w, device, True), tensor(b, device, True)
    f = lambda x, w, b: conv_transpose2d(x, w, b, s, p, op, g, d)
    assert gradcheck(f, (xt, wt, bt))
    assert gradgradcheck(f, (xt, wt, bt))


def test_conv_transpose2d_is_the_input_gradient_of_conv2d(device, rng):
    x = tensor(rng.standard_normal((2, 4, 8, 6)), device, True)
    w = tensor(rng.standard_normal((6, 2, 3, 2)), device)
    y = conv2d(x, w, stride=2, padding=1, groups=2)
    gy = tensor(rng.standard_normal(tuple(y.shape)), device)
    (gx,) = ember.autograd.grad(y, x, gy)
    # H = 8 needs output_padding 1 to be recovered from the strided output, W = 6 needs 0
    direct = conv_transpose2d(gy, w, stride=2, padding=1, output_padding=(1, 0), groups=2)
    np.testing.assert_allclose(host(gx), host(direct), rtol=1e-12, atol=1e-12)


def test_conv_transpose1d_and_output_size_formula(device, rng):
    x, w = rng.standard_normal((2, 3, 5)), rng.standard_normal((3, 2, 4))
    out = conv_transpose1d(tensor(x, device), tensor(w, device), None, 2, 1, 1, 1, 2)
    # L_out = (L - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1
    assert out.shape == (2, 2, (5 - 1) * 2 - 2 + 2 * 3 + 1 + 1)
    ref = ref_conv_transpose2d(x[:, :, None], w[:, :, None], None, (1, 2), (0, 1), (0, 1), (1, 2), 1)[:, :, 0]
    np.testing.assert_allclose(host(out), ref, rtol=1e-12, atol=1e-12)
    assert conv_transpose1d(tensor(x[0], device), tensor(w, device)).shape == (2, 8)


# ---- linear / bilinear -------------------------------------------------------------------------
@pytest.mark.parametrize("lead", [(), (5,), (2, 3), (0,), (1, 1)])
def test_linear_matches_reference(lead, device, rng):
    x, w, b = rng.standard_normal(lead + (7,)), rng.standard_normal((4, 7)), rng.standard_normal(4)
    out = linear(tensor(x, device), tensor(w, device), tensor(b, device))
    assert out.shape == lead + (4,)
    np.testing.assert_allclose(host(out), x @ w.T + b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(linear(tensor(x, device), tensor(w, device))), x @ w.T, rtol=1e-12, atol=1e-12)


def test_linear_transposed_weight_view_and_gradients(device, rng):
    wt = tensor(rng.standard_normal((7, 4)), device)
    x = tensor(rng.standard_normal((3, 7)), device, True)
    w = wt.t()  # a column-major view: passed to the GEMM as a transpose flag
    np.testing.assert_allclose(host(linear(x, w)), host(x) @ host(wt), rtol=1e-12, atol=1e-12)
    x2 = tensor(rng.standard_normal((2, 3, 7)), device, True)
    w2 = tensor(rng.standard_normal((4, 7)), device, True)
    b2 = tensor(rng.standard_normal(4), device, True)
    assert gradcheck(linear, (x2, w2, b2))
    assert gradgradcheck(linear, (x2, w2, b2))


def test_linear_with_broadcast_and_flipped_views(device, rng):
    """Stride-0 (expanded) and negative-stride inputs reach the GEMM as copies (regression: the
    gradient of linear(...).sum() is an expanded tensor)."""
    w = rng.standard_normal((3, 5))
    row = rng.standard_normal(5)
    x = tensor(row, device).expand(4, 5)
    np.testing.assert_allclose(host(linear(x, tensor(w, device))), np.tile(row @ w.T, (4, 1)), rtol=1e-12)
    m = rng.standard_normal((4, 5))
    np.testing.assert_allclose(host(linear(tensor(m, device).flip(0), tensor(w, device))), m[::-1] @ w.T, rtol=1e-12)
    h = tensor(rng.standard_normal((4, 5)), device, True)
    (g,) = ember.autograd.grad(linear(h, tensor(w[:1], device)).squeeze(1).sum(), h)
    np.testing.assert_allclose(host(g), np.tile(w[:1], (4, 1)), rtol=1e-12)


def test_bilinear_matches_reference_and_gradients(device, rng):
    x1, x2 = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 5))
    w, b = rng.standard_normal((6, 4, 5)), rng.standard_normal(6)
    out = bilinear(tensor(x1, device), tensor(x2, device), tensor(w, device), tensor(b, device))
    np.testing.assert_allclose(host(out), np.einsum("abi,oij,abj->abo", x1, w, x2) + b, rtol=1e-12, atol=1e-12)
    args = tuple(tensor(a, device, True) for a in (x1, x2, w, b))
    assert gradcheck(bilinear, args)


# ---- unfold / fold -----------------------------------------------------------------------------
@pytest.mark.parametrize("kernel,dilation,padding,stride", [((2, 3), (1, 1), (1, 0), (2, 1)),
                                                            ((3, 3), (2, 1), (2, 2), (1, 3)),
                                                            ((1, 1), (1, 1), (0, 0), (1, 1))])
def test_unfold_fold_match_reference_and_are_adjoint(kernel, dilation, padding, stride, device, rng):
    x = rng.standard_normal((2, 3, 7, 6))
    cols = unfold(tensor(x, device), kernel, dilation, padding, stride)
    ref = ref_unfold(x, kernel, dilation, padding, stride)
    np.testing.assert_allclose(host(cols), ref, rtol=1e-12, atol=1e-12)
    c = rng.standard_normal(ref.shape)
    folded = fold(tensor(c, device), (7, 6), kernel, dilation, padding, stride)
    # fold is the adjoint of unfold: <unfold(x), c> = <x, fold(c)>
    np.testing.assert_allclose((ref * c).sum(), (x * host(folded)).sum(), rtol=1e-10)
    xt, ct = tensor(x, device, True), tensor(c, device, True)
    assert gradcheck(lambda x: unfold(x, kernel, dilation, padding, stride), (xt,))
    assert gradcheck(lambda c: fold(c, (7, 6), kernel, dilation, padding, stride), (ct,))


def test_fold_of_ones_counts_block_overlaps(device):
    counts = fold(ember.ones(1, 4, 9, dtype=ember.float64, device=device), (4, 4), 2)
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])
    np.testing.assert_array_equal(host(counts)[0, 0], expected)
    assert unfold(ember.ones(3, 4, 4, device=device), 2).shape == (12, 9)


# ---- errors ------------------------------------------------------------------------------------
def test_conv_errors_carry_pytorch_messages(device):
    w = ember.zeros(8, 3, 3, 3, device=device)
    with pytest.raises(RuntimeError, match=r"Expected 3D \(unbatched\) or 4D \(batched\) input to conv2d, but "
                                           r"got input of size: \[2, 3\]"):
        conv2d(ember.zeros(2, 3, device=device), w)
    with pytest.raises(RuntimeError, match=r"Given groups=1, weight of size \[8, 3, 3, 3\], expected "
                                           r"input\[2, 1, 5, 5\] to have 3 channels, but got 1 channels instead"):
        conv2d(ember.zeros(2, 1, 5, 5, device=device), w)
    with pytest.raises(RuntimeError, match="expected weight to be divisible by 3 at dimension 0"):
        conv2d(ember.zeros(1, 9, 5, 5, device=device), w, groups=3)
    with pytest.raises(RuntimeError, match="Kernel size can't be greater than actual input size"):
        conv2d(ember.zeros(1, 3, 2, 2, device=device), w)
    with pytest.raises(RuntimeError, match="expected bias to be 1-dimensional with 8 elements"):
        conv2d(ember.zeros(1, 3, 5, 5, device=device), w, ember.zeros(7, device=device))
    with pytest.raises(RuntimeError, match="padding='same' is not supported for strided convolutions"):
        conv2d(ember.zeros(1, 3, 5, 5, device=device), w, stride=2, padding="same")
    with pytest.raises(ValueError, match="Invalid padding string 'full'"):
        conv2d(ember.zeros(1, 3, 5, 5, device=device), w, padding="full")
    with pytest.raises(RuntimeError, match="non-positive stride is not supported"):
        conv2d(ember.zeros(1, 3, 5, 5, device=device), w, stride=0)
    with pytest.raises(RuntimeError, match="negative padding is not supported"):
        conv2d(ember.zeros(1, 3, 5, 5, device=device), w, padding=-1)
    with pytest.raises(RuntimeError, match="Input type \\(double\\) and weight type \\(float\\) should be the same"):
        conv2d(ember.zeros(1, 3, 5, 5, dtype=ember.float64, device=device), w)
    with pytest.raises(RuntimeError, match=r"Expected 2D \(unbatched\) or 3D \(batched\) input to conv1d"):
        conv1d(ember.zeros(1, 3, 5, 5, device=device), ember.zeros(2, 3, 3, device=device))
    with pytest.raises(RuntimeError, match="output padding must be smaller than either stride or dilation"):
        conv_transpose2d(ember.zeros(1, 3, 5, 5, device=device), w, output_padding=1)
    with pytest.raises(RuntimeError, match=r"Given transposed=1, weight of size \[8, 3, 3, 3\], expected "
                                           r"input\[1, 3, 5, 5\] to have 8 channels"):
        conv_transpose2d(ember.zeros(1, 3, 5, 5, device=device), w)
    with pytest.raises(RuntimeError, match=r"not implemented|floating-point"):
        conv2d(ember.zeros(1, 3, 5, 5, dtype=ember.int64, device=device), w.long())


def test_linear_and_fold_errors(device):
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x5\)"):
        linear(ember.zeros(2, 3, device=device), ember.zeros(5, 4, device=device))
    with pytest.raises(RuntimeError, match="mat1 and mat2 must have the same dtype"):
        linear(ember.zeros(2, 3, device=device), ember.zeros(5, 3, dtype=ember.float64, device=device))
    with pytest.raises(RuntimeError, match="Only 3D or 4D input Tensors are supported"):
        unfold(ember.zeros(3, 3, device=device), 2)
    with pytest.raises(RuntimeError,
                       match=r"calculated number of sliding blocks 3 \* 3 = 9, but got input.size\(2\)=8"):
        fold(ember.zeros(1, 4, 8, device=device), (4, 4), 2)
    with pytest.raises(RuntimeError, match="divisible by the product of kernel_size"):
        fold(ember.zeros(1, 5, 9, device=device), (4, 4), 2)


def test_top_level_names():
    assert ember.conv2d is conv2d and ember.conv1d is conv1d and ember.conv_transpose2d is conv_transpose2d
