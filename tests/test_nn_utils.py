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


def with_grads(*grads):
    params = []
    for g in grads:
        p = nn.Parameter(ember.zeros(*np.shape(g), dtype=ember.float64))
        p.grad = ember.tensor(np.asarray(g, dtype=np.float64))
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [2.0, 1, 3.5, math.inf])
def test_clip_grad_norm(norm_type):
    rng = np.random.default_rng(0)
    grads = [rng.standard_normal((3, 4)), rng.standard_normal(5)]
    params = with_grads(*grads) + [nn.Parameter(ember.zeros(2))]  # one without a gradient
    flat = np.concatenate([g.ravel() for g in grads])
    total = np.abs(flat).max() if norm_type == math.inf else (np.abs(flat) ** norm_type).sum() ** (1 / norm_type)
    out = clip_grad_norm_(params, max_norm=0.5, norm_type=norm_type)
    assert out.item() == pytest.approx(total, rel=1e-12)
    coef = min(1.0, 0.5 / (total + 1e-6))
    for p, g in zip(params, grads):
        np.testing.assert_allclose(p.grad.numpy(), g * coef, rtol=1e-12)
    small = with_grads([0.1, 0.2])
    clip_grad_norm_(small, 10.0)  # below the limit: unchanged
    np.testing.assert_allclose(small[0].grad.numpy(), [0.1, 0.2])
    assert clip_grad_norm_([nn.Parameter(ember.zeros(2))], 1.0).item() == 0.0


def test_clip_grad_norm_nonfinite_and_single_tensor():
    p = with_grads([np.inf, 1.0])[0]
    with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped"):
        clip_grad_norm_(p, 1.0, error_if_nonfinite=True)
    q = with_grads([3.0, 4.0])[0]
    assert clip_grad_norm_(q, 1.0).item() == pytest.approx(5.0)
    np.testing.assert_allclose(q.grad.numpy(), [0.6, 0.8], rtol=1e-6)
    assert get_total_norm([ember.tensor([3.0]), ember.tensor([4.0])]).item() == pytest.approx(5.0)


def test_clip_grad_value():
    params = with_grads([[-3.0, 0.5], [2.0, -0.1]])
    clip_grad_value_(params, 1.0)
    np.testing.assert_array_equal(params[0].grad.numpy(), [[-1.0, 0.5], [1.0, -0.1]])


def test_clip_in_a_training_step():
    model = nn.Linear(3, 2)
    model(ember.randn(8, 3) * 100).pow(2).sum().backward()
    before = get_total_norm([p.grad for p in model.parameters()]).item()
    returned = clip_grad_norm_(model.parameters(), 1.0)
    assert returned.item() == pytest.approx(before, rel=1e-5)
    assert get_total_norm([p.grad for p in model.parameters()]).item() == pytest.approx(1.0, rel=1e-4)


def test_parameters_to_vector_and_back():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    vec = parameters_to_vector(model.parameters())
    expected = np.concatenate([p.detach().numpy().ravel() for p in model.parameters()])
    np.testing.assert_array_equal(vec.detach().numpy(), expected)
    assert vec.requires_grad  # differentiable
    new = ember.arange(float(vec.numel()))
    vector_to_parameters(new, model.parameters())
    assert model[0].weight.detach().numpy().tolist() == [[0, 1, 2], [3, 4, 5]]
    assert model[1].bias.detach().numpy().tolist() == [10]
    assert isinstance(model[0].weight, nn.Parameter)
    with pytest.raises(TypeError, match=r"expected torch.Tensor, but got: list"):
        vector_to_parameters([1.0], model.parameters())
