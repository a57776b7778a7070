"""``optim.Adamax`` (Adam with the infinity norm), written on NumPy/CuPy arrays (no fused kernel)."""
from __future__ import annotations

from .. import backend
from .optimizer import _grad_of, _increment_step, _init_state, _mark_updated, _ParamwiseOptimizer


class Adamax(_ParamwiseOptimizer):
    r"""PyTorch's Adamax. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing) at step t:

    .. code-block:: text

        m = beta1 * m + (1 - beta1) * g
        u = max(beta2 * u, |g| + eps)
        p = p - lr / (1 - beta1^t) * m / u

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    _checked = ("lr", "eps", "betas", "weight_decay")

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable,
                    "capturable": capturable}
        super().__init__(params, defaults)

    def _update(self, p, group):
        beta1, beta2 = (float(b) for b in group["betas"])
        state = _init_state(self.state[p], p, "exp_avg", "exp_inf")
        step = _increment_step(state)
        xp = backend.xp_of(p._data)
        g = _grad_of(p, group["maximize"], float(group["weight_decay"]))
        exp_avg, exp_inf = state["exp_avg"]._data, state["exp_inf"]._data
        exp_avg *= beta1
        exp_avg += (1 - beta1) * g
        exp_inf *= beta2
        xp.maximum(exp_inf, xp.abs(g) + float(group["eps"]), out=exp_inf)
        p._data -= float(group["lr"]) / (1 - beta1 ** step) * exp_avg / exp_inf
        _mark_updated(p)
