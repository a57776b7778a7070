"""GELU and SiLU on the fused elementwise kernels (``gelu_*``, ``silu_*``).

A NumPy composition of these costs several passes over memory (and exact GELU needs erf, which
NumPy lacks), so the forward and first-order backward run one kernel each. Each op's
``composite`` is the formula in Tensor ops: the engine differentiates it when the backward itself
is recorded (``create_graph=True``), so gradients of any order work, and it is what the functions
run where the module was built without the elementwise kernels.
"""
from __future__ import annotations

import math

from .. import backend
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import cast_back, contiguous, float_inputs
from .index import inplace as _inplace  # silu's own argument is named inplace

__all__ = ["gelu", "silu"]

_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_TANH_COEF = 0.044715


def _gelu_composite(x: Tensor, approximate: str) -> Tensor:
    if approximate == "tanh":
        return 0.5 * x * (1 + (_SQRT_2_OVER_PI * (x + _TANH_COEF * x * x * x)).tanh())
    return 0.5 * x * (1 + (x * (1 / math.sqrt(2.0))).erf())


class _Gelu(Op):
    @staticmethod
    def forward(ctx, x, approximate):
        out = backend.xp_of(x).empty(x.shape, dtype=x.dtype)
        if x.size:
            backend.kernels_of(x).gelu_forward(contiguous(x), out, approximate)
        return out

    composite = staticmethod(_gelu_composite)

    @staticmethod
    def backward(ctx, g):
        x, approximate = ctx.inputs
        gx = backend.xp_of(x._data).empty(x.shape, dtype=x._data.dtype)
        if gx.size:
            backend.kernels_of(x._data).gelu_backward(contiguous(g._data), contiguous(x._data), gx,
                                                      approximate)
        return Tensor._make(gx), None


class _Silu(Op):
    @staticmethod
    def forward(ctx, x):
        out = backend.xp_of(x).empty(x.shape, dtype=x.dtype)
        if x.size:
            backend.kernels_of(x).silu_forward(contiguous(x), out)
        return out

    @staticmethod
    def composite(x):
        return x * x.sigmoid()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.inputs
        gx = backend.xp_of(x._data).empty(x.shape, dtype=x._data.dtype)
        if gx.size:
            backend.kernels_of(x._data).silu_backward(contiguous(g._data), contiguous(x._data), gx)
        return Tensor._make(gx)


def _has_kernel(x: Tensor, name: str) -> bool:
    return hasattr(backend.kernels_of(x._data), name)


def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x Phi(x) (Phi the standard normal CDF); approximate='tanh' uses
    0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). Output shaped like input."""
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    (x,), dtype = float_inputs("gelu", input)
    out = _Gelu.apply(x, approximate) if _has_kernel(x, "gelu_forward") else _Gelu.composite(x, approximate)
    return cast_back(out, dtype)


def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """SiLU (swish): x sigmoid(x). Output shaped like input (written into it with inplace)."""
    if inplace:
        return _inplace(input, silu)
    (x,), dtype = float_inputs("silu", input)
    out = _Silu.apply(x) if _has_kernel(x, "silu_forward") else _Silu.composite(x)
    return cast_back(out, dtype)


class _Pointwise(Op):
    """A pointwise function given as ``fwd(xp, x, *params) -> y`` and ``grad(x, *params) -> dy/dx``
    (the latter in tensor ops, so second derivatives work). One graph node per call."""

    @staticmethod
    def forward(ctx, x, fwd, grad, params):
        ctx.grad, ctx.params = grad, params
        return fwd(backend.xp_of(x), x, *params).astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return g * ctx.grad(ctx.inputs[0], *ctx.params), None, None, None


def pointwise(input: Tensor, fwd, grad, *params) -> Tensor:
    """``fwd(xp, x, *params)`` elementwise on a floating ``input`` as one op whose derivative is
    ``grad(x, *params)`` (Tensor ops): how nn.functional writes its activations."""
    if not input.is_floating_point():
        raise RuntimeError(f"expected a floating-point input, got {input.dtype}")
    return _Pointwise.apply(input, fwd, grad, params)
