"""Helpers shared by the nn tests: gradient checks through a module (inputs AND parameters, in
float64) and uniform-initialisation checks."""
import ember
import numpy as np
from ember.autograd import gradcheck
from helpers import host


def check_module_grads(module, *inputs, eps=1e-6, rtol=1e-4, atol=1e-6, seed=0, output=lambda out: out):
    """gradcheck w.r.t. the inputs, then central differences along a random direction for every
    parameter (perturbed in place) against the autograd parameter gradients."""
    module.double()
    rng = np.random.default_rng(seed)
    ins = tuple(x.double().detach().requires_grad_(x.is_floating_point()) if x.is_floating_point() else x
                for x in inputs)
    assert gradcheck(lambda *xs: output(module(*xs)), ins, eps=eps, rtol=rtol, atol=atol)
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        return
    out = output(module(*ins))
    weight = rng.standard_normal(tuple(out.shape))

    def weighted():
        with ember.no_grad():
            return float((host(output(module(*ins))) * weight).sum())

    module.zero_grad()
    (out * ember.tensor(weight, dtype=out.dtype, device=out.device)).sum().backward()
    for p in params:
        direction = rng.standard_normal(tuple(p.shape))
        analytic = float((host(p.grad) * direction).sum()) if p.grad is not None else 0.0
        step = ember.tensor(eps * direction, dtype=p.dtype, device=p.device)._data  # on the parameter's device
        saved = p._data.copy()
        p._data += step
        plus = weighted()
        p._data[...] = saved - step
        minus = weighted()
        p._data[...] = saved
        numeric = (plus - minus) / (2 * eps)
        assert abs(numeric - analytic) <= atol + rtol * abs(numeric), (numeric, analytic)


def assert_uniform(t, bound, rel=0.02):
    """All values within [-bound, bound], filling the range (for tensors of a few thousand values)."""
    v = host(t).ravel()
    assert np.all(np.abs(v) <= bound * (1 + 1e-6))
    assert np.abs(v).max() > bound * 0.9
    assert abs(v.mean()) < bound * 0.1
    assert abs(v.var() / (bound ** 2 / 3) - 1) < 0.15 + rel
