"""nn.utils: gradient clipping and parameter/vector conversion against NumPy."""
import math

import ember
import numpy as np
import pytest
from ember import nn
from ember.nn.utils import (
    clip_grad_norm_,
    clip_grad_value_,
    get_total_norm,
    parameters_to_vector,
    vector_to_parameters,
)
from helpers import DEVICE as _DEVICE
from helpers import each_device_fixture, host, tensor

device = each_device_fixture()  # every test runs once per device; _DEVICE[0] is the running one


def with_grads(*grads):
    """float64 Parameters (zeros) on the running test's device, holding ``grads`` as their gradients."""
    params = []
    for g in grads:
        p = nn.Parameter(ember.zeros(*np.shape(g), dtype=ember.float64, device=_DEVICE[0]))
        p.grad = tensor(np.asarray(g, dtype=np.float64), _DEVICE[0])
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf])
def test_clip_grad_norm(norm_type, device):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = with_grads(*grads) + [nn.Parameter(ember.zeros(2, device=device))]  # one without a gradient
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.abs(flat).max() if norm_type == math.inf else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    out = clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    assert out.item() == pytest.approx(total, rel=1e-12)
    coef = min(1.0, 0.5 / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(host(p.grad), g * coef, rtol=1e-12)
    small = with_grads([0.1, 0.2])
    clip_grad_norm_(small, 10.0)  # below the limit: unchanged
    np.testing.assert_allclose(host(small[0].grad), [0.1, 0.2])
    assert clip_grad_norm_([nn.Parameter(ember.zeros(2, device=device))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite_and_single_tensor(device):
    p = with_grads([np.inf, 1.0])[0]
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    q = with_grads([3.0, 4.0])[0]
    assert clip_grad_norm_(q, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(host(q.grad), [0.6, 0.8], rtol=1e-6)
    parts = [ember.tensor([3.0], device=device), ember.tensor([4.0], device=device)]
    assert get_total_norm(parts).item() == pytest.approx(5.0)


def test_clip_grad_value():
    params = with_grads([[-3.0, 0.5], [2.0, -0.1]])
    clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(host(params[0].grad), [[-1.0, 0.5], [1.0, -0.1]])


def test_clip_in_a_training_step(device):
    model = nn.Linear(3, 2).to(device)
    model(ember.randn(8, 3, device=device) * 100).pow(2).sum().backward()
    before = get_total_norm([p.grad for p in model.parameters()]).item()
    returned = clip_grad_norm_(model.parameters(), 1.0)
    assert returned.item() == pytest.approx(before, rel=1e-5)
    assert get_total_norm([p.grad for p in model.parameters()]).item() == pytest.approx(1.0, rel=1e-4)


def test_parameters_to_vector_and_back(device):
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)).to(device)
    vec = parameters_to_vector(model.parameters())
    expected = np.concatenate([host(p).ravel() for p in model.parameters()])
    np.testing.assert_array_equal(host(vec), expected)
    assert vec.requires_grad  # differentiable
    new = ember.arange(float(vec.numel()), device=device)
    vector_to_parameters(new, model.parameters())
    assert host(model[0].weight).tolist() == [[0, 1, 2], [3, 4, 5]]
    assert host(model[1].bias).tolist() == [10]
    assert isinstance(model[0].weight, nn.Parameter)
    with pytest.raises(TypeError, match=r"expected torch.Tensor, but got: list"):
        vector_to_parameters([1.0], model.parameters())
