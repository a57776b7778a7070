"""Elementwise ops. Each class holds its forward (on arrays) and backward (in Tensor ops, so
gradients of gradients work). Binary ops broadcast; their backward sums back with ``sum_to``."""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import backend
from .._dtype import from_numpy_dtype
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import contiguous
from ._util import (_TORCH_NAMES, arr_of, check_same_device, float_dtype, result_dtype, sum_to,
                    to_tensor, with_out, write_out)

# The public ops (``from .pointwise import *`` in ember.ops); helpers are imported by their module path.
__all__ = [
    "abs", "acos", "add", "addcdiv", "addcmul", "allclose", "asin", "atan", "atan2", "bitwise_and", "bitwise_not",
    "bitwise_or", "ceil", "clamp", "clamp_max", "clamp_min", "clip", "cos", "cosh", "div", "divide", "eq", "equal",
    "erf", "exp", "exp2", "expm1", "floor", "floor_divide", "fmax", "fmin", "fmod", "frac", "ge", "greater",
    "greater_equal", "gt", "isclose", "isfinite", "isinf", "isnan", "le", "lerp", "less", "less_equal", "log",
    "log1p", "log2", "log10", "logical_and", "logical_not", "logical_or", "logical_xor", "lt", "maximum", "minimum",
    "mul", "multiply", "ne", "neg", "not_equal", "positive", "pow", "reciprocal", "relu", "remainder", "round",
    "rsqrt", "sigmoid", "sign", "sin", "sinh", "sqrt", "square", "sub", "subtract", "tan", "tanh", "true_divide",
    "trunc", "where",
]


def _shape(a):
    return tuple(getattr(a, "shape", ()))


def _check_tensor(fn_name: str, v, arg: str = "input", pos: int = 1, scalar_ok: bool = False) -> None:
    """PyTorch's argument check: a Tensor, or a Python (or NumPy) number where the op has a Scalar
    overload; anything else (a list, an array) is a TypeError naming the argument."""
    if isinstance(v, Tensor) or (scalar_ok and isinstance(v, (numbers.Number, np.generic))):
        return
    raise TypeError(f"{fn_name}(): argument '{arg}' (position {pos}) must be Tensor, not {type(v).__name__}")


