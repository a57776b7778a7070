"""Matrix products. Float32/float64 products run on Ember's own GEMM kernel (``gemm`` in
``ember._C`` / ``ember._C_cuda``); transposed views are passed as a transpose flag instead of being
copied. Other dtypes fall back to the array module's matmul."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .. import backends as _backends  # (private: ember.ops re-exports this module's names)
from .._dtype import from_numpy_dtype
from ..autograd.function import Op
from ._util import check_same_device, result_dtype, sum_to, with_out
from .creation import eye
from .reduce import norm
from .shape import stack

# The public ops (``from .linalg import *`` in ember.ops); helpers are imported by their module path.
__all__ = [
    "addmm", "addmv", "baddbmm", "bmm", "cdist", "cross", "dot", "einsum", "ger", "inner", "matmul", "matrix_power",
    "mm", "mv", "outer", "tensordot", "vdot",
]


def _as_operand(x):
    """(array with unit-stride rows, transpose flag) for a (..., R, C) array, copying only when the
    array is neither row- nor column-major in its last two dimensions. The other stride must span
    a whole row (column): broadcast (stride 0) and negative strides are copied."""
    item = x.itemsize
    rows, cols = x.shape[-2], x.shape[-1]
    if (x.strides[-1] == item or cols <= 1) and (rows <= 1 or x.strides[-2] >= item * max(cols, 1)):
        return x, False
    if (x.strides[-2] == item or rows <= 1) and (cols <= 1 or x.strides[-1] >= item * max(rows, 1)):
        return x.swapaxes(-1, -2), True
    return backend.xp_of(x).ascontiguousarray(x), False


def _batched_operand(x, batch_shape, xp):
    """3-D (or 2-D, broadcast over the batch) view of ``x`` for the GEMM's strided batch."""
    xb = x.shape[:-2]
    if math.prod(xb) == 1:
        return x.reshape(x.shape[-2:])  # one matrix shared by every batch entry (stride 0)
    if xb != batch_shape:
        x = xp.ascontiguousarray(xp.broadcast_to(x, batch_shape + x.shape[-2:]))
    return x.reshape((math.prod(batch_shape),) + x.shape[-2:])


def gemm_arrays(a, b, bias=None, activation: str = "none"):
    """a @ b (+ bias over the last dim, activation) on raw arrays, batched by broadcasting."""
    xp = backend.xp_of(a)
    batch_shape = a.shape[:-2] if a.shape[:-2] == b.shape[:-2] else \
        np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    M, K, N = a.shape[-2], a.shape[-1], b.shape[-1]
    if a.dtype.kind != "f" or a.dtype.itemsize < 4 or min(M, N, K) == 0:
        out = xp.matmul(a, b)
        if bias is not None:
            out = out + bias
        return _activate(xp, out, activation)
    a3 = _batched_operand(a, batch_shape, xp)
    b3 = _batched_operand(b, batch_shape, xp)
    # the result owns its memory (the engine can then reuse a gradient buffer); the kernel writes
    # through a 3-D (batched) or 2-D view
    out = xp.empty(batch_shape + (M, N), dtype=a.dtype)
    c = out.reshape((math.prod(batch_shape), M, N) if a3.ndim == 3 or b3.ndim == 3 else (M, N))
    a_op, ta = _as_operand(a3)
    b_op, tb = _as_operand(b3)
    if a_op.ndim == 3 and a_op.shape[0] > 1 and a_op.strides[0] % a_op.itemsize:
        a_op = xp.ascontiguousarray(a_op)
    kernels = backend.kernels_of(a)
    gemm = kernels.gemm
    if a.dtype == np.float32 and kernels is not backend._C and _tf32_allowed():
        gemm = kernels.gemm_tf32  # tensor cores, 10-bit mantissa inputs: opt-in as in PyTorch
    gemm(a_op, b_op, c, ta, tb, 1.0, 0.0, bias, False, activation)
    return out


def _tf32_allowed() -> bool:
    return bool(_backends.cuda.matmul.allow_tf32)


def _activate(xp, out, activation):
    if activation == "relu":
        return xp.maximum(out, 0)
    if activation == "gelu":
        raise NotImplementedError("gelu epilogue needs a float32/float64 GEMM")
    return out


