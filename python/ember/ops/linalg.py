"""Matrix products. Float32/float64 products run on Ember's own GEMM kernel (``gemm`` in
``ember._C`` / ``ember._C_cuda``); transposed views are passed as a transpose flag instead of being
copied. Other dtypes fall back to the array module's matmul."""
from __future__ import annotations

import builtins
import math
import string

import numpy as np

from .. import backend
from .. import backends as _backends  # (private: ember.ops re-exports this module's names)
from .._dtype import from_numpy_dtype
from ..autograd.function import Op
from ._util import check_same_device, result_dtype, sum_to, with_out, wrap_dim
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
    """As torch.matmul: the matrix product with NumPy's rules (1-D operands are vectors, leading
    dims broadcast as batches). Unlike PyTorch, mixed dtypes are promoted."""
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


def _check_dims(name, *named) -> None:
    """Each (argument, tensor, ndim) has that many dims, as PyTorch's mm/bmm/mv checks."""
    for arg, t, ndim in named:
        if t.ndim != ndim:
            raise RuntimeError(f"{name}: Expected {ndim}-D argument {arg}, but got {t.ndim}-D")


def _ranked(name, a, b):
    """a @ b for mm / bmm / mv and the add-products after PyTorch's checks: a and b are (argument,
    tensor, rank), 3-D operands of equal batch sizes (no broadcasting)."""
    _check_dims(name, a, b)
    (_, a, rank_a), (_, b, _) = a, b
    if rank_a == 3 and a.shape[0] != b.shape[0]:
        raise RuntimeError(f"{name}: batch sizes differ ({a.shape[0]} and {b.shape[0]})")
    return matmul(a, b)


@with_out
def mm(input, mat2):
    """As torch.mm: (n, m) @ (m, p) -> (n, p)."""
    return _ranked("mm", ("input", input, 2), ("mat2", mat2, 2))


@with_out
def bmm(input, mat2):
    """As torch.bmm: (b, n, m) @ (b, m, p) -> (b, n, p), batch sizes equal (no broadcasting)."""
    return _ranked("bmm", ("input", input, 3), ("mat2", mat2, 3))


@with_out
def mv(input, vec):
    """As torch.mv: (n, m) @ (m,) -> (n,)."""
    return _ranked("mv", ("input", input, 2), ("vec", vec, 1))


@with_out
def dot(input, other):
    """As torch.dot (and torch.vdot, the same for real tensors): the dot product of two 1-D tensors
    of one length and dtype."""
    if input.ndim != 1 or other.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input.ndim}D and {other.ndim}D tensors")
    return matmul(input, other)


vdot = dot


@with_out
def inner(input, other):
    """As torch.inner: the sum of products over the last dims, (*a, k) and (*b, k) -> (*a, *b); a
    0-d operand multiplies."""
    if input.ndim == 0 or other.ndim == 0:
        return input * other
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, ([input.ndim - 1], [other.ndim - 1]))


@with_out
def outer(input, vec2):
    """As torch.outer (torch.ger): (n,) and (m,) -> (n, m), out[i, j] = input[i] * vec2[j]."""
    _check_dims("outer", ("self", input, 1), ("vec2", vec2, 1))
    return input.unsqueeze(1) * vec2.unsqueeze(0)


ger = outer


def _add_product(name, input, product, beta, alpha):
    """beta * input + alpha * product, input broadcast to the product's shape; beta = 0 ignores
    input (its NaN and inf too), as PyTorch."""
    try:
        fits = np.broadcast_shapes(tuple(input.shape), tuple(product.shape)) == tuple(product.shape)
    except ValueError:
        fits = False
    if not fits:
        raise RuntimeError(f"{name}: input of shape {list(input.shape)} does not broadcast to the "
                           f"product's shape {list(product.shape)}")
    scaled = product if alpha == 1 else alpha * product
    if beta == 0:
        return scaled.expand(tuple(product.shape)) if input.ndim else scaled
    return (input if beta == 1 else beta * input) + scaled


