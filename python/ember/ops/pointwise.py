"""Elementwise ops. Each class holds its forward (on arrays) and backward (in Tensor ops, so
gradients of gradients work). Binary ops broadcast; their backward sums back with ``sum_to``."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .._dtype import from_numpy_dtype
from ..autograd.function import Op
from ..tensor import Tensor
from ._nnutil import contiguous
from ._util import (arr_of, check_same_device, float_dtype, result_dtype, sum_to, to_tensor,
                    with_out, write_out)

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


# ---- binary arithmetic -----------------------------------------------------------------------
class Add(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.alpha = alpha
        return a + (b if alpha == 1 else b * alpha)

    @staticmethod
    def backward(ctx, g):
        ga = sum_to(g, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        gb = None
        if ctx.needs_input_grad[1]:
            gb = sum_to(g if ctx.alpha == 1 else g * ctx.alpha, ctx.shapes[1])
        return ga, gb


class Sub(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, a, b, alpha=1):
        ctx.shapes = (_shape(a), _shape(b))
        ctx.alpha = alpha
        return a - (b if alpha == 1 else b * alpha)

    @staticmethod
    def backward(ctx, g):
        ga = sum_to(g, ctx.shapes[0]) if ctx.needs_input_grad[0] else None
        gb = sum_to(-(g if ctx.alpha == 1 else g * ctx.alpha), ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return ga, gb


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


def _binary(op, a, b, *, float_result=False, **attrs):
    a_is_tensor, b_is_tensor = isinstance(a, Tensor), isinstance(b, Tensor)
    if not a_is_tensor and not b_is_tensor:
        raise TypeError("expected at least one Tensor argument")
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
        raise RuntimeError(f"{op.__name__.lstrip('_').lower()}: shapes {list(_shape(aa))} and "
                           f"{list(_shape(bb))} are not broadcastable") from None


def _operand(v, dt, ref):
    """A Tensor argument in dtype ``dt``, itself when it has that dtype (autograd needs its
    identity); any other argument as a raw value."""
    if isinstance(v, Tensor):
        return v if v._data.dtype == dt else v.to(_np_to_ember(dt))
    return arr_of(v, dt, ref)


def _np_to_ember(dt):
    return from_numpy_dtype(dt)


def add(input, other, *, alpha=1, out=None):
    r = _binary(Add, input, other, alpha=alpha)
    return r if out is None else write_out(r, out, "add")


def sub(input, other, *, alpha=1, out=None):
    r = _binary(Sub, input, other, alpha=alpha)
    return r if out is None else write_out(r, out, "sub")


subtract = sub


def mul(input, other, *, out=None):
    r = _binary(Mul, input, other)
    return r if out is None else write_out(r, out, "mul")


multiply = mul


def div(input, other, *, rounding_mode=None, out=None):
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
        gb = sum_to(-g * cls._round(a / b), ctx.shapes[1]) if ctx.needs_input_grad[1] else None
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


def _modulo(op, input, other):
    dt = result_dtype(input, other)
    if dt.kind in "biu":
        _check_int_zero(arr_of(other, dt, _ref(input, other)), dt)
    return _binary(op, input, other)


@with_out
def remainder(input, other):
    return _modulo(Remainder, input, other)


@with_out
def fmod(input, other):
    return _modulo(Fmod, input, other)


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
        if not isinstance(input, Tensor):
            input = to_tensor(input)
        if float_only and input._data.dtype.kind != "f":
            input = input.to(_np_to_ember(float_dtype(input)))
        if not differentiable:
            return Tensor._make(forward(backend.xp_of(input._data), input._data))
        return cls.apply(input)

    fn.__name__ = name.lower()
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
    return Tensor._make(backend.xp_of(input._data).round(input._data, decimals))


def positive(input):
    return input


# ---- clamp / where / min-max -------------------------------------------------------------------
class Clamp(Op):
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
        keep = None
        if lo is not None:
            keep = x >= lo
        if hi is not None:
            keep = (x <= hi) if keep is None else keep & (x <= hi)
        gx = g if keep is None else g * keep
        glo = sum_to(g * (x < lo), lo.shape) if isinstance(lo, Tensor) and ctx.needs_input_grad[1] else None
        ghi = sum_to(g * (x > hi), hi.shape) if isinstance(hi, Tensor) and ctx.needs_input_grad[2] else None
        return gx, glo, ghi


@with_out
def clamp(input, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    return Clamp.apply(input, min, max)


clip = clamp


@with_out
def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


@with_out
def clamp_max(input, max):  # noqa: A002
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
    if input is None and other is None:
        return condition.nonzero(as_tuple=True)  # (index.nonzero: index builds on pointwise)
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


class Maximum(Op):
    @staticmethod
    def forward(ctx, a, b):
        return backend.xp_of(a).maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        # ties split the gradient equally, as PyTorch
        wa = (a > b) + (a == b) * 0.5
        return (sum_to(g * wa, a.shape) if ctx.needs_input_grad[0] else None,
                sum_to(g * (1 - wa), b.shape) if ctx.needs_input_grad[1] else None)


class Minimum(Op):
    @staticmethod
    def forward(ctx, a, b):
        return backend.xp_of(a).minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        wa = (a < b) + (a == b) * 0.5
        return (sum_to(g * wa, a.shape) if ctx.needs_input_grad[0] else None,
                sum_to(g * (1 - wa), b.shape) if ctx.needs_input_grad[1] else None)


@with_out
def maximum(input, other):
    return _binary(Maximum, input, other if isinstance(other, Tensor) else to_tensor(other, like=input))


@with_out
def minimum(input, other):
    return _binary(Minimum, input, other if isinstance(other, Tensor) else to_tensor(other, like=input))


class Fmax(Op):
    """max(a, b) ignoring NaN (the other argument where one is NaN; NaN only where both are).
    PyTorch's gradient: to a where a >= b or b is NaN (ties to a), else to b."""

    @staticmethod
    def forward(ctx, a, b):
        return _xp2(a, b).fmax(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        return _select_grads(ctx, g, (a >= b) | isnan(b))


class Fmin(Op):
    """min(a, b) ignoring NaN; gradient to a where a <= b or b is NaN, else to b (as PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        return _xp2(a, b).fmin(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        return _select_grads(ctx, g, (a <= b) | isnan(b))


def _select_grads(ctx, g, to_a):
    a, b = ctx.inputs
    zero = g * 0
    return (sum_to(where(to_a, g, zero), a.shape) if ctx.needs_input_grad[0] else None,
            sum_to(where(to_a, zero, g), b.shape) if ctx.needs_input_grad[1] else None)


@with_out
def fmax(input, other):
    return _binary(Fmax, input, other if isinstance(other, Tensor) else
                   to_tensor(other, like=input))


@with_out
def fmin(input, other):
    return _binary(Fmin, input, other if isinstance(other, Tensor) else
                   to_tensor(other, like=input))


# ---- comparisons and logic (not differentiable) ---------------------------------------------------
def _compare(ufunc_name):
    def fn(input, other):
        check_same_device(input, other)
        dt = result_dtype(input, other)
        ref = _ref(input, other)
        xp = backend.xp_of(ref)
        return Tensor._make(getattr(xp, ufunc_name)(arr_of(input, dt, ref), arr_of(other, dt, ref)))

    fn.__name__ = ufunc_name
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
    return tuple(input.shape) == tuple(other.shape) and bool(eq(input, other).all())


def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False) -> bool:
    return bool(isclose(input, other, rtol, atol, equal_nan).all())


def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    ref = _ref(input, other)
    xp = backend.xp_of(ref)
    dt = result_dtype(input, other)
    return Tensor._make(xp.isclose(arr_of(input, dt, ref), arr_of(other, dt, ref), rtol=rtol, atol=atol,
                                   equal_nan=equal_nan))


# ---- composites ----------------------------------------------------------------------------------
@with_out
def addcmul(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 * tensor2


@with_out
def addcdiv(input, tensor1, tensor2, *, value=1):
    return input + value * tensor1 / tensor2


@with_out
def lerp(input, end, weight):
    return input + weight * (end - input)


@with_out
def atan2(input, other):
    # atan2(y, x) with gradient (x dy - y dx) / (x^2 + y^2)
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
