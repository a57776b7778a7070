"""Fused GELU (exact and tanh approximation), SiLU and ReLU against NumPy float64 references."""
import math

import numpy as np
import pytest
from kernel_checks import DTYPES, assert_close, check_gradients

erfc = np.vectorize(math.erfc, otypes=[float])
SQRT_2_OVER_PI = math.sqrt(2 / math.pi)


# ---- float64 references ------------------------------------------------------------------------
def gelu_ref(x, approximate):
    """Value and derivative. 1 + tanh(u) and 1 - tanh(u)^2 are written without cancellation
    (2 / (1 + e^{-2u}) and 1 / cosh(u)^2), 1 + erf(z) as erfc(-z)."""
    if approximate == "tanh":
        u = SQRT_2_OVER_PI * (x + 0.044715 * x**3)
        with np.errstate(over="ignore"):  # exp and cosh overflow to inf for |x| = 30: exact limits
            one_plus_t = 2 / (1 + np.exp(-2 * u))
            sech2 = 1 / np.cosh(u) ** 2
        y = 0.5 * x * one_plus_t
        dy = 0.5 * one_plus_t + 0.5 * x * sech2 * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x**2)
        return y, dy
    cdf = 0.5 * erfc(-x / math.sqrt(2))
    pdf = np.exp(-0.5 * x**2) / math.sqrt(2 * math.pi)
    return x * cdf, cdf + x * pdf


def silu_ref(x):
    s = 1 / (1 + np.exp(-x))
    return x * s, s * (1 + x * (1 - s))


SHAPES = [(), (1,), (7,), (73, 74), (0, 3), (2, 3, 5)]