class Matmul(Op):
    @staticmethod
    def forward(ctx, a, b):
        return gemm_arrays(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.inputs
        ga = sum_to(matmul(g, b.mT), a.shape) if ctx.needs_input_grad[0] else None
        gb = sum_to(matmul(a.mT, g), b.shape) if ctx.needs_input_grad[1] else None
        return ga, gb


@with_out
def matmul(input, other):
    check_same_device(input, other)
    sa, sb = input._data.shape, other._data.shape
    if not sa or not sb:
        raise RuntimeError("both arguments to matmul need to be at least 1D, but they are "
                           f"{len(sa)}D and {len(sb)}D")
    ka = sa[-1]
    kb = sb[-2] if len(sb) > 1 else sb[0]
    if ka != kb:
        rows, cols = sa[-2] if len(sa) > 1 else 1, sb[-1] if len(sb) > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{ka} and {kb}x{cols})")
    dt = result_dtype(input, other)
    a = input if input._data.dtype == dt else input.to(from_numpy_dtype(dt))
    b = other if other._data.dtype == dt else other.to(from_numpy_dtype(dt))
    out = Matmul.apply(a.unsqueeze(0) if len(sa) == 1 else a, b.unsqueeze(-1) if len(sb) == 1 else b)
    if len(sa) == 1:
        out = out.squeeze(-2)
    if len(sb) == 1:
        out = out.squeeze(-1)
    return out


@with_out
def mm(input, mat2):
    if input.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError(f"mm: expected 2-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    return matmul(input, mat2)


@with_out
def bmm(input, mat2):
    if input.ndim != 3 or mat2.ndim != 3:
        raise RuntimeError(f"bmm: expected 3-D tensors, got {input.ndim}-D and {mat2.ndim}-D")
    if input.shape[0] != mat2.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ ({input.shape[0]} and {mat2.shape[0]})")
    return matmul(input, mat2)


@with_out
def mv(input, vec):
    return matmul(input, vec)


@with_out
def dot(input, other):
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)


inner = vdot = dot


@with_out
def outer(input, vec2):
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


@with_out
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    return beta * input + alpha * matmul(mat1, mat2)


@with_out
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    return beta * input + alpha * matmul(batch1, batch2)


@with_out
def addmv(input, mat, vec, *, beta=1, alpha=1):
    return beta * input + alpha * matmul(mat, vec)


def einsum(equation, *operands):
    """``einsum`` as a differentiable op; the backward of each operand is another einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    return Einsum.apply(*operands, equation=equation.replace(" ", ""))


class Einsum(Op):
    @staticmethod
    def forward(ctx, *arrays, equation):
        ctx.equation = equation
        return backend.xp_of(arrays[0]).einsum(equation, *arrays)

    @staticmethod
    def backward(ctx, g):
        lhs, _, out = ctx.equation.partition("->")
        ins = lhs.split(",")
        if not _ or "..." in ctx.equation:
            raise RuntimeError("einsum backward needs an explicit '->' output without '...'")
        grads = []
        for i, spec in enumerate(ins):
            if not ctx.needs_input_grad[i]:
                grads.append(None)
                continue
            others = [(s, t) for j, (s, t) in enumerate(zip(ins, ctx.inputs)) if j != i]
            # letters of spec that appear nowhere else were summed out: restore them by broadcasting
            present = set(out) | set("".join(s for s, _ in others))
            missing = [c for c in spec if c not in present]
            eq = ",".join([out] + [s for s, _ in others]) + "->" + "".join(c for c in spec if c not in missing)
            grad = einsum(eq, g, *[t for _, t in others])
            if missing or len(set(spec)) != len(spec):
                shape = [ctx.inputs[i].shape[k] for k in range(len(spec))]
                # expand over summed-out letters (repeated letters / diagonals are not supported)
                kept = [c for c in spec if c not in missing]
                view_shape = [shape[k] if spec[k] in kept else 1 for k in range(len(spec))]
                grad = grad.reshape(view_shape).expand(shape)
            grads.append(grad)
        return tuple(grads)


@with_out
def cross(input, other, dim=-1):
    a = input.unbind(dim)
    b = other.unbind(dim)
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], dim)


def cdist(x1, x2, p=2.0):
    # the one p-norm op: its gradient at a zero distance is 0, as PyTorch's cdist
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


@with_out
def tensordot(a, b, dims=2):
    letters = "abcdefghijklmnopqrstuvwxyz"
    if isinstance(dims, int):
        da = list(range(a.ndim - dims, a.ndim))
        db = list(range(dims))
    else:
        da, db = [list(d) if isinstance(d, (list, tuple)) else [d] for d in dims]
    sa = list(letters[:a.ndim])
    sb = list(letters[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in da] + [c for k, c in enumerate(sb) if k not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


@with_out
def matrix_power(input, n):
    if n < 0:
        raise NotImplementedError("matrix_power: negative powers (matrix inverses) are not "
                                  "supported")
    if n == 0:
        k = input.shape[-1]
        return eye(k, dtype=input.dtype, device=input.device).expand(tuple(input.shape)).clone()
    out = input
    for _ in range(n - 1):
        out = matmul(out, input)
    return out
