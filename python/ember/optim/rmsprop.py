"""``optim.RMSprop`` (plain, centered, with momentum), on the fused ``rmsprop_step`` kernel."""
from __future__ import annotations

from .optimizer import _fused_update, _increment_step, _init_state, _ParamwiseOptimizer, _zeros_like


class RMSprop(_ParamwiseOptimizer):
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

    _checked = ("lr", "eps", "momentum", "weight_decay", "alpha")

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False) -> None:
        defaults = {"lr": lr, "momentum": momentum, "alpha": alpha, "eps": eps,
                    "centered": centered, "weight_decay": weight_decay, "capturable": capturable,
                    "foreach": foreach, "maximize": maximize, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, p, group):
        momentum, centered = float(group["momentum"]), bool(group["centered"])
        state = _init_state(self.state[p], p, "square_avg")
        if momentum > 0 and "momentum_buffer" not in state:
            state["momentum_buffer"] = _zeros_like(p)
        if centered and "grad_avg" not in state:
            state["grad_avg"] = _zeros_like(p)
        _increment_step(state)
        _fused_update("rmsprop_step", p, [state["square_avg"], state["grad_avg"] if centered else None,
                                          state["momentum_buffer"] if momentum > 0 else None],
                      lr=float(group["lr"]), alpha=float(group["alpha"]),
                      eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                      momentum=momentum, centered=centered, maximize=bool(group["maximize"]))