def inputs(rng, shape, dtype):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    if x.size >= 4:
        x.flat[:4] = [-30, 30, 1e-6, -1e-6]  # saturated and tiny arguments
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu(kernels, rng, dtype, shape, approximate):
    x = inputs(rng, shape, dtype)
    g = rng.standard_normal(shape).astype(dtype)
    out, grad_x = kernels.empty(shape, dtype), kernels.empty(shape, dtype)
    kernels.C.gelu_forward(kernels.asarray(x), out, approximate)
    kernels.C.gelu_backward(kernels.asarray(g), kernels.asarray(x), grad_x, approximate)
    y, dy = gelu_ref(x.astype(np.float64), approximate)
    # gelu(x) = x - (small tail) for large x: the error is relative to |x|, not to gelu(x)
    assert_close(kernels.numpy(out), y, dtype, scale=float(np.abs(x).max(initial=0)))
    assert_close(kernels.numpy(grad_x), g * dy, dtype, scale=float(np.abs(g).max(initial=0)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_silu(kernels, rng, dtype, shape):
    x = inputs(rng, shape, dtype)
    g = rng.standard_normal(shape).astype(dtype)
    out, grad_x = kernels.empty(shape, dtype), kernels.empty(shape, dtype)
    kernels.C.silu_forward(kernels.asarray(x), out)
    kernels.C.silu_backward(kernels.asarray(g), kernels.asarray(x), grad_x)
    y, dy = silu_ref(x.astype(np.float64))
    assert_close(kernels.numpy(out), y, dtype, scale=float(np.abs(x).max(initial=0)))
    assert_close(kernels.numpy(grad_x), g * dy, dtype, scale=float(np.abs(g).max(initial=0)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES + [(100003,)])  # the last runs in parallel chunks
def test_relu(kernels, rng, dtype, shape):
    x = inputs(rng, shape, dtype)
    if x.size >= 6:
        x.flat[4:6] = [0.0, np.nan]
    g = rng.standard_normal(shape).astype(dtype)
    if g.size >= 2:
        g.flat[:2] = [np.inf, -np.inf]  # at x = -30 (clipped: 0, not inf * 0) and x = 30
    out, grad_x = kernels.empty(shape, dtype), kernels.empty(shape, dtype)
    kernels.C.relu_forward(kernels.asarray(x), out)
    kernels.C.relu_backward(kernels.asarray(g), out, grad_x)
    # exact: max(x, 0) with NaN kept; the gradient passes where the result is not <= 0
    # (PyTorch's threshold_backward on the result: NaN passes, 0 does not)
    expected_out = np.where(np.isnan(x), x, np.maximum(x, 0))
    np.testing.assert_array_equal(kernels.numpy(out), expected_out)
    np.testing.assert_array_equal(kernels.numpy(grad_x), np.where(expected_out <= 0, 0, g))


def test_gelu_exact_float32_accuracy_everywhere(kernels):
    """float32 exact GELU evaluates Phi from a fitted erfc (csrc/cpu/elementwise.cpp): check it
    on a dense grid over the whole range where Phi is a normal float, relative to each value."""
    x = np.linspace(-13, 13, 400001).astype(np.float32)
    out, grad = kernels.empty(x.shape, np.float32), kernels.empty(x.shape, np.float32)
    kernels.C.gelu_forward(kernels.asarray(x), out, "none")
    kernels.C.gelu_backward(kernels.asarray(np.ones_like(x)), kernels.asarray(x), grad, "none")
    y, dy = gelu_ref(x.astype(np.float64), "none")
    eps = float(np.finfo(np.float32).eps)
    np.testing.assert_allclose(kernels.numpy(out), y, rtol=16 * eps, atol=1e-37)
    # Phi(x) + x phi(x) cancels near x = -0.75: its error is relative to its O(1) terms
    np.testing.assert_allclose(kernels.numpy(grad), dy, rtol=16 * eps, atol=16 * eps)


def test_in_place(kernels, rng):
    x = rng.standard_normal(100).astype(np.float32)
    d = kernels.asarray(x.copy())
    kernels.C.silu_forward(d, d)
    assert_close(kernels.numpy(d), silu_ref(x.astype(np.float64))[0], np.float32, scale=4)
    r = kernels.asarray(x.copy())
    kernels.C.relu_forward(r, r)
    np.testing.assert_array_equal(kernels.numpy(r), np.maximum(x, 0))


@pytest.mark.parametrize("fn", ["gelu_none", "gelu_tanh", "silu"])
def test_finite_differences(kernels, rng, fn):
    x0, proj = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    name, _, approximate = fn.partition("_")
    extra = (approximate,) if approximate else ()

    def f(a):
        out = kernels.empty(a[0].shape, np.float64)
        getattr(kernels.C, f"{name}_forward")(kernels.asarray(a[0]), out, *extra)
        return float(np.sum(kernels.numpy(out) * proj))

    grad = kernels.empty(x0.shape, np.float64)
    getattr(kernels.C, f"{name}_backward")(kernels.asarray(proj), kernels.asarray(x0), grad, *extra)
    check_gradients(f, [x0], [kernels.numpy(grad)], rng)


def test_elementwise_argument_errors(kernels):
    x = kernels.asarray(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="'approximate' must be 'none' or 'tanh'"):
        kernels.C.gelu_forward(x, kernels.empty((2, 3), np.float32), "erf")
    with pytest.raises(ValueError, match="'out' must have shape"):
        kernels.C.silu_forward(x, kernels.empty((3, 2), np.float32))
    with pytest.raises(TypeError, match="'grad_out' must have the same dtype"):
        kernels.C.silu_backward(kernels.asarray(np.zeros((2, 3))), x,
                                kernels.empty((2, 3), np.float32))
    with pytest.raises(ValueError, match="'x' must be C-contiguous"):
        kernels.C.gelu_forward(kernels.asarray(np.zeros((3, 2), np.float32)).T,
                               kernels.empty((2, 3), np.float32))
    with pytest.raises(TypeError, match="'x' must be float32 or float64"):
        kernels.C.silu_forward(kernels.asarray(np.zeros(3, np.int32)),
                               kernels.empty((3,), np.float32))
    with pytest.raises(ValueError, match="'grad_out' must have shape"):
        kernels.C.relu_backward(kernels.asarray(np.zeros((3, 2), np.float32)), x,
                                kernels.empty((2, 3), np.float32))
    with pytest.raises(TypeError, match="'out' must be float32 or float64"):
        kernels.C.relu_backward(kernels.asarray(np.zeros(3, np.float32)),
                                kernels.asarray(np.zeros(3, np.int64)), kernels.empty((3,), np.float32))
