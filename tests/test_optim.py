"""Fused optimizer steps against NumPy float64 re-implementations of PyTorch's documented update
rules (torch.optim.SGD, Adam/AdamW, RMSprop, Adagrad; tests/optim_refs.py, shared with the
ember.optim tests), over 5 steps for every option combination."""
import itertools

import numpy as np
import pytest
from kernel_checks import DTYPES, assert_close
from optim_refs import adagrad_ref, adam_ref, rmsprop_ref, run_reference, sgd_ref

STEPS = 5
SHAPES = [(7,), (73, 74), (0,), (3, 1, 5)]


def problem(rng, shape, dtype):
    """A random parameter and STEPS random gradients."""
    return rng.standard_normal(shape).astype(dtype), [rng.standard_normal(shape).astype(dtype) for _ in range(STEPS)]


def assert_state(kernels, dtype, pairs):
    """Each (kernel array, float64 reference) pair agrees to within STEPS steps' rounding."""
    for got, want in pairs:
        assert_close(kernels.numpy(got), want, dtype, k=STEPS, scale=1)


def reference(ref, p0, grads, **options):
    """The float64 reference's parameter after all the steps, and its running state."""
    state = {}
    p = run_reference(ref, options, p0.astype(np.float64), [g.astype(np.float64) for g in grads], state)[-1]
    return p, state


# ---- tests ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_sgd(kernels, rng, dtype, shape):
    p0, grads = problem(rng, shape, dtype)
    for momentum, dampening, wd, nesterov, maximize in itertools.product(
            [0.0, 0.9], [0.0, 0.3], [0.0, 0.1], [False, True], [False, True]):
        if nesterov and (momentum == 0 or dampening != 0):
            continue  # rejected, as by PyTorch (tested below)
        p = kernels.asarray(p0.copy())
        buf = kernels.empty(shape, dtype) if momentum else None
        for i, g in enumerate(grads):
            kernels.C.sgd_step(p, kernels.asarray(g), buf, 0.05, momentum, dampening, wd, nesterov,
                               maximize, i == 0)
        rp, st = reference(sgd_ref, p0, grads, lr=0.05, momentum=momentum, dampening=dampening,
                           weight_decay=wd, nesterov=nesterov, maximize=maximize)
        assert_state(kernels, dtype, [(p, rp)] + ([(buf, st["b"])] if momentum else []))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_adam(kernels, rng, dtype, shape):
    p0, grads = problem(rng, shape, dtype)
    for wd, amsgrad, maximize, decoupled in itertools.product([0.0, 0.1], [False, True],
                                                              [False, True], [False, True]):
        p = kernels.asarray(p0.copy())
        m, v = kernels.zeros(shape, dtype), kernels.zeros(shape, dtype)
        vmax = kernels.zeros(shape, dtype) if amsgrad else None
        for step, g in enumerate(grads, start=1):
            kernels.C.adam_step(p, kernels.asarray(g), m, v, vmax, step, 1e-2, 0.9, 0.999, 1e-8, wd,
                                amsgrad, maximize, decoupled)
        rp, st = reference(adam_ref, p0, grads, lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd,
                           amsgrad=amsgrad, maximize=maximize, decoupled=decoupled)
        assert_state(kernels, dtype, [(p, rp), (m, st["m"]), (v, st["v"])] + ([(vmax, st["vmax"])] if amsgrad else []))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_rmsprop(kernels, rng, dtype, shape):
    p0, grads = problem(rng, shape, dtype)
    for wd, momentum, centered, maximize in itertools.product([0.0, 0.1], [0.0, 0.9],
                                                              [False, True], [False, True]):
        p = kernels.asarray(p0.copy())
        sq = kernels.zeros(shape, dtype)
        ga = kernels.zeros(shape, dtype) if centered else None
        buf = kernels.zeros(shape, dtype) if momentum else None
        for g in grads:
            kernels.C.rmsprop_step(p, kernels.asarray(g), sq, ga, buf, 1e-2, 0.99, 1e-8, wd,
                                   momentum, centered, maximize)
        rp, st = reference(rmsprop_ref, p0, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=wd,
                           momentum=momentum, centered=centered, maximize=maximize)
        assert_state(kernels, dtype, [(p, rp), (sq, st["v"])])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_adagrad(kernels, rng, dtype, shape):
    p0, grads = problem(rng, shape, dtype)
    for lr_decay, wd, maximize in itertools.product([0.0, 0.1], [0.0, 0.1], [False, True]):
        p = kernels.asarray(p0.copy())
        s = kernels.asarray(np.full(shape, 0.1, dtype))  # initial_accumulator_value = 0.1
        for step, g in enumerate(grads, start=1):
            kernels.C.adagrad_step(p, kernels.asarray(g), s, step, 0.1, lr_decay, wd, 1e-10,
                                   maximize)
        rp, st = reference(adagrad_ref, p0, grads, lr=0.1, lr_decay=lr_decay, weight_decay=wd, eps=1e-10,
                           initial_accumulator_value=0.1, maximize=maximize)
        assert_state(kernels, dtype, [(p, rp), (s, st["s"])])


