"""``optim.Adadelta``, written on NumPy/CuPy arrays (no fused kernel)."""
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


class Adadelta(Optimizer):
    r"""PyTorch's Adadelta. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing):

    .. code-block:: text

        v = rho * v + (1 - rho) * g^2
        delta = sqrt(u + eps) / sqrt(v + eps) * g
        u = rho * u + (1 - rho) * delta^2
        p = p - lr * delta

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *,
                 capturable: bool = False, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_options(lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay,
                    "maximize": maximize, "capturable": capturable, "foreach": foreach,
                    "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One Adadelta update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            lr, rho, eps = float(group["lr"]), float(group["rho"]), float(group["eps"])
            weight_decay = float(group["weight_decay"])
            for p in _params_with_grad(group):
                state = _init_state(self.state[p], p, "square_avg", "acc_delta")
                _increment_step(state)
                xp = backend.xp_of(p._data)
                g = _grad_of(p, group["maximize"], weight_decay)
                square_avg, acc_delta = state["square_avg"]._data, state["acc_delta"]._data
                square_avg *= rho
                square_avg += (1 - rho) * g * g
                delta = xp.sqrt(acc_delta + eps) / xp.sqrt(square_avg + eps) * g
                acc_delta *= rho
                acc_delta += (1 - rho) * delta * delta
                p._data -= lr * delta
                _mark_updated(p)
        return loss
