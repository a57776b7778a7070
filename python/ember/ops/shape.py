"""Shape and layout ops: views (reshape, permute, expand, ...) share memory with their input like
NumPy/PyTorch views; joins and splits (cat, stack, split), flip, repeat, pad, tril/triu, diag;
and the device/dtype moves (which are differentiable)."""
from __future__ import annotations

import math

import numpy as np

from .. import backend
from .._dtype import from_numpy_dtype
from ..autograd.function import Op
from ..tensor import Size as _Size  # (private: ember.ops re-exports this module's names)
from ..tensor import Tensor
from ._util import check_same_device, result_dtype, sum_to, with_out, wrap_dim


def _shape_arg(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(map(int, shape))


class Reshape(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        try:
            return x.reshape(shape)
        except ValueError:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {x.size}") from None

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.in_shape)


def reshape(input, *shape):
    return _reshape(input, _shape_arg(shape))


def _reshape(input, shape: tuple):
    if input._data.shape == shape and not input.requires_grad:
        return input
    return Reshape.apply(input, shape=shape)


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, int)) and hasattr(shape[0], "np"):
        return input.to(shape[0])  # view(dtype) reinterprets in PyTorch; a cast is the honest subset
    shape = _shape_arg(shape)
    if not input._data.flags.c_contiguous and input._data.size > 1:
        try:
            # NumPy makes a copy when strides are incompatible; PyTorch raises, so we do too.
            input._data.view().shape = shape
        except (AttributeError, ValueError):
            raise RuntimeError("view size is not compatible with input tensor's size and stride (at least "
                               "one dimension spans across two contiguous subspaces). Use .reshape(...) "
                               "instead.") from None
    return _reshape(input, shape)


def view_as(input, other):
    return _reshape(input, other._data.shape)


def reshape_as(input, other):
    return _reshape(input, other._data.shape)


class Permute(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return x.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        inverse = [0] * len(ctx.dims)
        for i, d in enumerate(ctx.dims):
            inverse[d] = i
        return Permute.apply(g, dims=tuple(inverse))


def permute(input, *dims):
    dims = _shape_arg(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{ndim} is not equal to len(dims) = {len(dims)}")
    return Permute.apply(input, dims=tuple([wrap_dim(d, ndim) for d in dims]))


def transpose(input, dim0: int, dim1: int):
    ndim = input._data.ndim
    if ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    dims = list(range(ndim))
    a, b = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, dims=tuple(dims))


swapaxes = swapdims = transpose


def t(input):
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input, source, destination):
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    src = [wrap_dim(s, input.ndim) for s in src]
    dst = [wrap_dim(d, input.ndim) for d in dst]
    order = [d for d in range(input.ndim) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


class Expand(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, shape):
        ctx.in_shape = x.shape
        return backend.xp_of(x).broadcast_to(x, shape)

    @staticmethod
    def backward(ctx, g):
        return sum_to(g, ctx.in_shape)


def expand(input, *sizes):
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({input.ndim})")
    shape = tuple(input.shape[i - lead] if s == -1 else s for i, s in enumerate(sizes))
    for i, s in enumerate(shape[lead:]):
        if input.shape[i] not in (1, s):
            raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                               f"({input.shape[i]}) at non-singleton dimension {i + lead}.  Target sizes: "
                               f"{list(sizes)}.  Tensor sizes: {list(input.shape)}")
    if shape == tuple(input.shape):
        return input
    return Expand.apply(input, shape=shape)


def expand_as(input, other):
    return expand(input, tuple(other.shape))


def broadcast_to(input, shape):
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    return _Size(np.broadcast_shapes(*shapes))


def squeeze(input, dim=None):
    shape = input._data.shape
    if dim is None:
        return _reshape(input, tuple([s for s in shape if s != 1]))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = {wrap_dim(d, len(shape)) for d in dims} if shape else set()
    return _reshape(input, tuple([s for i, s in enumerate(shape) if not (i in dims and s == 1)]))


def unsqueeze(input, dim: int):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1)
    return _reshape(input, shape[:d] + (1,) + shape[d:])


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    shape = input._data.shape
    if not shape:
        return _reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return _reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim: int, sizes):
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    return reshape(input, shape[:d] + tuple(sizes) + shape[d + 1:])


