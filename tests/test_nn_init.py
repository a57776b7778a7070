"""nn.init: gains and fans as PyTorch documents them, the distributions each initialiser draws
from (range, mean, variance), in-place filling of Parameters and reproducibility."""
import math

import ember
import numpy as np
import pytest
from ember import nn
from ember.nn import init
from helpers import DEVICE as _DEVICE
from helpers import each_device_fixture, host

device = each_device_fixture()  # every test runs once per device; _DEVICE[0] is the running one


def empty(*shape):
    """An uninitialised float32 tensor on the running test's device, for an initialiser to fill."""
    return ember.empty(*shape, device=_DEVICE[0])


def values(t):
    return host(t).ravel()


def test_calculate_gain():
    assert init.calculate_gain("linear") == 1 and init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert init.calculate_gain("leaky_relu") == pytest.approx(math.sqrt(2 / (1 + 0.01 ** 2)))
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(math.sqrt(2 / 1.04))
    assert init.calculate_gain("selu") == pytest.approx(0.75)
    with pytest.raises(ValueError, match="Unsupported nonlinearity gelu"):
        init.calculate_gain("gelu")
    with pytest.raises(ValueError, match="negative_slope True not a valid number"):
        init.calculate_gain("leaky_relu", True)


def test_fans():
    assert init._calculate_fan_in_and_fan_out(empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(empty(8, 4, 3, 2)) == (24, 48)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        init.xavier_uniform_(empty(3))
    with pytest.raises(ValueError, match="Mode fan_avg not supported"):
        init.kaiming_uniform_(empty(3, 3), mode="fan_avg")


@pytest.mark.parametrize("name,fill,low,high,var", [
    ("uniform", lambda t: init.uniform_(t, -2.0, 3.0), -2.0, 3.0, 25 / 12),
    ("xavier_uniform", lambda t: init.xavier_uniform_(t, gain=2.0), None, None, 4 * 2 / (200 + 100)),
    ("kaiming_uniform", lambda t: init.kaiming_uniform_(t, nonlinearity="relu"), None, None, 2 / 100),
    ("kaiming_uniform_fan_out", lambda t: init.kaiming_uniform_(t, a=math.sqrt(5), mode="fan_out"),
     None, None, 1 / 3 / 200),
])
def test_uniform_family(name, fill, low, high, var):
    p = nn.Parameter(empty(200, 100))  # a leaf that requires grad: filled under no_grad
    assert fill(p) is p and p.requires_grad
    v = values(p)
    bound = high if high is not None else math.sqrt(3 * var)
    lo = low if low is not None else -bound
    assert v.min() >= lo and v.max() <= bound
    assert v.min() < lo + 0.01 * (bound - lo) and v.max() > bound - 0.01 * (bound - lo)
    assert v.var() == pytest.approx(var, rel=0.03)


@pytest.mark.parametrize("fill,mean,std", [
    (lambda t: init.normal_(t, 1.5, 0.5), 1.5, 0.5),
    (lambda t: init.xavier_normal_(t), 0.0, math.sqrt(2 / 300)),
    (lambda t: init.kaiming_normal_(t, mode="fan_out", nonlinearity="relu"), 0.0, math.sqrt(2 / 200)),
    (lambda t: init.kaiming_normal_(t, a=0.5, nonlinearity="leaky_relu"), 0.0,
     math.sqrt(2 / 1.25) / math.sqrt(100)),
])
def test_normal_family(fill, mean, std):
    v = values(fill(empty(200, 100)))
    assert v.mean() == pytest.approx(mean, abs=4 * std / math.sqrt(v.size))
    assert v.std() == pytest.approx(std, rel=0.02)


def test_trunc_normal_constant_eye_dirac_zeros_ones():
    v = values(init.trunc_normal_(empty(100, 100), mean=0.5, std=1.0, a=-0.5, b=1.0))
    assert v.min() >= -0.5 and v.max() <= 1.0 and v.min() < -0.49 and v.max() > 0.99
    # mean of N(0.5, 1) truncated to [-0.5, 1]: mu + (phi(alpha) - phi(beta)) / Z
    phi = (lambda z: math.exp(-z * z / 2) / math.sqrt(2 * math.pi))
    cdf = (lambda z: 0.5 * (1 + math.erf(z / math.sqrt(2))))
    expected = 0.5 + (phi(-1.0) - phi(0.5)) / (cdf(0.5) - cdf(-1.0))
    assert v.mean() == pytest.approx(expected, abs=0.01)
    assert np.all(values(init.constant_(empty(3, 2), 0.3)) == np.float32(0.3))
    assert np.all(values(init.ones_(empty(4))) == 1)
    assert np.all(values(init.zeros_(ember.ones(4, device=_DEVICE[0]))) == 0)
    np.testing.assert_array_equal(host(init.eye_(empty(2, 3))), np.eye(2, 3))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(empty(2, 2, 2))
    w = init.dirac_(empty(4, 2, 3, 3), groups=2)
    x = ember.randn(1, 4, 5, 5, device=_DEVICE[0])
    # a grouped conv with Dirac weights copies its input channels
    np.testing.assert_allclose(host(ember.nn.functional.conv2d(x, w, padding=1, groups=2)), host(x), rtol=1e-6)


@pytest.mark.parametrize("shape", [(6, 4), (3, 8), (4, 2, 3)])
def test_orthogonal(shape):
    w = host(init.orthogonal_(empty(*shape), gain=2.0)).reshape(shape[0], -1)
    rows, cols = w.shape
    gram = w @ w.T if rows <= cols else w.T @ w
    np.testing.assert_allclose(gram, 4 * np.eye(min(rows, cols)), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions"):
        init.orthogonal_(empty(3))


def test_sparse_and_reproducibility():
    w = init.sparse_(empty(10, 6), sparsity=0.3)
    assert np.all((host(w) == 0).sum(0) == 3)
    ember.manual_seed(7)
    a = nn.Linear(20, 10).weight.detach().numpy().copy()
    ember.manual_seed(7)
    b = nn.Linear(20, 10).weight.detach().numpy()
    np.testing.assert_array_equal(a, b)
    g1, g2 = ember.Generator().manual_seed(3), ember.Generator().manual_seed(3)
    # (CPU generators draw for CPU tensors)
    np.testing.assert_array_equal(init.normal_(ember.empty(5), generator=g1).numpy(),
                                  init.normal_(ember.empty(5), generator=g2).numpy())
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op"):
        init.kaiming_uniform_(empty(0, 3))
    with pytest.warns(FutureWarning, match="deprecated in favor of nn.init.xavier_uniform_"):
        init.xavier_uniform(empty(2, 2))
