"""``optim.Adam`` and ``optim.AdamW`` (decoupled weight decay), on the fused ``adam_step`` kernel."""
from __future__ import annotations

from .optimizer import _fused_update, _increment_step, _init_state, _ParamwiseOptimizer, _zeros_like


class Adam(_ParamwiseOptimizer):
    r"""PyTorch's Adam. With ``g = grad`` (``-grad`` when maximizing) at step ``t``:

    .. code-block:: text

        g = g + weight_decay * p                      (Adam: L2 penalty in the gradient)
        p = p * (1 - lr * weight_decay)               (AdamW / decoupled_weight_decay)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        v_max = max(v_max, v)                         (amsgrad; used in place of v below)
        p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    State per parameter: ``step``, ``exp_avg``, ``exp_avg_sq``, ``max_exp_avg_sq`` (amsgrad).
    """

    _checked = ("lr", "eps", "betas", "weight_decay")

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None,
                 decoupled_weight_decay: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "maximize": maximize, "foreach": foreach,
                    "capturable": capturable, "differentiable": differentiable, "fused": fused,
                    "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)

    def _update(self, p, group):
        beta1, beta2 = (float(b) for b in group["betas"])
        amsgrad = bool(group["amsgrad"])
        state = _init_state(self.state[p], p, "exp_avg", "exp_avg_sq")
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = _zeros_like(p)
        step = _increment_step(state)
        _fused_update("adam_step", p, [state["exp_avg"], state["exp_avg_sq"],
                                       state["max_exp_avg_sq"] if amsgrad else None],
                      step=step, lr=float(group["lr"]), beta1=beta1, beta2=beta2,
                      eps=float(group["eps"]), weight_decay=float(group["weight_decay"]),
                      amsgrad=amsgrad, maximize=bool(group["maximize"]),
                      decoupled_weight_decay=bool(group["decoupled_weight_decay"]))


class AdamW(Adam):
    """Adam with decoupled weight decay (``p *= 1 - lr * weight_decay`` before the Adam update)
    and PyTorch's default ``weight_decay=1e-2``."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach: bool | None = None, capturable: bool = False,
                 differentiable: bool = False, fused: bool | None = None) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable, differentiable=differentiable,
                         fused=fused, decoupled_weight_decay=True)
