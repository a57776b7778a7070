"""``optim.NAdam`` (Adam with Nesterov momentum and momentum decay), written on NumPy/CuPy arrays
(no fused kernel)."""
from __future__ import annotations

from .. import backend
from .optimizer import _grad_of, _increment_step, _init_state, _mark_updated, _ParamwiseOptimizer


class NAdam(_ParamwiseOptimizer):
    r"""PyTorch's NAdam. With ``g = grad`` (``-grad`` when maximizing) at step t and
    ``mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay))``:

    .. code-block:: text

        g = g + weight_decay * p        (or p = p * (1 - lr * weight_decay) when decoupled)
        P = P * mu_t                    (mu_product, a scalar tensor like PyTorch's)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g^2
        d = sqrt(v / (1 - beta2^t)) + eps
        p = p - lr * (1 - mu_t) / (1 - P) * g / d - lr * mu_{t+1} / (1 - P * mu_{t+1}) * m / d

    State per parameter: ``step``, ``mu_product``, ``exp_avg``, ``exp_avg_sq``.
    """

    _checked = ("lr", "eps", "betas", "weight_decay", "momentum_decay")

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "momentum_decay": momentum_decay,
                    "decoupled_weight_decay": decoupled_weight_decay, "maximize": maximize,
                    "foreach": foreach, "capturable": capturable, "differentiable": differentiable}
        super().__init__(params, defaults)

    def _update(self, p, group):
        lr, weight_decay = float(group["lr"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        momentum_decay = float(group["momentum_decay"])
        state = _init_state(self.state[p], p, "exp_avg", "exp_avg_sq", mu_product=1.0)
        step = _increment_step(state)
        xp = backend.xp_of(p._data)
        decoupled = bool(group["decoupled_weight_decay"])
        g = _grad_of(p, group["maximize"], 0.0 if decoupled else weight_decay)
        if decoupled and weight_decay != 0:
            p._data *= 1 - lr * weight_decay
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * momentum_decay))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * momentum_decay))
        product = state["mu_product"]._data
        product *= mu  # in the scalar tensor's precision, as PyTorch
        mu_product = float(product)
        exp_avg, exp_avg_sq = state["exp_avg"]._data, state["exp_avg_sq"]._data
        exp_avg *= beta1
        exp_avg += (1 - beta1) * g
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * g * g
        denom = xp.sqrt(exp_avg_sq / (1 - beta2 ** step)) + float(group["eps"])
        p._data -= lr * (1 - mu) / (1 - mu_product) * g / denom
        p._data -= lr * mu_next / (1 - mu_product * mu_next) * exp_avg / denom
        _mark_updated(p)