@with_out
def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """As torch.addmm: beta * input + alpha * (mat1 @ mat2), mat1 (n, m), mat2 (m, p), input
    broadcast to (n, p)."""
    return _add_product("addmm", input, _ranked("addmm", ("mat1", mat1, 2), ("mat2", mat2, 2)), beta, alpha)


@with_out
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1):
    """As torch.baddbmm: beta * input + alpha * bmm(batch1, batch2), input broadcast to (b, n, p)."""
    product = _ranked("baddbmm", ("batch1", batch1, 3), ("batch2", batch2, 3))
    return _add_product("baddbmm", input, product, beta, alpha)


@with_out
def addmv(input, mat, vec, *, beta=1, alpha=1):
    """As torch.addmv: beta * input + alpha * (mat @ vec), mat (n, m), vec (m,), input broadcast to (n,)."""
    return _add_product("addmv", input, _ranked("addmv", ("mat", mat, 2), ("vec", vec, 1)), beta, alpha)


def _einsum_specs(equation: str, operands) -> tuple[list[str], str]:
    """The operands' subscripts and the output's, with each ellipsis spelt as letters the equation
    does not use (right-aligned, as broadcasting) and an implicit output made explicit (the
    ellipsis dims, then the letters seen once, sorted), checked as PyTorch checks them."""
    lhs, arrow, out = equation.replace(" ", "").partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError(f"einsum(): {len(ins)} operands in the equation, {len(operands)} given")
    free = [c for c in string.ascii_letters if c not in equation]
    n_ell = builtins.max([t.ndim - len(s) + 3 for s, t in zip(ins, operands) if "..." in s], default=0)
    ell = "".join(free[:n_ell])
    specs = []
    for i, (s, t) in enumerate(zip(ins, operands)):
        if "..." in s:
            s = s.replace("...", ell[n_ell - (t.ndim - len(s) + 3):])
        if len(s) != t.ndim or (s and not s.isalpha()):
            raise RuntimeError(f"einsum(): the subscripts '{ins[i]}' do not fit operand {i} of "
                               f"{t.ndim} dimensions")
        specs.append(s)
    if arrow:
        out = out.replace("...", ell)
    else:
        seen = "".join(specs)
        out = ell + "".join(sorted(c for c in set(seen) if seen.count(c) == 1 and c not in ell))
    for c in out:
        if c not in "".join(specs):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any "
                               "input operand")
        if out.count(c) > 1:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
    size = {}
    for i, (s, t) in enumerate(zip(specs, operands)):
        for c, n in zip(s, t.shape):
            if size.get(c, 1) != 1 and n not in (1, size[c]):
                raise RuntimeError(f"einsum(): subscript {c} has size {n} for operand {i} which does not "
                                   f"broadcast with previously seen size {size[c]}")
            size[c] = n if size.get(c, 1) == 1 else size[c]
    return specs, out


