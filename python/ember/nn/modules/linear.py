"""``Identity``, ``Linear``, ``Bilinear``."""
from __future__ import annotations

import math

from ... import ops
from .. import functional as F
from .. import init
from ..parameter import Parameter
from .module import Module


def _empty_param(*shape, device=None, dtype=None) -> Parameter:
    return Parameter(ops.empty(*shape, device=device, dtype=dtype))


def _optional_params(module: Module, names: tuple[str, ...], shape: tuple, present: bool, device,
                     dtype) -> None:
    """Give ``module`` an uninitialised Parameter of ``shape`` under each of ``names``, or register
    them as ``None`` when not ``present`` (a layer built with ``bias=False`` or ``affine=False``)."""
    for name in names:
        if present:
            setattr(module, name, _empty_param(*shape, device=device, dtype=dtype))
        else:
            module.register_parameter(name, None)


def _kaiming_reset(weight: Parameter, bias: Parameter | None) -> None:
    """PyTorch's default init of Linear and convolution layers: ``kaiming_uniform_(a=sqrt(5))`` for
    the weight, ``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for the bias."""
    init.kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = init._calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        init.uniform_(bias, -bound, bound)


class Identity(Module):
    """Returns its input; accepts (and ignores) any constructor arguments."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """``y = x W^T + b``: input (*, in_features) -> output (*, out_features).

    ``weight`` (out_features, in_features) ~ U(-1/sqrt(in_features), 1/sqrt(in_features)) (PyTorch's
    kaiming_uniform_ with a = sqrt(5)); ``bias`` (out_features) ~ the same range."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None) -> None:
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = _empty_param(out_features, in_features, device=device, dtype=dtype)
        _optional_params(self, ("bias",), (out_features,), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _kaiming_reset(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class NonDynamicallyQuantizableLinear(Linear):
    """``MultiheadAttention.out_proj``'s class in PyTorch (a plain Linear; kept for identical reprs)."""


class Bilinear(Module):
    """``y_k = x1^T W_k x2 + b_k``: inputs (*, in1_features), (*, in2_features) -> (*, out_features).
    ``weight`` (out, in1, in2) and ``bias`` (out) ~ U(-1/sqrt(in1), 1/sqrt(in1))."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=None) -> None:
        super().__init__()
        self.in1_features = in1_features
        self.in2_features = in2_features
        self.out_features = out_features
        self.weight = _empty_param(out_features, in1_features, in2_features, device=device, dtype=dtype)
        _optional_params(self, ("bias",), (out_features,), bias, device, dtype)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return F.bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
