"""``optim.Adagrad`` (with lr_decay and initial_accumulator_value), on the fused ``adagrad_step``
kernel."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from .optimizer import _fused_update, _increment_step, _ParamwiseOptimizer, _scalar_tensor


class Adagrad(_ParamwiseOptimizer):
    r"""PyTorch's Adagrad. With ``g = grad + weight_decay * p`` (``-grad`` when maximizing) at step t:

    .. code-block:: text

        s = s + g^2                                   (s starts at initial_accumulator_value)
        p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)

    State per parameter (created with the optimizer, as PyTorch): ``step``, ``sum``.
    """

    _checked = ("lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps")

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10,
                 foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        defaults = {"lr": lr, "lr_decay": lr_decay, "eps": eps, "weight_decay": weight_decay,
                    "initial_accumulator_value": initial_accumulator_value, "foreach": foreach,
                    "maximize": maximize, "differentiable": differentiable, "fused": fused}
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                _init_sum(self.state[p], p, group)

    def _update(self, p, group):
        state = _init_sum(self.state[p], p, group)
        step = _increment_step(state)
        _fused_update("adagrad_step", p, [state["sum"]], step=step, lr=float(group["lr"]),
                      lr_decay=float(group["lr_decay"]), weight_decay=float(group["weight_decay"]),
                      eps=float(group["eps"]), maximize=bool(group["maximize"]))


def _init_sum(state: dict, p: Tensor, group: dict) -> dict:
    """Adagrad's state of ``p``: ``step`` at 0 and ``sum`` at ``initial_accumulator_value``."""
    if "sum" not in state:
        state["step"] = _scalar_tensor(0.0)
        xp = backend.xp_of(p._data)
        state["sum"] = Tensor._make(xp.full_like(p._data, group["initial_accumulator_value"]))
    return state