def ravel(input):
    return _reshape(input, (-1,))


class Contiguous(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x):
        return backend.xp_of(x).ascontiguousarray(x)

    @staticmethod
    def backward(ctx, g):
        return g


def contiguous(input):
    return input if input._data.flags.c_contiguous else Contiguous.apply(input)


class Clone(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x):
        return x.copy()

    @staticmethod
    def backward(ctx, g):
        return g


def clone(input):
    return Clone.apply(input)


class Cast(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dtype):
        ctx.in_dtype = x.dtype
        return x.astype(dtype)

    @staticmethod
    def backward(ctx, g):
        if ctx.in_dtype.kind != "f":
            return None
        return g.to(from_numpy_dtype(ctx.in_dtype))


def cast(input, dtype):
    return Cast.apply(input, dtype=dtype.np)


class ToDevice(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dev):
        ctx.src = "cuda" if backend.is_cuda_array(x) else "cpu"
        return backend.to_device_array(x, dev)

    @staticmethod
    def backward(ctx, g):
        return g.to(ctx.src)


def to_device(input, dev):
    return ToDevice.apply(input, dev=dev)


# ---- joins and splits ---------------------------------------------------------------------------
class Cat(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, dim, *xs):
        ctx.dim = dim
        ctx.sizes = [x.shape[dim] for x in xs]
        return backend.xp_of(xs[0]).concatenate(xs, axis=dim)

    @staticmethod
    def backward(ctx, g):
        out, start = [None], 0
        for i, size in enumerate(ctx.sizes):
            out.append(g.narrow(ctx.dim, start, size) if ctx.needs_input_grad[i + 1] else None)
            start += size
        return tuple(out)


@with_out
def cat(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    check_same_device(*tensors)
    # legacy behaviour: 1-D empty tensors are skipped
    tensors = [t for t in tensors if not (t.ndim == 1 and t.shape[0] == 0)] or tensors[:1]
    ndim = tensors[0].ndim
    if ndim == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, ndim)
    for i, t in enumerate(tensors):
        if t.ndim != ndim or any(a != b for j, (a, b) in enumerate(zip(t.shape, tensors[0].shape)) if j != d):
            raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                               f"{list(tensors[0].shape)} but got size {list(t.shape)} for tensor number "
                               f"{i} in the list.")
    dt = result_dtype(*tensors)
    tensors = [t if t._data.dtype == dt else t.to(from_numpy_dtype(dt)) for t in tensors]
    return Cat.apply(d, *tensors)


concat = concatenate = cat


@with_out
def stack(tensors, dim: int = 0):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    for i, t in enumerate(tensors):
        if tuple(t.shape) != tuple(tensors[0].shape):
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(tensors[0].shape)} "
                               f"at entry 0 and {list(t.shape)} at entry {i}")
    d = wrap_dim(dim, tensors[0].ndim + 1)
    return cat([unsqueeze(t, d) for t in tensors], d)


@with_out
def hstack(tensors):
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@with_out
def vstack(tensors):
    return cat([t.reshape(1, -1) if t.ndim == 1 else t for t in tensors], 0)


def narrow(input, dim: int, start: int, length: int):
    d = wrap_dim(dim, input.ndim)
    sl = [slice(None)] * input.ndim
    sl[d] = slice(start, start + length)
    return input[tuple(sl)]


class Split(Op):
    """Consecutive pieces of x along ``dim`` (views), as one op: its backward concatenates the
    pieces' gradients (zeros for pieces that got none), where one slice per piece would each
    scatter into a zero tensor of the full size (O(pieces * size) for an RNN's per-step rows)."""

    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dim, sizes):
        ctx.dim = dim
        lead = (slice(None),) * dim
        out, start = [], 0
        for s in sizes:
            out.append(x[lead + (slice(start, start + s),)])
            start += s
        return tuple(out)

    @staticmethod
    def backward(ctx, *grads):
        return cat(grads, ctx.dim)


