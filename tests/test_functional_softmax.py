"""Tensor-level softmax family and classification losses (ember/ops/softmax.py): softmax,
log_softmax, softmin, cross_entropy (class indices with weights, ignore_index, label smoothing,
(N, C, d1..dk) inputs; class probabilities), nll_loss, binary_cross_entropy(_with_logits).

References are NumPy float64 written from PyTorch's documented formulas; the 'mean' reduction of
the weighted losses divides by the summed weights of the non-ignored targets.
"""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.softmax import (binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, log_softmax,
                               nll_loss, softmax, softmin)
from ember.ops.table import log_softmax_ref as ref_log_softmax
from helpers import host, labels, tensor


def ref_cross_entropy(x, t, w, ignore_index, ls, reduction):
    """x (N, C, *), t (N, *): PyTorch's (1 - ls) * nll + ls / C * smooth, both weighted."""
    c = x.shape[1]
    logp = np.moveaxis(ref_log_softmax(x, 1), 1, -1).reshape(-1, c)
    t = t.reshape(-1)
    w = np.ones(c) if w is None else w
    keep = t != ignore_index
    safe = np.where(keep, t, 0)
    nll = -logp[np.arange(len(t)), safe] * w[safe] * keep
    smooth = -(logp * w).sum(1) * keep
    loss = (1 - ls) * nll + ls / c * smooth
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / (w[safe] * keep).sum()


# ---- softmax -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,dim", [((3, 5), 1), ((3, 5), 0), ((2, 3, 4), -1), ((2, 3, 4), 1), ((7,), 0),
                                       ((), 0), ((0, 4), 1), ((4, 1), 1)])
