"""Tensor-level normalisation (ember/ops/normalization.py): batch_norm (training and evaluation, running
statistics), layer_norm, group_norm and instance_norm.

References are NumPy float64: (x - mean) / sqrt(biased var + eps) * weight + bias over the
documented axes; running statistics follow running = (1 - momentum) running + momentum stat with
the unbiased variance. Gradients: gradcheck on the kernel backward and gradgradcheck on the
Tensor-op backward used under create_graph.
"""
from __future__ import annotations

import ember
import numpy as np
import pytest
from ember.autograd import gradcheck, gradgradcheck
from ember.ops.normalization import batch_norm, group_norm, instance_norm, layer_norm
from helpers import host, normalized_ref, tensor


def channel_shape(x):
    return (1, x.shape[1]) + (1,) * (x.ndim - 2)


# ---- batch norm --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (2, 3, 4, 5), (3, 1, 1, 2)])
def test_batch_norm_training_matches_reference_and_updates_running_stats(shape, device, rng):
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    rm0, rv0 = rng.standard_normal(c), rng.uniform(0.5, 2, c)
    rm, rv = tensor(rm0, device), tensor(rv0, device)
    out = batch_norm(tensor(x, device), rm, rv, tensor(w, device), tensor(b, device), True, 0.3, 1e-3)
    axes = (0,) + tuple(range(2, x.ndim))
    ref = normalized_ref(x, axes, 1e-3) * w.reshape(channel_shape(x)) + b.reshape(channel_shape(x))
    np.testing.assert_allclose(host(out), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(rm), 0.7 * rm0 + 0.3 * x.mean(axes), rtol=1e-12)
    np.testing.assert_allclose(host(rv), 0.7 * rv0 + 0.3 * x.var(axes, ddof=1), rtol=1e-12)


@pytest.mark.parametrize("shape", [(5, 3), (4, 3, 7), (2, 3, 4, 5)])
def test_batch_norm_training_gradients(shape, device, rng):
    c = shape[1]
    x = tensor(rng.standard_normal(shape), device, True)
    w, b = tensor(rng.standard_normal(c), device, True), tensor(rng.standard_normal(c), device, True)
    f = lambda x, w, b: batch_norm(x, None, None, w, b, True)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))
    assert gradcheck(lambda x: batch_norm(x, None, None, training=True), (x,))


def test_batch_norm_eval_is_affine_in_running_stats(device, rng):
    x = rng.standard_normal((4, 3, 5))
    rm, rv, w, b = rng.standard_normal(3), rng.uniform(0.5, 2, 3), rng.standard_normal(3), rng.standard_normal(3)
    out = batch_norm(tensor(x, device), tensor(rm, device), tensor(rv, device), tensor(w, device),
                     tensor(b, device), False, eps=1e-4)
    ref = (x - rm[:, None]) / np.sqrt(rv[:, None] + 1e-4) * w[:, None] + b[:, None]
    np.testing.assert_allclose(host(out), ref, rtol=1e-12)
    args = tuple(tensor(a, device, True) for a in (x, w, b))
    f = lambda x, w, b: batch_norm(x, tensor(rm, device), tensor(rv, device), w, b, False)
    assert gradcheck(f, args) and gradgradcheck(f, args)


def test_batch_norm_float16_float32_and_empty_batch(device, rng):
    x = rng.standard_normal((6, 2, 3)).astype(np.float32)
    rm, rv = ember.zeros(2, dtype=ember.float16, device=device), ember.ones(2, dtype=ember.float16, device=device)
    out = batch_norm(ember.tensor(x, device=device).half(), rm, rv, training=True)
    assert out.dtype == ember.float16 and rm.dtype == ember.float16
    np.testing.assert_allclose(host(out).astype(np.float64), normalized_ref(x.astype(np.float16).astype(np.float64),
                                                                          (0, 2), 1e-5), atol=3e-3)
    np.testing.assert_allclose(host(rm).astype(np.float64), 0.1 * x.mean((0, 2)), atol=1e-3)
    out32 = batch_norm(ember.tensor(x, device=device), None, None, training=True)
    assert out32.dtype == ember.float32
    np.testing.assert_allclose(host(out32), normalized_ref(x.astype(np.float64), (0, 2), 1e-5), rtol=1e-5, atol=1e-5)
    empty = ember.zeros(0, 2, 3, device=device, requires_grad=True)
    w = ember.ones(2, device=device, requires_grad=True)
    y = batch_norm(empty, None, None, w, None, True)
    assert y.shape == (0, 2, 3)
    y.sum().backward()
    np.testing.assert_array_equal(host(w.grad), 0)


def test_batch_norm_errors(device):
    with pytest.raises(ValueError, match=r"Expected more than 1 value per channel when training, got input size "
                                         r"\[1, 3\]"):
        batch_norm(ember.zeros(1, 3, device=device), None, None, training=True)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        batch_norm(ember.zeros(2, 3, device=device), ember.zeros(4, device=device), ember.ones(3, device=device))
    with pytest.raises(RuntimeError, match="must be defined in evaluation mode"):
        batch_norm(ember.zeros(2, 3, device=device), None, None)


# ---- layer norm --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,normalized", [((4, 7), (7,)), ((2, 3, 4, 5), (4, 5)), ((1, 1), (1,)), ((0, 6), (6,)),
                                              ((3, 5), (3, 5))])