# ---- binary arithmetic -----------------------------------------------------------------------
class Add(Op):
    """a + alpha * b; Sub (a - alpha * b) flips ``_sign``."""

    needs_input_values = False
    _sign = 1

    @classmethod
    def forward(cls, ctx, a, b, alpha=1):
        ctx.shapes, ctx.alpha = (_shape(a), _shape(b)), alpha
        b = b if alpha == 1 else b * alpha
        return a + b if cls._sign > 0 else a - b

    @classmethod
    def backward(cls, ctx, g):
        ga = sum_to(g, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = g if ctx.alpha == 1 else g * ctx.alpha
            gb = sum_to(gb if cls._sign > 0 else -gb, ctx.shapes[1])
        return ga, gb


class Sub(Add):
    _sign = -1


class Mul(Op):
    @staticmethod
    def forward(ctx, a, b):
        return a * b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        ga = sum_to(g * b, _shape(a)) if ctx.needs_input_grad[0] else None
        gb = sum_to(g * a, _shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Div(Op):
    @staticmethod
    def forward(ctx, a, b):
        return a / b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        ga = sum_to(g / b, _shape(a)) if ctx.needs_input_grad[0] else None
        gb = sum_to(-g * a / (b * b), _shape(b)) if ctx.needs_input_grad[1] else None
        return ga, gb


class Pow(Op):
    @staticmethod
    def forward(ctx, a, b):
        return a ** b

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if isinstance(b, Tensor):
                ga = g * b * a ** (b - 1)
            else:
                ga = g * b * a ** (b - 1) if b != 0 else g * 0
            ga = sum_to(ga, _shape(a))
        if ctx.needs_input_grad[1]:
            a_t = a if isinstance(a, Tensor) else to_tensor(a, like=b, dtype=b._data.dtype)
            # d/db a^b = a^b log a, taken as 0 where a == 0 (the limit for b > 0), as PyTorch.
            safe_log = where(a_t == 0, 0.0, log(where(a_t == 0, 1.0, a_t)))
            gb = sum_to(g * ctx.output() * safe_log, _shape(b))
        return ga, gb


def _binary(op, a, b, *, float_result=False, scalars=(True, True), **attrs):
    """op on a and b promoted to their result dtype. ``scalars``: whether a Python number may stand
    for (input, other), as PyTorch's Scalar overloads allow."""
    name = op.__name__.lstrip("_").lower()
    _check_tensor(name, a, "input", 1, scalars[0])
    _check_tensor(name, b, "other", 2, scalars[1])
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if not a_is_tensor and not b_is_tensor:
        raise TypeError(f"{name}(): expected at least one Tensor argument")
    check_same_device(a, b)
    dt = float_dtype(a, b) if float_result else result_dtype(a, b)
    ref = (a if a_is_tensor else b)._data
    aa, bb = _operand(a, dt, ref), _operand(b, dt, ref)
    if a_is_tensor and b_is_tensor and aa.is_cuda != bb.is_cuda:
        # 0-d CPU tensors may meet CUDA tensors, as in PyTorch
        if aa.ndim == 0 and not aa.is_cuda:
            aa = aa.to(bb.device)
        elif bb.ndim == 0 and not bb.is_cuda:
            bb = bb.to(aa.device)
    try:
        return op.apply(aa, bb, **attrs)
    except ValueError as exc:  # NumPy's broadcasting error -> PyTorch's RuntimeError
        if "broadcast" not in str(exc):
            raise
        raise RuntimeError(f"{name}: shapes {list(_shape(aa))} and {list(_shape(bb))} are not "
                           "broadcastable") from None


def _operand(v, dt, ref):
    """A Tensor argument in dtype ``dt``, itself when it has that dtype (autograd needs its
    identity); any other argument as a raw value."""
    if isinstance(v, Tensor):
        return v if v._data.dtype == dt else v.to(_np_to_ember(dt))
    return arr_of(v, dt, ref)


def _np_to_ember(dt):
    return from_numpy_dtype(dt)


def add(input, other, *, alpha=1, out=None):
    """As torch.add: input + alpha * other, broadcast and type-promoted."""
    r = _binary(Add, input, other, alpha=alpha)
    return r if out is None else write_out(r, out, "add")


def sub(input, other, *, alpha=1, out=None):
    """As torch.sub: input - alpha * other, broadcast and type-promoted."""
    r = _binary(Sub, input, other, alpha=alpha)
    return r if out is None else write_out(r, out, "sub")


subtract = sub


def mul(input, other, *, out=None):
    """As torch.mul: the elementwise product, broadcast and type-promoted."""
    r = _binary(Mul, input, other)
    return r if out is None else write_out(r, out, "mul")


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
    """As torch.div: true division (integers give floats), or rounded by rounding_mode 'trunc' or
    'floor'."""
    if rounding_mode == "floor":
        r = floor_divide(input, other)
    elif rounding_mode == "trunc":
        r = trunc(_binary(Div, input, other, float_result=True))
        r = r.to(_np_to_ember(result_dtype(input, other)))
    elif rounding_mode is None:
        r = _binary(Div, input, other, float_result=True)
    else:
        raise RuntimeError("div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    return r if out is None else write_out(r, out, "div")


divide = true_divide = div


@with_out
def pow(input, exponent):  # noqa: A001
    """As torch.pow: input ** exponent elementwise; either may be a Python number."""
    _check_tensor("pow", exponent, "exponent", 2, scalar_ok=True)
    if not isinstance(input, Tensor):
        return _binary(Pow, input, exponent)
    if isinstance(exponent, Tensor):
        return _binary(Pow, input, exponent)
    dt = result_dtype(input, exponent)
    x = input if input._data.dtype == dt else input.to(_np_to_ember(dt))
    return Pow.apply(x, exponent)


def _check_int_zero(b, dt) -> None:
    """Integer division by zero is an error in PyTorch (NumPy would return 0 with a warning)."""
    if dt.kind in "biu" and bool((backend.xp_of(b).asarray(b) == 0).any()):
        raise RuntimeError("ZeroDivisionError")


@with_out
def floor_divide(input, other):
    """As torch.floor_divide: floor(input / other) elementwise (not differentiable)."""
    _check_tensor("floor_divide", input, "input", 1, scalar_ok=True)
    _check_tensor("floor_divide", other, "other", 2, scalar_ok=True)
    check_same_device(input, other)
    dt = result_dtype(input, other)
    a = arr_of(input, dt, _ref(input, other))
    b = arr_of(other, dt, _ref(input, other))
    _check_int_zero(b, dt)
    with np.errstate(divide="ignore", invalid="ignore"):
        return Tensor._make(backend.xp_of(_ref(input, other)).floor_divide(a, b))


class _Modulo(Op):
    """x - round(x / y) * y for the rounding ``_round`` names; d/dx = 1, d/dy = -round(x / y)."""

    _xp_name = ""  # the NumPy/CuPy function of the forward
    _round = None  # late-bound (floor/trunc are defined below): a staticmethod(lambda q: ...)

    @classmethod
    def forward(cls, ctx, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        with np.errstate(divide="ignore", invalid="ignore"):
            return getattr(_xp2(a, b), cls._xp_name)(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.inputs
        ga = sum_to(g, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        # (div: a may be a raw number, whose / would make a NumPy array of b)
        gb = sum_to(-g * cls._round(div(a, b)), ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return ga, gb


class Remainder(_Modulo):
    """x - floor(x / y) * y: the sign of the divisor (Python's %); d/dx = 1, d/dy = -floor(x/y)."""

    _xp_name = "remainder"
    _round = staticmethod(lambda q: floor(q))


class Fmod(_Modulo):
    """x - trunc(x / y) * y: the sign of the dividend (C's fmod). d/dx = 1, d/dy = -trunc(x / y)."""

    _xp_name = "fmod"
    _round = staticmethod(lambda q: trunc(q))


def _xp2(a, b):
    return backend.xp_of(b if backend.is_cuda_array(b) else a)


def _modulo(op, input, other, scalar_input):
    _check_tensor(op.__name__.lower(), input, "input", 1, scalar_input)
    _check_tensor(op.__name__.lower(), other, "other", 2, scalar_ok=True)
    dt = result_dtype(input, other)
    if dt.kind in "biu":
        _check_int_zero(arr_of(other, dt, _ref(input, other)), dt)
    return _binary(op, input, other, scalars=(scalar_input, True))


@with_out
def remainder(input, other):
    """As torch.remainder: input - floor(input / other) * other, with the sign of the divisor
    (Python's %)."""
    return _modulo(Remainder, input, other, scalar_input=True)


@with_out
def fmod(input, other):
    """As torch.fmod: input - trunc(input / other) * other, with the sign of the dividend (C's fmod)."""
    return _modulo(Fmod, input, other, scalar_input=False)


def _ref(a, b):
    return (a if isinstance(a, Tensor) else b)._data


# ---- unary ops ---------------------------------------------------------------------------------
def _unary(name, forward, backward, float_only=True, differentiable=True):
    """Make an Op class and its function from forward(xp, x) and backward(g, x, y) -> grad."""

    def fwd(ctx, x):
        return forward(backend.xp_of(x), x)

    def bwd(ctx, g):
        return backward(g, ctx.inputs[0], ctx.output())

    cls = type(name, (Op,), {"forward": staticmethod(fwd), "backward": staticmethod(bwd)})

    def fn(input):
        _check_tensor(fn.__name__, input)
        if float_only and input._data.dtype.kind != "f":
            input = input.to(_np_to_ember(float_dtype(input)))
        if not differentiable:
            return Tensor._make(forward(backend.xp_of(input._data), input._data))
        return cls.apply(input)

    fn.__name__ = name.lower()
    fn.__doc__ = f"As torch.{fn.__name__}: elementwise, same shape as input" + (
        " (integers give floats)." if float_only else ".")
    fn = with_out(fn)
    fn.op = cls
    return fn


def _erf_array(xp, x):
    if xp is np:
        return np.asarray(np.frompyfunc(math.erf, 1, 1)(x), dtype=x.dtype)
    import cupyx.scipy.special as sp  # pragma: no cover - GPU only

    return sp.erf(x)


exp = _unary("Exp", lambda xp, x: xp.exp(x), lambda g, x, y: g * y)
exp2 = _unary("Exp2", lambda xp, x: xp.exp2(x), lambda g, x, y: g * y * math.log(2.0))
expm1 = _unary("Expm1", lambda xp, x: xp.expm1(x), lambda g, x, y: g * (y + 1))
log = _unary("Log", lambda xp, x: xp.log(x), lambda g, x, y: g / x)
log2 = _unary("Log2", lambda xp, x: xp.log2(x), lambda g, x, y: g / (x * math.log(2.0)))
log10 = _unary("Log10", lambda xp, x: xp.log10(x), lambda g, x, y: g / (x * math.log(10.0)))
log1p = _unary("Log1p", lambda xp, x: xp.log1p(x), lambda g, x, y: g / (x + 1))
sqrt = _unary("Sqrt", lambda xp, x: xp.sqrt(x), lambda g, x, y: g / (2 * y))
rsqrt = _unary("Rsqrt", lambda xp, x: 1 / xp.sqrt(x), lambda g, x, y: g * (-0.5) * y * y * y)
reciprocal = _unary("Reciprocal", lambda xp, x: 1 / x, lambda g, x, y: -g * y * y)
square = _unary("Square", lambda xp, x: x * x, lambda g, x, y: g * 2 * x, float_only=False)
sin = _unary("Sin", lambda xp, x: xp.sin(x), lambda g, x, y: g * cos(x))
cos = _unary("Cos", lambda xp, x: xp.cos(x), lambda g, x, y: -g * sin(x))
tan = _unary("Tan", lambda xp, x: xp.tan(x), lambda g, x, y: g * (1 + y * y))
asin = _unary("Asin", lambda xp, x: xp.arcsin(x), lambda g, x, y: g * rsqrt(1 - x * x))
acos = _unary("Acos", lambda xp, x: xp.arccos(x), lambda g, x, y: -g * rsqrt(1 - x * x))
atan = _unary("Atan", lambda xp, x: xp.arctan(x), lambda g, x, y: g / (1 + x * x))
sinh = _unary("Sinh", lambda xp, x: xp.sinh(x), lambda g, x, y: g * cosh(x))
cosh = _unary("Cosh", lambda xp, x: xp.cosh(x), lambda g, x, y: g * sinh(x))
tanh = _unary("Tanh", lambda xp, x: xp.tanh(x), lambda g, x, y: g * (1 - y * y))
sigmoid = _unary("Sigmoid", lambda xp, x: _sigmoid_array(xp, x), lambda g, x, y: g * y * (1 - y))
erf = _unary("Erf", _erf_array, lambda g, x, y: g * (2 / math.sqrt(math.pi)) * exp(-x * x))
abs = _unary("Abs", lambda xp, x: xp.abs(x), lambda g, x, y: g * sign(x), float_only=False)  # noqa: A001
neg = _unary("Neg", lambda xp, x: -x, lambda g, x, y: -g, float_only=False)
_KERNEL_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def _relu_array(xp, x):
    """max(x, 0), NaN kept: the relu_forward kernel (one multithreaded pass) for float32/64
    arrays (a 0-d tensor may hold a NumPy scalar, which is not one)."""
    if x.dtype not in _KERNEL_DTYPES or x.ndim == 0:
        return xp.maximum(x, 0).astype(x.dtype, copy=False)
    out = xp.empty(x.shape, dtype=x.dtype)
    if out.size:
        backend.kernels_of(x).relu_forward(contiguous(x), out)
    return out


class _ReluGrad(Op):
    """g where ReLU's result y is not <= 0, else 0: PyTorch's threshold_backward(g, y, 0), a select
    (NaN inputs pass g; an infinite g at a clipped position gives 0, not inf * 0), one kernel pass
    for float32/64. Linear in g, so its own backward is itself."""

    @staticmethod
    def forward(ctx, g, y):
        xp = backend.xp_of(g)
        if g.dtype != y.dtype or g.dtype not in _KERNEL_DTYPES or y.ndim == 0:
            return xp.where(y <= 0, xp.zeros((), dtype=g.dtype), g)
        out = xp.empty(y.shape, dtype=g.dtype)
        if out.size:
            backend.kernels_of(g).relu_backward(contiguous(xp.broadcast_to(g, y.shape)), contiguous(y),
                                                out)
        return out

    @staticmethod
    def backward(ctx, gg):
        return _ReluGrad.apply(gg, ctx.inputs[1]), None


relu = _unary("Relu", _relu_array, lambda g, x, y: _ReluGrad.apply(g, y), float_only=False)
sign = _unary("Sign", lambda xp, x: xp.sign(x), None, float_only=False, differentiable=False)
floor = _unary("Floor", lambda xp, x: xp.floor(x), None, float_only=False, differentiable=False)
ceil = _unary("Ceil", lambda xp, x: xp.ceil(x), None, float_only=False, differentiable=False)
trunc = _unary("Trunc", lambda xp, x: xp.trunc(x), None, float_only=False, differentiable=False)
frac = _unary("Frac", lambda xp, x: x - xp.trunc(x), lambda g, x, y: g)
isnan = _unary("Isnan", lambda xp, x: xp.isnan(x), None, float_only=False, differentiable=False)
isinf = _unary("Isinf", lambda xp, x: xp.isinf(x), None, float_only=False, differentiable=False)
isfinite = _unary("Isfinite", lambda xp, x: xp.isfinite(x), None, float_only=False, differentiable=False)
logical_not = _unary("LogicalNot", lambda xp, x: xp.logical_not(x), None, float_only=False,
                     differentiable=False)
bitwise_not = _unary("BitwiseNot", lambda xp, x: xp.invert(x), None, float_only=False,
                     differentiable=False)


def _sigmoid_array(xp, x):
    # split by sign so exp never overflows
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


@with_out
def round(input, decimals: int = 0):  # noqa: A001
    """As torch.round: to the nearest integer (half to even), or to ``decimals`` decimal places."""
    return Tensor._make(backend.xp_of(input._data).round(input._data, decimals))


def positive(input):
    """As torch.positive: input itself."""
    return input


# ---- clamp / where / min-max -------------------------------------------------------------------
class Clamp(Op):
    """min(max(x, lo), hi), lo / hi None, numbers or Tensors (broadcast); PyTorch's gradients:
    to x where lo <= x <= hi, to lo where x < lo < hi, to hi where x > hi or hi < lo."""

    @staticmethod
    def forward(ctx, x, lo, hi):
        xp = backend.xp_of(x)
        out = x
        if lo is not None:
            out = xp.maximum(out, lo)
        if hi is not None:
            out = xp.minimum(out, hi)
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        x, lo, hi = ctx.inputs
        to_x = to_lo = to_hi = None
        if lo is not None:
            to_x, to_lo = x >= lo, x < lo
        if hi is not None:
            to_x = (x <= hi) if to_x is None else to_x & (x <= hi)
            to_hi = x > hi
        if lo is not None and hi is not None:
            to_lo, to_hi = to_lo & (lo < hi), to_hi | (hi < lo)
        zero = g * 0
        return tuple(sum_to(where(mask, g, zero), _shape(v))
                     if isinstance(v, Tensor) and ctx.needs_input_grad[i] else None
                     for i, (v, mask) in enumerate(((x, to_x), (lo, to_lo), (hi, to_hi))))


@with_out
def clamp(input, min=None, max=None):  # noqa: A002
    """As torch.clamp: min(max(input, min), max) elementwise; min and max are numbers or Tensors
    broadcast against input (at least one given)."""
    _check_tensor("clamp", input)
    bounds = [b for b in (min, max) if b is not None]
    if not bounds:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    for name, b in (("min", min), ("max", max)):
        if b is not None:
            _check_tensor("clamp", b, name, 2 if name == "min" else 3, scalar_ok=True)
    check_same_device(input, *bounds)
    dt = result_dtype(input, *bounds)
    ref = input._data
    try:
        return Clamp.apply(*(v if v is None else _operand(v, dt, ref) for v in (input, min, max)))
    except ValueError as exc:  # NumPy's broadcasting error -> PyTorch's RuntimeError
        if "broadcast" not in str(exc):
            raise
        raise RuntimeError(f"clamp: shapes {list(input.shape)}, {list(_shape(min))} and "
                           f"{list(_shape(max))} are not broadcastable") from None


clip = clamp


@with_out
def clamp_min(input, min):  # noqa: A002
    """As torch.clamp_min: clamp(input, min=min)."""
    return clamp(input, min=min)


@with_out
def clamp_max(input, max):  # noqa: A002
    """As torch.clamp_max: clamp(input, max=max)."""
    return clamp(input, max=max)


class Where(Op):
    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.shapes = (_shape(a), _shape(b))
        return backend.xp_of(cond).where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        cond = ctx.inputs[0]
        zero = g * 0
        ga = sum_to(where(cond, g, zero), ctx.shapes[0]) if ctx.needs_input_grad[1] else None
        gb = sum_to(where(cond, zero, g), ctx.shapes[1]) if ctx.needs_input_grad[2] else None
        return None, ga, gb


@with_out
def where(condition, input=None, other=None):
    """As torch.where: input where condition holds, else other (broadcast; either may be a
    number); where(condition) alone is condition.nonzero(as_tuple=True)."""
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)  # (index.nonzero: index builds on pointwise)
    _check_tensor("where", condition, "condition")
    _check_tensor("where", input, "input", 2, scalar_ok=True)
    _check_tensor("where", other, "other", 3, scalar_ok=True)
    check_same_device(condition, input, other)
    dt = result_dtype(input, other)
    ref = condition._data
    cond = condition if condition._data.dtype == np.bool_ else condition.bool()
    a = input.to(_np_to_ember(dt)) if isinstance(input, Tensor) else arr_of(input, dt, ref)
    b = other.to(_np_to_ember(dt)) if isinstance(other, Tensor) else arr_of(other, dt, ref)
    try:
        np.broadcast_shapes(_shape(cond), _shape(a), _shape(b))
    except ValueError:
        raise RuntimeError(f"where: shapes {list(_shape(cond))}, {list(_shape(a))} and {list(_shape(b))} "
                           "are not broadcastable") from None
    return Where.apply(cond, a, b)


class _Pick(Op):
    """One of two values elementwise (maximum, minimum, fmax, fmin): the forward is the array
    function ``_xp_name``; the gradient goes to a where ``_to_a(a, b)`` (a Tensor of 0, 0.5 or 1:
    maximum/minimum split ties equally, as PyTorch), the rest to b."""

    _xp_name = ""
    _to_a = None  # a staticmethod(lambda a, b: ...), bound per subclass

    @classmethod
    def forward(cls, ctx, a, b):
        return getattr(_xp2(a, b), cls._xp_name)(a, b)

    @classmethod
    def backward(cls, ctx, g):
        a, b = ctx.inputs
        wa = cls._to_a(a, b)
        return (sum_to(g * wa, a.shape) if ctx.needs_input_grad[0] else None,
                sum_to(g * (1 - wa), b.shape) if ctx.needs_input_grad[1] else None)


class Maximum(_Pick):
    _xp_name = "maximum"
    _to_a = staticmethod(lambda a, b: (a > b) + (a == b) * 0.5)


class Minimum(_Pick):
    _xp_name = "minimum"
    _to_a = staticmethod(lambda a, b: (a < b) + (a == b) * 0.5)


class Fmax(_Pick):
    """max(a, b) ignoring NaN (the other argument where one is NaN; NaN only where both are).
    PyTorch's gradient: to a where a >= b or b is NaN (ties to a), else to b."""

    _xp_name = "fmax"
    _to_a = staticmethod(lambda a, b: ((a >= b) | isnan(b)).to(a.dtype))


class Fmin(_Pick):
    """min(a, b) ignoring NaN; gradient to a where a <= b or b is NaN, else to b (as PyTorch)."""

    _xp_name = "fmin"
    _to_a = staticmethod(lambda a, b: ((a <= b) | isnan(b)).to(a.dtype))


def _pick(op):
    def fn(input, other):
        # Tensors only: PyTorch has no Scalar overload of these
        return _binary(op, input, other, scalars=(False, False))

    fn.__name__ = op._xp_name
    fn.__doc__ = f"As torch.{op._xp_name}: {op._xp_name}(input, other) elementwise, broadcast."
    return with_out(fn)


maximum, minimum, fmax, fmin = (_pick(op) for op in (Maximum, Minimum, Fmax, Fmin))


# ---- comparisons and logic (not differentiable) ---------------------------------------------------
def _compare(ufunc_name):
    def fn(input, other):
        _check_tensor(ufunc_name, input)
        _check_tensor(ufunc_name, other, "other", 2, scalar_ok=True)
        check_same_device(input, other)
        dt = result_dtype(input, other)
        ref = _ref(input, other)
        xp = backend.xp_of(ref)
        return Tensor._make(getattr(xp, ufunc_name)(arr_of(input, dt, ref), arr_of(other, dt, ref)))

    fn.__name__ = ufunc_name
    fn.__doc__ = f"As torch's {ufunc_name}: elementwise, broadcast, a bool Tensor (not differentiable)."
    return with_out(fn)


eq = _compare("equal")
ne = _compare("not_equal")
lt = _compare("less")
le = _compare("less_equal")
gt = _compare("greater")
ge = _compare("greater_equal")
logical_and = _compare("logical_and")
logical_or = _compare("logical_or")
logical_xor = _compare("logical_xor")
bitwise_and = _compare("bitwise_and")
bitwise_or = _compare("bitwise_or")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne


def equal(input, other) -> bool:
    """As torch.equal: True when both have the same shape and values."""
    return tuple(input.shape) == tuple(other.shape) and bool(eq(input, other).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    """As torch.allclose: isclose(...) holds everywhere."""
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """As torch.isclose: |input - other| <= atol + rtol * |other| elementwise, a bool Tensor."""
    _check_tensor("isclose", input)
    _check_tensor("isclose", other, "other", 2, scalar_ok=True)
    ref = _ref(input, other)
    xp = backend.xp_of(ref)
    dt = result_dtype(input, other)
    return Tensor._make(xp.isclose(arr_of(input, dt, ref), arr_of(other, dt, ref), rtol=rtol, atol=atol,
                                   equal_nan=equal_nan))


# ---- composites ----------------------------------------------------------------------------------
def _check_tensors(fn_name: str, *named) -> None:
    for pos, (arg, v) in enumerate(named, 1):
        _check_tensor(fn_name, v, arg, pos)


@with_out
def addcmul(input, tensor1, tensor2, *, value=1):
    """As torch.addcmul: input + value * tensor1 * tensor2, broadcast."""
    _check_tensors("addcmul", ("input", input), ("tensor1", tensor1), ("tensor2", tensor2))
    return input + value * tensor1 * tensor2


@with_out
def addcdiv(input, tensor1, tensor2, *, value=1):
    """As torch.addcdiv: input + value * tensor1 / tensor2, broadcast (integer tensor1 and tensor2
    are an error, as in PyTorch)."""
    _check_tensors("addcdiv", ("input", input), ("tensor1", tensor1), ("tensor2", tensor2))
    if tensor1._data.dtype.kind in "biu" and tensor2._data.dtype.kind in "biu":
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future release "
                           "addcdiv will perform a true division of tensor1 and tensor2. Use "
                           "torch.addcdiv(input, tensor1.float(), tensor2.float()) instead.")
    return input + value * tensor1 / tensor2


@with_out
def lerp(input, end, weight):
    """As torch.lerp: input + weight * (end - input), broadcast; weight a number or a Tensor; input
    and end floating point."""
    _check_tensors("lerp", ("input", input), ("end", end))
    _check_tensor("lerp", weight, "weight", 3, scalar_ok=True)
    for t in (input, end):
        if t._data.dtype.kind != "f":  # (NotImplementedError is a RuntimeError, as in PyTorch)
            raise NotImplementedError(f'"lerp" not implemented for \'{_TORCH_NAMES[t._data.dtype.name]}\'')
    return input + weight * (end - input)


@with_out
def atan2(input, other):
    """As torch.atan2: the angle of (other, input), i.e. atan(input / other) in the right quadrant,
    elementwise and broadcast; d/dy = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2)."""
    _check_tensors("atan2", ("input", input), ("other", other))
    try:
        out = Tensor._make(backend.xp_of(input._data).arctan2(input._data, arr_of(other, input._data.dtype,
                                                                                  input._data)))
    except ValueError:
        raise RuntimeError(f"atan2: shapes {list(input.shape)} and {list(_shape(other))} are not "
                           "broadcastable") from None
    if not (input.requires_grad or (isinstance(other, Tensor) and other.requires_grad)):
        return out
    return _Atan2.apply(input, other)


class _Atan2(Op):
    @staticmethod
    def forward(ctx, y, x):
        return backend.xp_of(y).arctan2(y, x)

    @staticmethod
    def backward(ctx, g):
        y, x = ctx.inputs
        d = x * x + y * y
        return (sum_to(g * x / d, y.shape) if ctx.needs_input_grad[0] else None,
                sum_to(-g * y / d, x.shape) if ctx.needs_input_grad[1] else None)
