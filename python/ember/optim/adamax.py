"""``optim.Adamax`` (Adam with the infinity norm), written on NumPy/CuPy arrays (no fused kernel)."""
from __future__ import annotations

from .. import backend
from .optimizer import (
    Optimizer,
    _check_differentiable,
    _check_options,
    _evaluate_closure,
    _grad_of,
    _increment_step,
    _init_state,
    _mark_updated,
    _params_with_grad,
)


class Adamax(Optimizer):
    r"""PyTorch's Adamax. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing) at step t:

    .. code-block:: text

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        _check_options(lr=lr, eps=eps, weight_decay=weight_decay, betas=betas)
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adamax update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, eps, weight_decay = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
            beta1, beta2 = (float(b) for b in group["betas"])
            for p in _params_with_grad(group):
                state = _init_state(self.state[p], p, "exp_avg", "exp_inf")
                step = _increment_step(state)
                xp = backend.xp_of(p._data)
                g = _grad_of(p, group["maximize"], weight_decay)
                exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
                exp_avg *= beta1
                exp_avg += (1 - beta1) * g
                exp_inf *= beta2
                xp.maximum(exp_inf, xp.abs(g) + eps, out=exp_inf)
                p._data -= lr / (1 - beta1 ** step) * exp_avg / exp_inf
                _mark_updated(p)
        return loss