def test_zero_weight_decay_keeps_infinite_parameters(kernels):
    """weight_decay=0 is skipped, not multiplied: 0 * inf would be NaN."""
    p = kernels.asarray(np.array([np.inf, 1.0], np.float32))
    kernels.C.sgd_step(p, kernels.asarray(np.ones(2, np.float32)), None, 0.1, 0.0, 0.0, 0.0, False,
                       False, True)
    assert kernels.numpy(p)[0] == np.inf


def test_optim_argument_errors(kernels):
    f32 = np.float32
    p, g = kernels.asarray(np.zeros(4, f32)), kernels.asarray(np.zeros(4, f32))
    z = lambda: kernels.zeros((4,), f32)
    C = kernels.C
    with pytest.raises(ValueError, match="nesterov momentum requires"):
        C.sgd_step(p, g, z(), 0.1, 0.9, 0.1, 0.0, True, False, True)
    with pytest.raises(ValueError, match="'momentum_buffer' must be an array when momentum != 0"):
        C.sgd_step(p, g, None, 0.1, 0.9, 0.0, 0.0, False, False, True)
    with pytest.raises(ValueError, match="'lr' must be a finite number >= 0"):
        C.sgd_step(p, g, None, -0.1, 0.0, 0.0, 0.0, False, False, True)
    with pytest.raises(ValueError, match="'grad' must have shape"):
        C.sgd_step(p, kernels.asarray(np.zeros(5, f32)), None, 0.1, 0.0, 0.0, 0.0, False, False,
                   True)
    with pytest.raises(ValueError, match="'max_exp_avg_sq' must be an array when amsgrad=True"):
        C.adam_step(p, g, z(), z(), None, 1, 1e-3, 0.9, 0.999, 1e-8, 0.0, True, False, False)
    with pytest.raises(ValueError, match="'step' must be >= 1"):
        C.adam_step(p, g, z(), z(), None, 0, 1e-3, 0.9, 0.999, 1e-8, 0.0, False, False, False)
    with pytest.raises(ValueError, match="'beta2' must be in"):
        C.adam_step(p, g, z(), z(), None, 1, 1e-3, 0.9, 1.0, 1e-8, 0.0, False, False, False)
    with pytest.raises(TypeError, match="'exp_avg' must have the same dtype"):
        C.adam_step(p, g, kernels.zeros((4,), np.float64), z(), None, 1, 1e-3, 0.9, 0.999, 1e-8,
                    0.0, False, False, False)
    with pytest.raises(ValueError, match="'grad_avg' must be an array when centered=True"):
        C.rmsprop_step(p, g, z(), None, None, 1e-2, 0.99, 1e-8, 0.0, 0.0, True, False)
    with pytest.raises(ValueError, match="'state_sum' must have shape"):
        C.adagrad_step(p, g, kernels.zeros((3,), f32), 1, 0.1, 0.0, 0.0, 1e-10, False)
    with pytest.raises(TypeError, match="'param' must be float32 or float64"):
        C.adagrad_step(kernels.asarray(np.zeros(4, np.int64)), g, z(), 1, 0.1, 0.0, 0.0, 1e-10,
                       False)
    if kernels.name == "cpu":
        ro = np.zeros(4, f32)
        ro.flags.writeable = False
        with pytest.raises(ValueError, match="'param' is read-only"):
            C.sgd_step(ro, g, None, 0.1, 0.0, 0.0, 0.0, False, False, True)
