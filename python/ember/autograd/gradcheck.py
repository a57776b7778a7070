"""Numerical gradient checks (float64 central differences), as ``torch.autograd.gradcheck``.

Rather than building the full Jacobian, the check compares directional derivatives along a few
random directions ``v`` (and random output weights ``u``): ``u·J·v`` by autograd against
``(u·f(x+hv) - u·f(x-hv)) / 2h``. Cheap for large inputs and still fails on any wrong gradient.
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..tensor import Tensor


# PyTorch's other options, by what they mean here: accepted at any value where Ember's check already
# behaves that way, accepted only at False where they ask for a check Ember does not make.
_NO_OP_OPTIONS = {"fast_mode", "nondet_tol", "check_grad_dtypes", "masked",
                  "gen_non_contig_grad_outputs", "check_rev_over_rev"}
_UNSUPPORTED_CHECKS = {"check_undefined_grad", "check_batched_grad", "check_batched_forward_grad",
                       "check_forward_ad", "check_fwd_over_rev"}


def _check_options(name: str, options: dict) -> None:
    # fast_mode: Ember always checks random directional derivatives (PyTorch's fast mode); its
    # backward is deterministic, so nondet_tol loosens nothing; dtypes are checked as they come.
    for key, value in options.items():
        if key in _NO_OP_OPTIONS or (key == "check_backward_ad" and value):
            continue
        if key in _UNSUPPORTED_CHECKS:
            if value:
                raise NotImplementedError(f"{name}(): {key}=True is not supported by Ember")
            continue
        raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")


def _inputs(inputs):
    return inputs if isinstance(inputs, tuple) else (inputs,)


def _flat_outputs(out):
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor) and o.is_floating_point()]


def gradcheck(func, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, n_directions: int = 3, seed: int = 0,
              **options) -> bool:
    _check_options("gradcheck", options)
    from .. import ops
    from . import grad as autograd_grad

    inputs = _inputs(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    for i in diff:
        if inputs[i].dtype.name != "float64":
            import warnings

            warnings.warn(f"gradcheck: input {i} is {inputs[i].dtype.name}, not float64; the check is "
                          "unreliable in low precision", stacklevel=2)
    rng = np.random.default_rng(seed)
    outs = _flat_outputs(func(*inputs))
    weights = [ops.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device) for o in outs]

    def weighted(values):
        return sum(float((backend.to_host(o.detach()._data).astype(np.float64) *
                          backend.to_host(w._data)).sum()) for o, w in zip(values, weights))

    # analytic: gradient of sum(u * f) w.r.t. every differentiable input
    total = None
    for o, w in zip(outs, weights):
        term = (o * w).sum()
        total = term if total is None else total + term
    if total is None or not diff:
        return True
    # an output that does not depend on the inputs (the first gradient of a linear op, under
    # gradgradcheck) has a zero Jacobian, as in PyTorch
    analytic = (autograd_grad(total, [inputs[i] for i in diff], allow_unused=True)
                if total.requires_grad else [None] * len(diff))
    for _ in range(n_directions):
        dirs = {i: rng.standard_normal(tuple(inputs[i].shape)) for i in diff}
        expected = sum(float((backend.to_host(g._data) * dirs[i]).sum()) if g is not None else 0.0
                       for i, g in zip(diff, analytic))

        def shifted(sign, dirs=dirs):
            # graph recording stays on: ``func`` may itself differentiate (gradgradcheck)
            moved = list(inputs)
            for i in diff:
                step = backend.to_device_array(dirs[i], inputs[i].device).astype(inputs[i]._data.dtype)
                moved[i] = Tensor._make(inputs[i]._data + sign * eps * step, requires_grad=True)
            return weighted(_flat_outputs(func(*moved)))

        numeric = (shifted(+1) - shifted(-1)) / (2 * eps)
        if not abs(numeric - expected) <= atol + rtol * abs(numeric):
            if raise_exception:
                raise RuntimeError(f"Jacobian mismatch: directional derivative by autograd {expected!r}, "
                                   f"numerical {numeric!r} (eps={eps}, atol={atol}, rtol={rtol})")
            return False
    return True


def gradgradcheck(func, inputs, grad_outputs=None, *, eps: float = 1e-6, atol: float = 1e-5,
                  rtol: float = 1e-3, raise_exception: bool = True, seed: int = 0,
                  **options) -> bool:
    _check_options("gradgradcheck", options)
    """Check second derivatives: gradcheck of the (create_graph) gradient function."""
    from .. import ops
    from . import grad as autograd_grad

    inputs = _inputs(inputs)
    rng = np.random.default_rng(seed + 1)
    outs = _flat_outputs(func(*inputs))
    weights = [ops.tensor(rng.standard_normal(tuple(o.shape)), dtype=o.dtype, device=o.device) for o in outs]
    diff = [t for t in inputs if getattr(t, "requires_grad", False)]

    def first_grad(*xs):
        ys = _flat_outputs(func(*xs))
        total = sum((y * w).sum() for y, w in zip(ys, weights))
        dx = [x for x in xs if getattr(x, "requires_grad", False)]
        gs = autograd_grad(total, dx, create_graph=True, allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(first_grad, inputs, eps=eps, atol=atol, rtol=rtol, raise_exception=raise_exception,
                     seed=seed) if diff else True
