"""``optim.SGD``: stochastic gradient descent with momentum, dampening, Nesterov momentum, L2
weight decay and ``maximize``, on the fused ``sgd_step`` kernel."""
from __future__ import annotations

from .optimizer import _fused_update, _ParamwiseOptimizer, _zeros_like


class SGD(_ParamwiseOptimizer):
    r"""PyTorch's SGD. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing):

    .. code-block:: text

        b = g                                   on the first step
        b = momentum * b + (1 - dampening) * g  afterwards          (only if momentum != 0)
        g = g + momentum * b if nesterov else b
        p = p - lr * g

    State per parameter: ``momentum_buffer`` (when momentum != 0).
    """

    _checked = ("lr", "momentum", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False,
                 fused: bool | None = None) -> None:
        defaults = {"lr": lr, "momentum": momentum, "dampening": dampening,
                    "weight_decay": weight_decay, "nesterov": nesterov, "maximize": maximize,
                    "foreach": foreach, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)

    def _check(self, defaults):
        super()._check(defaults)
        if defaults["nesterov"] and (defaults["momentum"] <= 0 or defaults["dampening"] != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")

    def _update(self, p, group):
        momentum = float(group["momentum"])
        buf, first_step = None, False
        if momentum != 0:
            state = self.state[p]  # only with momentum, as PyTorch: no state otherwise
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = _zeros_like(p)
                first_step = True
        _fused_update("sgd_step", p, [buf], lr=float(group["lr"]), momentum=momentum,
                      dampening=float(group["dampening"]), weight_decay=float(group["weight_decay"]),
                      nesterov=bool(group["nesterov"]), maximize=bool(group["maximize"]),
                      first_step=first_step)