def test_softmax_family_matches_reference(shape, dim, device, rng):
    x = rng.standard_normal(shape) * 5
    xt = tensor(x, device)
    axis = dim if x.ndim else None
    lsm = ref_log_softmax(x, axis) if x.ndim else np.zeros(())
    np.testing.assert_allclose(host(log_softmax(xt, dim)), lsm, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(host(softmax(xt, dim)), np.exp(lsm), rtol=1e-12, atol=1e-15)
    ref_min = np.exp(ref_log_softmax(-x, axis)) if x.ndim else np.ones(())
    np.testing.assert_allclose(host(softmin(xt, dim)), ref_min, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("fn", [softmax, log_softmax, softmin])
def test_softmax_family_gradients(fn, device, rng):
    x = tensor(rng.standard_normal((3, 4, 5)), device, True)
    for dim in (0, 1, -1):
        assert gradcheck(lambda x, dim=dim: fn(x, dim), (x,))
        assert gradgradcheck(lambda x, dim=dim: fn(x, dim), (x,))


def test_softmax_stability_dtype_and_implicit_dim(device, rng):
    big = tensor([[1000.0, 0.0, -1000.0]], device)
    np.testing.assert_allclose(host(softmax(big, 1)), [[1, 0, 0]], atol=1e-300)
    np.testing.assert_allclose(host(log_softmax(big, 1)), [[0, -1000, -2000]])
    x = rng.standard_normal((2, 3)).astype(np.float32)
    out = softmax(ember.tensor(x, device=device), 1, dtype=ember.float64)
    assert out.dtype == ember.float64
    np.testing.assert_allclose(host(out), np.exp(ref_log_softmax(x.astype(np.float64), 1)), rtol=1e-12)
    half = softmax(ember.tensor(x, device=device).half(), -1)
    assert half.dtype == ember.float16
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax has been deprecated"):
        implicit = softmax(ember.tensor(x, device=device))
    np.testing.assert_allclose(host(implicit), np.exp(ref_log_softmax(x.astype(np.float64), 1)), rtol=1e-6)
    assert ember.softmax is softmax and ember.tensor(x).softmax(0).shape == (2, 3)
    with pytest.raises(IndexError, match="Dimension out of range"):
        softmax(ember.tensor(x, device=device), 2)
    with pytest.raises(RuntimeError, match="not implemented for 'int64'"):
        softmax(ember.tensor([1, 2], device=device), 0)


# ---- cross-entropy -----------------------------------------------------------------------------
CE_CASES = [
    # (input shape, weighted, ignore some, label_smoothing)
    ((6, 4), False, False, 0.0),
    ((6, 4), True, True, 0.0),
    ((5, 3), True, False, 0.25),
    ((2, 4, 3, 2), True, True, 0.1),  # (N, C, d1, d2)
    ((3, 1), False, False, 0.0),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("case", CE_CASES)
def test_cross_entropy_matches_reference(case, reduction, device, rng):
    shape, weighted, ignore, ls = case
    c = shape[1]
    x = rng.standard_normal(shape) * 3
    t = rng.integers(0, c, (shape[0],) + shape[2:])
    if ignore:
        t.reshape(-1)[::3] = -100
    w = rng.uniform(0.5, 2.0, c) if weighted else None
    out = cross_entropy(tensor(x, device), labels(t, device), None if w is None else tensor(w, device),
                        reduction=reduction, label_smoothing=ls)
    ref = ref_cross_entropy(x, t, w, -100, ls, reduction)
    np.testing.assert_allclose(host(out), ref.reshape(t.shape) if reduction == "none" else ref, rtol=1e-10)
    xt = tensor(x, device, True)
    f = lambda x: cross_entropy(x, labels(t, device), None if w is None else tensor(w, device),
                                reduction=reduction, label_smoothing=ls)
    assert gradcheck(f, (xt,))
    assert gradgradcheck(f, (xt,))


def test_cross_entropy_unbatched_custom_ignore_index_and_legacy_flags(device, rng):
    x = rng.standard_normal(5)
    out = cross_entropy(tensor(x, device), labels(3, device))
    np.testing.assert_allclose(host(out), -ref_log_softmax(x, 0)[3], rtol=1e-12)
    xb, t = rng.standard_normal((4, 3)), np.array([0, 2, 1, 2])
    out = cross_entropy(tensor(xb, device), labels(t, device), ignore_index=2)
    np.testing.assert_allclose(host(out), ref_cross_entropy(xb, t, None, 2, 0.0, "mean"), rtol=1e-12)
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        summed = cross_entropy(tensor(xb, device), labels(t, device), size_average=False)
    np.testing.assert_allclose(host(summed), ref_cross_entropy(xb, t, None, -100, 0.0, "sum"), rtol=1e-12)
    all_ignored = cross_entropy(tensor(xb, device), labels([-100] * 4, device))
    assert np.isnan(host(all_ignored))  # 0 / 0, as PyTorch


def test_cross_entropy_float32_against_float64_reference(device, rng):
    x = (rng.standard_normal((64, 10)) * 4).astype(np.float32)
    t = rng.integers(0, 10, 64)
    out = cross_entropy(ember.tensor(x, device=device), labels(t, device), label_smoothing=0.1)
    assert out.dtype == ember.float32
    ref = ref_cross_entropy(x.astype(np.float64), t, None, -100, 0.1, "mean")
    np.testing.assert_allclose(host(out), ref, rtol=20 * np.sqrt(10) * np.finfo(np.float32).eps)


@pytest.mark.parametrize("ls", [0.0, 0.3])
def test_cross_entropy_with_class_probabilities(ls, device, rng):
    x = rng.standard_normal((4, 5, 3))
    p = rng.uniform(size=(4, 5, 3))
    p /= p.sum(1, keepdims=True)
    w = rng.uniform(0.5, 2, 5)
    out = cross_entropy(tensor(x, device), tensor(p, device), tensor(w, device), label_smoothing=ls)
    target = p * (1 - ls) + ls / 5
    ref = -(ref_log_softmax(x, 1) * target * w[None, :, None]).sum(1).mean()  # mean over N * d1
    np.testing.assert_allclose(host(out), ref, rtol=1e-12)
    xt, pt = tensor(x, device, True), tensor(p, device, True)
    assert gradcheck(lambda x, p: cross_entropy(x, p, label_smoothing=ls), (xt, pt))


def test_cross_entropy_errors(device):
    x = ember.zeros(3, 4, device=device)
    with pytest.raises(IndexError, match=r"Target 12 is out of bounds."):
        cross_entropy(x, labels([0, 12, 1], device))
    with pytest.raises(IndexError, match=r"Target -1 is out of bounds."):
        cross_entropy(x, labels([0, -1, 1], device))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(2\)."):
        cross_entropy(x, labels([0, 1], device))
    with pytest.raises(RuntimeError, match=r"Expected target size \[3, 2\], got \[3, 3\]"):
        cross_entropy(ember.zeros(3, 4, 2, device=device), labels(np.zeros((3, 3)), device))
    with pytest.raises(ValueError, match="is not a valid value for reduction"):
        cross_entropy(x, labels([0, 1, 2], device), reduction="avg")
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 4 classes"):
        cross_entropy(x, labels([0, 1, 2], device), ember.ones(3, device=device))


# ---- nll loss ----------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_matches_cross_entropy_of_log_softmax(reduction, device, rng):
    x = rng.standard_normal((3, 4, 5))
    t = rng.integers(0, 4, (3, 5))
    t[0, :2] = 7
    w = rng.uniform(0.5, 2, 4)
    logp = ref_log_softmax(x, 1)
    out = nll_loss(tensor(logp, device), labels(t, device), tensor(w, device), ignore_index=7, reduction=reduction)
    ref = ref_cross_entropy(x, t, w, 7, 0.0, reduction)
    np.testing.assert_allclose(host(out), ref.reshape(t.shape) if reduction == "none" else ref, rtol=1e-10)
    lt = tensor(logp, device, True)
    f = lambda v: nll_loss(v, labels(t, device), tensor(w, device), ignore_index=7, reduction=reduction)
    assert gradcheck(f, (lt,))


# ---- binary cross-entropy ------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropy_matches_reference(reduction, device, rng):
    p = rng.uniform(0.02, 0.98, (4, 3))
    p[0, 0], p[0, 1] = 0.0, 1.0  # log clamped at -100, as PyTorch
    y = rng.uniform(size=(4, 3))
    w = rng.uniform(0.5, 2, 3)
    out = binary_cross_entropy(tensor(p, device), tensor(y, device), tensor(w, device), reduction=reduction)
    loss = -w * (y * np.maximum(np.log(np.maximum(p, 1e-300)), -100)
                 + (1 - y) * np.maximum(np.log(np.maximum(1 - p, 1e-300)), -100))
    ref = {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]
    np.testing.assert_allclose(host(out), ref, rtol=1e-12)
    pt, yt = tensor(np.clip(p, 0.05, 0.95), device, True), tensor(y, device, True)
    f = lambda p, y: binary_cross_entropy(p, y, tensor(w, device), reduction=reduction)
    assert gradcheck(f, (pt, yt))
    assert gradgradcheck(f, (pt, yt))
    # at saturated probabilities the gradient stays finite: w (x - y) / max(x (1 - x), 1e-12)
    pt = tensor(p, device, True)
    binary_cross_entropy(pt, tensor(y, device), reduction="sum").backward()
    expected = (p - y) / np.maximum(p * (1 - p), 1e-12)
    np.testing.assert_allclose(host(pt.grad), expected, rtol=1e-12)
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        binary_cross_entropy(tensor(p + 1, device), tensor(y, device))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted,pos", [(False, False), (True, True), (False, True)])
def test_binary_cross_entropy_with_logits(reduction, weighted, pos, device, rng):
    x = rng.standard_normal((5, 4)) * 20  # large logits: the stable formulation matters
    y = rng.uniform(size=(5, 4))
    w = rng.uniform(0.5, 2, (5, 1)) if weighted else None
    pw = rng.uniform(0.5, 3, 4) if pos else None
    out = binary_cross_entropy_with_logits(tensor(x, device), tensor(y, device),
                                           None if w is None else tensor(w, device), reduction=reduction,
                                           pos_weight=None if pw is None else tensor(pw, device))
    log_sig = -np.logaddexp(0, -x)
    log_one_minus = -np.logaddexp(0, x)
    loss = -((1 if pw is None else pw) * y * log_sig + (1 - y) * log_one_minus) * (1 if w is None else w)
    ref = {"none": loss, "sum": loss.sum(), "mean": loss.mean()}[reduction]
    np.testing.assert_allclose(host(out), ref, rtol=1e-12)
    xt, yt = tensor(x / 10, device, True), tensor(y, device, True)
    f = lambda x, y: binary_cross_entropy_with_logits(
        x, y, None if w is None else tensor(w, device), reduction=reduction,
        pos_weight=None if pw is None else tensor(pw, device))
    assert gradcheck(f, (xt, yt))
    assert gradgradcheck(f, (xt, yt))


def test_binary_cross_entropy_with_logits_weight_gradients_and_errors(device, rng):
    x, y = tensor(rng.standard_normal((3, 2)), device, True), tensor(rng.uniform(size=(3, 2)), device)
    w, pw = tensor(rng.uniform(0.5, 2, (3, 2)), device, True), tensor(rng.uniform(0.5, 2, 2), device, True)
    assert gradcheck(lambda x, w, pw: binary_cross_entropy_with_logits(x, y, w, pos_weight=pw), (x, w, pw))
    with pytest.raises(ValueError, match="Using a target size"):
        binary_cross_entropy_with_logits(ember.zeros(3, 1, device=device), ember.zeros(3, device=device))
    assert ember.binary_cross_entropy_with_logits is binary_cross_entropy_with_logits
