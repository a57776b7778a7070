"""``optim.Adadelta``, written on NumPy/CuPy arrays (no fused kernel)."""
from __future__ import annotations

from .. import backend
from .optimizer import _grad_of, _increment_step, _init_state, _mark_updated, _ParamwiseOptimizer


class Adadelta(_ParamwiseOptimizer):
    r"""PyTorch's Adadelta. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing):

    .. code-block:: text

        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).
    """

    _checked = ("lr", "rho", "eps", "weight_decay")

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, p, group):
        rho, eps = float(group["rho"]), float(group["eps"])
        state = _init_state(self.state[p], p, "square_avg", "acc_delta")
        _increment_step(state)
        xp = backend.xp_of(p._data)
        g = _grad_of(p, group["maximize"], float(group["weight_decay"]))
        square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
        square_avg *= rho
        square_avg += (1 - rho) * g * g
        delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
        acc_delta *= rho
        acc_delta += (1 - rho) * delta * delta
        p._data -= float(group["lr"]) * delta
        _mark_updated(p)
