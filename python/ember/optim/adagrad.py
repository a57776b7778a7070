"""``optim.Adagrad`` (with lr_decay and initial_accumulator_value), on the fused ``adagrad_step``
kernel."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .optimizer import (
    Optimizer,
    _check_differentiable,
    _check_options,
    _evaluate_closure,
    _fused_update,
    _increment_step,
    _params_with_grad,
    _scalar_tensor,
)


class Adagrad(Optimizer):
    r"""PyTorch's Adagrad. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing) at step t:

    .. code-block:: text

        s = s + g^2                                   (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State per parameter (created with the optimizer, as PyTorch): ``step``, ``sum``.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        _check_options(lr=lr, eps=eps, weight_decay=weight_decay)
        if not lr_decay >= 0.0:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not initial_accumulator_value >= 0.0:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        _check_differentiable(differentiable)
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p, group)

    def _init_state(self, p: Tensor, group: dict) -> dict:
        state = self.state[p]
        if "sum" not in state:
            state["step"] = _scalar_tensor(0.0)
            xp = backend.xp_of(p._data)
            state["sum"] = Tensor._make(xp.full_like(p._data, group["initial_accumulator_value"]))
        return state

    def step(self, closure=None):
        """One Adagrad update of every parameter that has a gradient; returns ``closure()``'s loss."""
        loss = _evaluate_closure(closure)
        for group in self.param_groups:
            for p in _params_with_grad(group):
                state = self._init_state(p, group)
                step = _increment_step(state)
                _fused_update("adagrad_step", p, [state["sum"]], step=step, lr=float(group["lr"]),
                              lr_decay=float(group["lr_decay"]),
                              weight_decay=float(group["weight_decay"]), eps=float(group["eps"]),
                              maximize=bool(group["maximize"]))
        return loss