def test_layer_norm_matches_reference(shape, normalized, device, rng):
    x = rng.standard_normal(shape) * 3 + 2
    w, b = rng.standard_normal(normalized), rng.standard_normal(normalized)
    out = layer_norm(tensor(x, device), normalized, tensor(w, device), tensor(b, device), 1e-4)
    axes = tuple(range(x.ndim - len(normalized), x.ndim))
    ref = normalized_ref(x, axes, 1e-4) * w + b if x.size else x
    np.testing.assert_allclose(host(out), ref, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(host(layer_norm(tensor(x, device), list(normalized))),
                               normalized_ref(x, axes, 1e-5) if x.size else x, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("shape,normalized", [((4, 7), (7,)), ((2, 3, 4), (3, 4)), ((3, 1), 1)])
def test_layer_norm_gradients(shape, normalized, device, rng):
    nshape = (normalized,) if isinstance(normalized, int) else normalized
    x = tensor(rng.standard_normal(shape), device, True)
    w, b = tensor(rng.standard_normal(nshape), device, True), tensor(rng.standard_normal(nshape), device, True)
    f = lambda x, w, b: layer_norm(x, normalized, w, b)
    assert gradcheck(f, (x, w, b))
    assert gradgradcheck(f, (x, w, b))


def test_layer_norm_float32_and_errors(device, rng):
    x = rng.standard_normal((5, 64)).astype(np.float32)
    out = layer_norm(ember.tensor(x, device=device), 64)
    assert out.dtype == ember.float32
    np.testing.assert_allclose(host(out), normalized_ref(x.astype(np.float64), (1,), 1e-5), rtol=1e-5, atol=1e-5)
    assert ember.layer_norm is layer_norm
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\], "
                                           r"but got input of size\[2, 3\]"):
        layer_norm(ember.zeros(2, 3, device=device), (4,))
    with pytest.raises(RuntimeError, match="Expected weight to be of same shape as normalized_shape"):
        layer_norm(ember.zeros(2, 3, device=device), (3,), ember.ones(2, device=device))


# ---- group norm --------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 2, 3), 4), ((1, 5, 7), 1), ((2, 3), 3)])
def test_group_norm_matches_reference_and_gradients(shape, groups, device, rng):
    x = rng.standard_normal(shape) * 2 - 1
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    out = group_norm(tensor(x, device), groups, tensor(w, device), tensor(b, device), 1e-3)
    xg = x.reshape(shape[0], groups, -1)
    ref = normalized_ref(xg, (2,), 1e-3).reshape(shape) * w.reshape(channel_shape(x)) + b.reshape(channel_shape(x))
    np.testing.assert_allclose(host(out), ref, rtol=1e-10, atol=1e-12)
    if ref.size // (shape[0] * groups) > 1:  # a group of one value has no gradient but through its bias
        args = tuple(tensor(a, device, True) for a in (x, w, b))
        f = lambda x, w, b: group_norm(x, groups, w, b)
        assert gradcheck(f, args) and gradgradcheck(f, args)


def test_group_norm_errors(device):
    with pytest.raises(RuntimeError, match=r"Expected number of channels in input to be divisible by num_groups, "
                                           r"but got input of shape \[2, 6, 4\] and num_groups=4"):
        group_norm(ember.zeros(2, 6, 4, device=device), 4)


# ---- instance norm -----------------------------------------------------------------------------
def test_instance_norm_matches_reference_and_running_stats(device, rng):
    x = rng.standard_normal((3, 4, 5, 2))
    w, b = rng.standard_normal(4), rng.standard_normal(4)
    rm, rv = tensor(np.zeros(4), device), tensor(np.ones(4), device)
    out = instance_norm(tensor(x, device), rm, rv, tensor(w, device), tensor(b, device), momentum=0.2)
    ref = normalized_ref(x, (2, 3), 1e-5) * w[:, None, None] + b[:, None, None]
    np.testing.assert_allclose(host(out), ref, rtol=1e-10, atol=1e-12)
    # PyTorch: the running statistics move towards the batch mean of the per-instance statistics
    np.testing.assert_allclose(host(rm), 0.2 * x.mean((2, 3)).mean(0), rtol=1e-12)
    np.testing.assert_allclose(host(rv), 0.8 + 0.2 * x.var((2, 3), ddof=1).mean(0), rtol=1e-12)
    evaluated = instance_norm(tensor(x, device), rm, rv, use_input_stats=False)
    np.testing.assert_allclose(host(evaluated), (x - host(rm)[:, None, None]) / np.sqrt(host(rv)[:, None, None] + 1e-5),
                               rtol=1e-12)
    args = tuple(tensor(a, device, True) for a in (x, w, b))
    f = lambda x, w, b: instance_norm(x, None, None, w, b)
    assert gradcheck(f, args) and gradgradcheck(f, args)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        instance_norm(ember.zeros(2, 3, 1, device=device))


def test_gradient_penalty_through_layer_norm(device, rng):
    """A WGAN-GP style penalty: the gradient of ||d out / d x|| w.r.t. the weight needs the
    backward of the normalisation to be differentiable."""
    x = tensor(rng.standard_normal((3, 6)), device, True)
    w = tensor(rng.standard_normal(6), device, True)
    (gx,) = ember.autograd.grad((layer_norm(x, (6,), w) ** 3).sum(), x, create_graph=True)
    penalty = (gx.norm(2, dim=1) - 1).pow(2).mean()
    penalty.backward()
    assert w.grad is not None and np.all(np.isfinite(host(w.grad)))