def split(tensor, split_size_or_sections, dim: int = 0):
    """Pieces of ``split_size_or_sections`` (an int: equal pieces, the last smaller) along ``dim``,
    as views."""
    d = wrap_dim(dim, tensor.ndim)
    n = tensor.shape[d]
    if isinstance(split_size_or_sections, int):
        size = split_size_or_sections
        sizes = [size] * (n // size) + ([n % size] if n % size else [])
        if n == 0:
            sizes = [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins_sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
    return Split.apply(tensor, dim=d, sizes=tuple(sizes))


def builtins_sum(xs):
    total = 0
    for x in xs:
        total += x
    return total


def chunk(input, chunks: int, dim: int = 0):
    n = input.shape[wrap_dim(dim, input.ndim)]
    size = -(-n // chunks) if n else 1
    return split(input, size, dim)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        sizes = [n // k + (1 if i < n % k else 0) for i in range(k)]
    else:
        idx = [0] + list(indices_or_sections) + [n]
        sizes = [max(0, b - a) for a, b in zip(idx[:-1], idx[1:])]
    return split(input, sizes, d)


class Unbind(Op):
    """The slices of x along ``dim`` (views), as one op: its backward stacks the slices'
    gradients into one array, where one ``select`` per slice would each scatter into a zero
    tensor of the full size (``q, k, v = qkv`` costs three full-size gradients otherwise)."""

    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dim):
        ctx.dim = dim
        lead = (slice(None),) * dim
        return tuple(x[lead + (i,)] for i in range(x.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.dim), None


def unbind(input, dim: int = 0):
    """The tuple of slices of ``input`` along ``dim`` (views), e.g. (3, B, T) -> three (B, T)."""
    if input.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    return Unbind.apply(input, wrap_dim(dim, input.ndim))


def select(input, dim: int, index: int):
    d = wrap_dim(dim, input.ndim)
    sl = [slice(None)] * input.ndim
    sl[d] = index
    return input[tuple(sl)]


class Flip(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return backend.xp_of(x).flip(x, axis=dims)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dims)


def flip(input, *dims):
    dims = _shape_arg(dims)
    return Flip.apply(input, dims=tuple(wrap_dim(d, input.ndim) for d in dims))


def fliplr(input):
    return flip(input, 1)


def flipud(input):
    return flip(input, 0)


def roll(input, shifts, dims=None):
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(tuple(input.shape))
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    out = input
    for s, d in zip(shifts, dims):
        d = wrap_dim(d, input.ndim)
        n = input.shape[d]
        if n == 0:
            continue
        s %= n
        if s:
            out = cat([narrow(out, d, n - s, s), narrow(out, d, 0, n - s)], d)
    return out


def repeat(input, *sizes):
    sizes = _shape_arg(sizes)
    if len(sizes) < input.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of "
                           "dimensions of tensor")
    x = input.reshape((1,) * (len(sizes) - input.ndim) + tuple(input.shape))
    # repeat = expand over new interleaved axes, then merge: differentiable through expand/reshape
    inter = []
    exp = []
    for r, s in zip(sizes, x.shape):
        inter += [1, s]
        exp += [r, s]
    out = x.reshape(tuple(inter)).expand(tuple(exp))
    return out.reshape(tuple(r * s for r, s in zip(sizes, x.shape)))


def tile(input, dims):
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats, dim=None):
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = wrap_dim(dim, input.ndim)
    if isinstance(repeats, int):
        x = unsqueeze(input, d + 1)
        shape = list(x.shape)
        shape[d + 1] = repeats
        out = x.expand(tuple(shape))
        return flatten(out, d, d + 1)
    reps = backend.to_host(repeats._data)
    idx = np.repeat(np.arange(input.shape[d]), reps)
    return input.index_select(d, Tensor._make(backend.to_device_array(idx, input.device)))


class ConstantPad(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, pad_width, value):
        ctx.slices = tuple(slice(lo, lo + n) for (lo, _), n in zip(pad_width, x.shape))
        return backend.xp_of(x).pad(x, pad_width, mode="constant", constant_values=value)

    @staticmethod
    def backward(ctx, g):
        return g[ctx.slices]


def pad(input, pad, mode: str = "constant", value=None):
    """``F.pad``: ``pad`` lists (left, right) pairs starting from the LAST dimension.
    Negative padding crops. Modes: constant, reflect, replicate, circular."""
    if len(pad) % 2 or len(pad) // 2 > input.ndim:
        raise ValueError(f"Padding length must be divisible by 2 and at most twice the input dims, got {len(pad)}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    out = input
    if any(lo < 0 or hi < 0 for lo, hi in widths):  # crop first
        sl = tuple(slice(-lo if lo < 0 else 0, (n + hi) if hi < 0 else n) for (lo, hi), n in zip(widths, input.shape))
        out = out[sl]
        widths = [(max(lo, 0), max(hi, 0)) for lo, hi in widths]
    if mode == "constant":
        return ConstantPad.apply(out, pad_width=tuple(widths), value=0 if value is None else value)
    # reflect / replicate / circular: gather with an index per padded dimension (differentiable)
    for d, (lo, hi) in enumerate(widths):
        if lo == 0 and hi == 0:
            continue
        n = out.shape[d]
        pos = np.arange(-lo, n + hi)
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise RuntimeError(f"Padding size should be less than the corresponding input dimension, but "
                                   f"got: padding ({lo}, {hi}) at dimension {d} of input {list(input.shape)}")
            period = 2 * (n - 1) if n > 1 else 1
            pos = np.abs(pos) % period
            pos = np.where(pos >= n, period - pos, pos)
        elif mode == "replicate":
            pos = np.clip(pos, 0, n - 1)
        elif mode == "circular":
            pos = pos % n
        else:
            raise NotImplementedError(f"pad mode '{mode}' is not supported")
        out = out.index_select(d, Tensor._make(backend.to_device_array(pos.astype(np.int64), out.device)))
    return out


class _Triangle(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, diagonal, upper):
        ctx.diagonal, ctx.upper = diagonal, upper
        xp = backend.xp_of(x)
        return (xp.triu if upper else xp.tril)(x, diagonal)

    @staticmethod
    def backward(ctx, g):
        return triu(g, ctx.diagonal) if ctx.upper else tril(g, ctx.diagonal)


@with_out
def tril(input, diagonal: int = 0):
    return _Triangle.apply(input, diagonal=diagonal, upper=False)


@with_out
def triu(input, diagonal: int = 0):
    return _Triangle.apply(input, diagonal=diagonal, upper=True)


@with_out
def diag(input, diagonal: int = 0):
    """1-D input: a square matrix with ``input`` on the given diagonal; 2-D: that diagonal."""
    if input.ndim == 1:
        n = input.shape[0] + builtins_abs(diagonal)
        i = np.arange(input.shape[0])
        rows, cols = (i, i + diagonal) if diagonal >= 0 else (i - diagonal, i)
        zeros = Tensor._make(backend.xp_of(input._data).zeros((n, n), dtype=input._data.dtype))
        as_index = [Tensor._make(backend.to_device_array(v.astype(np.int64), input.device)) for v in (rows, cols)]
        return zeros.index_put(tuple(as_index), input)
    return diagonal_(input, diagonal)


def builtins_abs(v):
    return v if v >= 0 else -v


def diagonal_(input, offset=0, dim1=0, dim2=1):
    xp = backend.xp_of(input._data)
    n = input.shape[dim1]
    m = input.shape[dim2]
    i = np.arange(max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m)))
    rows = i if offset >= 0 else i - offset
    cols = i + offset if offset >= 0 else i
    idx = [slice(None)] * input.ndim
    idx[dim1] = Tensor._make(xp.asarray(rows.astype(np.int64)))
    idx[dim2] = Tensor._make(xp.asarray(cols.astype(np.int64)))
    return input[tuple(idx)]


diagonal = diagonal_


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input.shape[-1]
    xp = backend.xp_of(input._data)
    eye = Tensor._make(xp.eye(n, dtype=input._data.dtype))
    return input.unsqueeze(-1) * eye


def trace(input):
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal_(input).sum()


def meshgrid(*tensors, indexing: str = "ij"):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = tuple(t.numel() for t in tensors)
    if indexing == "xy" and len(tensors) >= 2:
        shape = (shape[1], shape[0]) + shape[2:]
    out = []
    for i, t in enumerate(tensors):
        pos = i
        if indexing == "xy" and len(tensors) >= 2 and i < 2:
            pos = 1 - i
        s = [1] * len(shape)
        s[pos] = t.numel()
        out.append(t.reshape(tuple(s)).expand(shape))
    return tuple(out)


def atleast_1d(t):
    return t.reshape(1) if t.ndim == 0 else t


def atleast_2d(t):
    return t.reshape(1, -1) if t.ndim < 2 else t