def einsum(equation, *operands):
    """As torch.einsum: the sum of products the subscripts name (``...`` for broadcast dims,
    repeated letters for diagonals, an implicit output); a differentiable op whose backward is
    another einsum."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    specs, out = _einsum_specs(equation, operands)
    return Einsum.apply(*operands, specs=specs, out=out)


class Einsum(Op):
    @staticmethod
    def forward(ctx, *arrays, specs, out):
        ctx.specs, ctx.out = specs, out
        return backend.xp_of(arrays[0]).einsum(",".join(specs) + "->" + out, *arrays)

    @staticmethod
    def backward(ctx, g):
        return tuple(_einsum_grad(g, ctx.specs, ctx.out, ctx.inputs, i) if ctx.needs_input_grad[i] else None
                     for i in range(len(ctx.inputs)))


def _einsum_grad(g, specs, out, inputs, i):
    """The gradient of operand i: g contracted with the other operands onto the operand's distinct
    letters, summed over the dims it broadcast, expanded over the letters only it has, and put
    on the diagonals its repeated letters name."""
    spec, x = specs[i], inputs[i]
    others = [(s, t) for j, (s, t) in enumerate(zip(specs, inputs)) if j != i]
    present = set(out).union(*(s for s, _ in others))
    letters = "".join(dict.fromkeys(spec))
    kept = "".join(c for c in letters if c in present)
    grad = einsum(",".join([out] + [s for s, _ in others]) + "->" + kept, g, *[t for _, t in others])
    size = {c: x.shape[spec.index(c)] for c in letters}
    wide = tuple(k for k, c in enumerate(kept) if grad.shape[k] > size[c])
    if wide:  # letters this operand broadcast (size 1)
        grad = grad.sum(wide, keepdim=True)
    grad = grad.reshape(tuple(size[c] if c in kept and grad.shape[kept.index(c)] == size[c] else 1
                              for c in letters)).expand(tuple(size[c] for c in letters))
    if letters == spec:
        return grad
    # a repeated letter: each later occurrence gets a fresh letter tied to the first by an identity
    free = iter(c for c in string.ascii_letters if c not in "".join(specs) + out)
    full, eyes = [], []
    for c in spec:
        if c in full:
            fresh = next(free)
            eyes.append((c + fresh, eye(size[c], dtype=g.dtype, device=g.device)))
            full.append(fresh)
        else:
            full.append(c)
    return einsum(",".join([letters] + [s for s, _ in eyes]) + "->" + "".join(full), grad,
                  *[t for _, t in eyes])


@with_out
def cross(input, other, dim=None):
    """As torch.cross: the cross product along ``dim`` (size 3; when None, the first dim of size 3),
    input and other broadcast."""
    shape = np.broadcast_shapes(tuple(input.shape), tuple(other.shape))
    if dim is None:
        dim = next((d for d, n in enumerate(shape) if n == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = wrap_dim(dim, len(shape))
    if input.shape[d] != 3 or other.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got "
                           f"{input.shape[d]} and {other.shape[d]}")
    a, b = input.unbind(d), other.unbind(d)
    return stack([a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]], d)


def cdist(x1, x2, p=2.0):
    """As torch.cdist: the p-norm distances between the rows of x1 (..., n, d) and of x2
    (..., m, d), batch dims broadcast -> (..., n, m); the gradient at a zero distance is 0."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X{1 if x1.ndim < 2 else 2} got: "
                           f"{builtins.min(x1.ndim, x2.ndim)}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: "
                           f"{x2.shape[-1]}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    # the one p-norm op: its gradient at a zero distance is 0, as PyTorch's cdist
    return norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, -1)


@with_out
def tensordot(a, b, dims=2):
    """As torch.tensordot: a and b contracted over ``dims`` (the last n of a with the first n of b,
    or two lists of dims)."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da, db = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        da, db = [[wrap_dim(d, t.ndim) for d in (ds if isinstance(ds, (list, tuple)) else [ds])]
                  for ds, t in zip(dims, (a, b))]
    for i, j in zip(da, db):
        if a.shape[i] != b.shape[j]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[i]} in dim "
                               f"{i} and second has size {b.shape[j]} in dim {j}")
    sa = list(string.ascii_letters[:a.ndim])
    sb = list(string.ascii_letters[a.ndim:a.ndim + b.ndim])
    for i, j in zip(da, db):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in da] + [c for k, c in enumerate(sb) if k not in db]
    return einsum("".join(sa) + "," + "".join(sb) + "->" + "".join(out), a, b)


@with_out
def matrix_power(input, n):
    """As torch.matrix_power: the n-th power of square matrices (..., k, k), n >= 0 (n = 0: the
    identity); negative n (inverses) is not supported."""
    if input.ndim < 2 or input.shape[-1] != input.shape[-2]:
        raise RuntimeError("linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{' by '.join(map(str, input.shape[-2:]))} matrices")
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
