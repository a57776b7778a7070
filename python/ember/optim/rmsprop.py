"""``optim.RMSprop`` (plain, centered, with momentum), on the fused ``rmsprop_step`` kernel."""
from __future__ import annotations

from .optimizer import (
    Optimizer,
    _check_differentiable,
    _check_options,
    _evaluate_closure,
    _fused_update,
    _increment_step,
    _init_state,
    _params_with_grad,
    _zeros_like,
)


class RMSprop(Optimizer):
    r"""PyTorch's RMSprop. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing):

    .. code-block:: text

        v = alpha * v + (1 - alpha) * g^2
        centered:  a = alpha * a + (1 - alpha) * g;  d = sqrt(v - a^2) + eps
        else:      d = sqrt(v) + eps
        momentum > 0:  b = momentum * b + g / d;  p = p - lr * b
        else:          p = p - lr * g / d

    State per parameter: ``step``, ``square_avg``, ``momentum_buffer`` (momentum > 0),
    ``grad_avg`` (centered).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        _check_options(lr=lr, eps=eps, weight_decay=weight_decay, momentum=momentum)
        if not alpha >= 0.0:
            raise ValueError(f"Invalid alpha value: {alpha}")
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def step(self, closure=None):
        """One RMSprop update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            momentum, centered = float(group["momentum"]), bool(group["centered"])
            for p in _params_with_grad(group):
                state = _init_state(self.state[p], p, "square_avg")
                if momentum > 0 and "momentum_buffer" not in state:
                    state["momentum_buffer"] = _zeros_like(p)
                if centered and "grad_avg" not in state:
                    state["grad_avg"] = _zeros_like(p)
                _increment_step(state)
                _fused_update("rmsprop_step", p, [state["square_avg"],
                                                  state["grad_avg"] if centered else None,
                                                  state["momentum_buffer"] if momentum > 0 else None],
                              lr=float(group["lr"]), alpha=float(group["alpha"]),
                              eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                              momentum=momentum, centered=centered, maximize=bool(group["maximize"]))
        return loss
