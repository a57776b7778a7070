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

# The public ops (``from .shape import *`` in ember.ops); helpers are imported by their module path.
__all__ = [
    "atleast_1d", "atleast_2d", "broadcast_shapes", "broadcast_tensors", "broadcast_to", "cat", "chunk", "clone",
    "concat", "concatenate", "diag", "diag_embed", "diagonal", "flatten", "flip", "fliplr", "flipud", "hstack",
    "meshgrid", "moveaxis", "movedim", "narrow", "permute", "ravel", "repeat_interleave", "reshape", "roll",
    "select", "split", "squeeze", "stack", "swapaxes", "swapdims", "t", "tensor_split", "tile", "trace",
    "transpose", "tril", "triu", "unbind", "unflatten", "unsqueeze", "vstack",
]


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
    """As torch.reshape: ``input``'s elements in ``shape`` (one size may be -1); a view when possible."""
    return _reshape(input, _shape_arg(shape))


def _reshape(input, shape: tuple):
    if input._data.shape == shape and not input.requires_grad:
        return input
    return Reshape.apply(input, shape=shape)


def view(input, *shape):
    """As torch.Tensor.view: ``input``'s elements in ``shape`` sharing its memory; raises when the
    strides do not allow it."""
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
    """As torch.Tensor.view_as: ``input`` viewed with ``other``'s shape."""
    return _reshape(input, other._data.shape)


def reshape_as(input, other):
    """As torch.Tensor.reshape_as: ``input`` reshaped to ``other``'s shape."""
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
    """As torch.permute: the view with dimension i of the result taken from dimension dims[i]."""
    dims = _shape_arg(dims)
    ndim = input._data.ndim
    if len(dims) != ndim:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = "
                           f"{ndim} is not equal to len(dims) = {len(dims)}")
    dims = _distinct_dims(dims, ndim, "permute(): duplicate dims are not allowed.")
    return Permute.apply(input, dims=dims)


def _distinct_dims(dims, ndim: int, message: str) -> tuple:
    """``dims`` wrapped into [0, ndim); a dim named twice raises RuntimeError(message)."""
    out = tuple(wrap_dim(d, ndim) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(message)
    return out


def transpose(input, dim0: int, dim1: int):
    """As torch.transpose: the view with dimensions dim0 and dim1 swapped."""
    ndim = input._data.ndim
    if ndim < 2 and dim0 in (0, -1) and dim1 in (0, -1):
        return input
    dims = list(range(ndim))
    a, b = wrap_dim(dim0, ndim), wrap_dim(dim1, ndim)
    dims[a], dims[b] = dims[b], dims[a]
    return Permute.apply(input, dims=tuple(dims))


swapaxes = swapdims = transpose


def t(input):
    """As torch.t: the transpose of a matrix; tensors of fewer dimensions are returned as they are."""
    if input.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input.ndim}D")
    return transpose(input, 0, 1) if input.ndim == 2 else input


def movedim(input, source, destination):
    """As torch.movedim: the view with dimensions ``source`` moved to ``destination``, the others
    keeping their order."""
    src = [source] if isinstance(source, int) else list(source)
    dst = [destination] if isinstance(destination, int) else list(destination)
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
                           f"the same number of dims as destination ({dst} dims)")
    src = _distinct_dims(src, input.ndim, f"movedim: repeated dim in `source` ({src})")
    dst = _distinct_dims(dst, input.ndim, f"movedim: repeated dim in `destination` ({dst})")
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
    """As torch.expand: the view broadcasting size-1 dimensions (and new leading ones) to ``sizes``;
    -1 keeps a dimension's size."""
    sizes = _shape_arg(sizes)
    lead = len(sizes) - input.ndim
    if lead < 0:
        raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal "
                           f"to the number of dimensions in the tensor ({input.ndim})")
    for i, s in enumerate(sizes[:lead]):
        if s < 0:
            raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                               f"non-existing dimension {i}")
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
    """As torch.Tensor.expand_as: ``input`` expanded to ``other``'s shape."""
    return expand(input, tuple(other.shape))


def broadcast_to(input, shape):
    """As torch.broadcast_to: ``input`` expanded to ``shape`` (a view)."""
    return expand(input, tuple(shape))


def broadcast_tensors(*tensors):
    """As torch.broadcast_tensors: each tensor expanded to the tensors' common broadcast shape."""
    shape = broadcast_shapes(*(tuple(t.shape) for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    """As torch.broadcast_shapes: the shape tensors of these shapes broadcast to."""
    try:
        return _Size(np.broadcast_shapes(*shapes))
    except ValueError:
        raise RuntimeError(f"shapes {[list(s) for s in shapes]} cannot be broadcast to one shape") from None


def squeeze(input, dim=None):
    """As torch.squeeze: the view without the size-1 dimensions (all, or those of ``dim``)."""
    shape = input._data.shape
    if dim is None:
        return _reshape(input, tuple([s for s in shape if s != 1]))
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = {wrap_dim(d, len(shape)) for d in dims} if shape else set()
    return _reshape(input, tuple([s for i, s in enumerate(shape) if not (i in dims and s == 1)]))


def unsqueeze(input, dim: int):
    """As torch.unsqueeze: the view with a size-1 dimension inserted at ``dim``."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape) + 1)
    return _reshape(input, shape[:d] + (1,) + shape[d:])


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    """As torch.flatten: dimensions start_dim..end_dim merged into one (a 0-d input becomes 1-d)."""
    shape = input._data.shape
    if not shape:
        return _reshape(input, (1,))
    s, e = wrap_dim(start_dim, len(shape)), wrap_dim(end_dim, len(shape))
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    return _reshape(input, shape[:s] + (math.prod(shape[s:e + 1]),) + shape[e + 1:])


def unflatten(input, dim: int, sizes):
    """As torch.unflatten: dimension ``dim`` split into ``sizes`` (one of them may be -1)."""
    shape = input._data.shape
    d = wrap_dim(dim, len(shape))
    sizes = tuple(sizes)
    if -1 not in sizes and math.prod(sizes) != shape[d]:
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shape[d]}) in the input tensor")
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def ravel(input):
    """As torch.ravel: the elements as one dimension, in row-major order."""
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
    """As torch.Tensor.contiguous: ``input`` itself if row-major contiguous, else a row-major copy."""
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
    """As torch.clone: a copy with the same shape, differentiable."""
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
    """``input`` converted to ``dtype`` (same shape), differentiable between floating dtypes."""
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
    """``input`` copied to device ``dev`` (same shape), differentiable."""
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
    """As torch.cat: the tensors joined along the existing dimension ``dim`` (1-d empty ones skipped)."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")
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
    """As torch.stack: equal-shaped tensors joined along a new dimension ``dim``."""
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
    """As torch.hstack: the tensors (made at least 1-d) joined along dim 1, or dim 0 when 1-d."""
    tensors = atleast_1d(tuple(tensors))
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


@with_out
def vstack(tensors):
    """As torch.vstack: the tensors (made at least 2-d) joined along dim 0."""
    return cat(atleast_2d(tuple(tensors)), 0)


def narrow(input, dim: int, start: int, length: int):
    """As torch.narrow: the view of ``length`` entries of ``dim`` from ``start`` (negative: from the end)."""
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if not -n <= start <= n:
        raise IndexError(f"start out of range (expected to be in range of [{-n}, {n}], but got {start})")
    start = start + n if start < 0 else start
    if length < 0:
        raise RuntimeError("narrow(): length must be non-negative.")
    if start + length > n:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({n}).")
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
        if size < 0 or (size == 0 and n):
            raise RuntimeError(f"split expects split_size be non-negative and only 0 if dimension size is 0, "
                               f"but got split_size={size} for dimension size {n}")
        sizes = [size] * (n // size) + ([n % size] if n % size else []) if n else [0]
    else:
        sizes = list(split_size_or_sections)
        if builtins_sum(sizes) != n:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
    return Split.apply(tensor, dim=d, sizes=tuple(sizes))


def builtins_sum(xs):
    """Python's sum of ints (the module's ``sum`` name is shadowed by the op when re-exported)."""
    total = 0
    for x in xs:
        total += x
    return total


def chunk(input, chunks: int, dim: int = 0):
    """As torch.chunk: at most ``chunks`` views of ceil(n / chunks) entries of ``dim`` (the last
    smaller); an empty dimension gives ``chunks`` empty views."""
    if chunks <= 0:
        raise RuntimeError(f"chunk expects `chunks` to be greater than 0, got: {chunks}")
    n = input.shape[wrap_dim(dim, input.ndim)]
    return split(input, -(-n // chunks) if n else [0] * chunks, dim)


def tensor_split(input, indices_or_sections, dim=0):
    """As torch.tensor_split: ``sections`` near-equal views of ``dim`` (the first n % sections one
    longer), or the views between the given indices (Python slice bounds: clamped, negative from the end)."""
    d = wrap_dim(dim, input.ndim)
    n = input.shape[d]
    if isinstance(indices_or_sections, Tensor):
        indices_or_sections = indices_or_sections.tolist()
    if isinstance(indices_or_sections, int):
        k = indices_or_sections
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        return split(input, [n // k + (1 if i < n % k else 0) for i in range(k)], d)
    bounds = [0, *indices_or_sections, n]
    pieces = [slice(a, b).indices(n)[:2] for a, b in zip(bounds[:-1], bounds[1:])]
    if all(a <= b for a, b in pieces) and all(p[1] == q[0] for p, q in zip(pieces, pieces[1:])):
        return split(input, [b - a for a, b in pieces], d)  # the pieces partition the dimension
    lead = (slice(None),) * d
    return tuple(input[lead + (slice(a, b),)] for a, b in pieces)


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
    """As torch.select: the view at ``index`` of ``dim``, without that dimension."""
    d = wrap_dim(dim, input.ndim)
    sl = [slice(None)] * input.ndim
    sl[d] = index
    return input[tuple(sl)]


class Flip(Op):
    needs_input_values = False

    @staticmethod
    def forward(ctx, x, dims):
        ctx.dims = dims
        return backend.xp_of(x).flip(x, axis=dims).copy()  # a copy, as in PyTorch (NumPy's is a view)

    @staticmethod
    def backward(ctx, g):
        return g.flip(ctx.dims)


def flip(input, *dims):
    """As torch.flip: a copy with the order of entries reversed along ``dims``."""
    dims = _shape_arg(dims)
    dims = _distinct_dims(dims, input.ndim, f"a dim appears multiple times in the list of dims {list(dims)}")
    return Flip.apply(input, dims=dims if input.ndim else ())  # a 0-d tensor has nothing to reverse


def fliplr(input):
    """As torch.fliplr: ``input`` (at least 2-d) reversed along dim 1."""
    if input.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


def flipud(input):
    """As torch.flipud: ``input`` (at least 1-d) reversed along dim 0."""
    if input.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


def roll(input, shifts, dims=None):
    """As torch.roll: entries shifted cyclically by ``shifts`` along ``dims`` (the flattened tensor
    when dims is None)."""
    if dims is None:
        return roll(input.reshape(-1), shifts, 0).reshape(tuple(input.shape))
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    dims = (dims,) if isinstance(dims, int) else tuple(dims)
    if len(shifts) != len(dims):
        raise RuntimeError(f"shifts and dimensions must align. shifts: {len(shifts)}, dims:{len(dims)}")
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
    """As torch.Tensor.repeat: ``input`` tiled sizes[i] times along each dimension (leading sizes
    add dimensions)."""
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
    """As torch.tile: repeat with ``dims`` padded with leading 1s to ``input``'s dimensions."""
    dims = tuple(dims)
    if len(dims) < input.ndim:
        dims = (1,) * (input.ndim - len(dims)) + dims
    return repeat(input, dims)


def repeat_interleave(input, repeats, dim=None):
    """As torch.repeat_interleave: each entry along ``dim`` (of the flattened tensor when None)
    repeated ``repeats`` times (an int, or one count per entry)."""
    if dim is None:
        input, dim = input.reshape(-1), 0
    d = wrap_dim(dim, input.ndim)
    if isinstance(repeats, Tensor) and repeats.ndim == 0:
        repeats = int(repeats.item())
    if isinstance(repeats, int) and repeats < 0:
        raise RuntimeError("Repeats must be non-negative")
    if isinstance(repeats, int):
        x = unsqueeze(input, d + 1)
        shape = list(x.shape)
        shape[d + 1] = repeats
        out = x.expand(tuple(shape))
        return flatten(out, d, d + 1)
    reps = backend.to_host(repeats._data)
    if reps.shape != (input.shape[d],):
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{reps.size} and input.size({d}) = {input.shape[d]}")
    if (reps < 0).any():
        raise RuntimeError("Repeats must be non-negative")
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
        raise RuntimeError(f"Padding length must be divisible by 2 and at most twice the input dims, got {len(pad)}")
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


def _check_matrix(input, name):
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input tensor must have at least 2 dimensions")


@with_out
def tril(input, diagonal: int = 0):
    """As torch.tril: the last two dimensions' entries above diagonal ``diagonal`` zeroed."""
    _check_matrix(input, "tril")
    return _Triangle.apply(input, diagonal=diagonal, upper=False)


@with_out
def triu(input, diagonal: int = 0):
    """As torch.triu: the last two dimensions' entries below diagonal ``diagonal`` zeroed."""
    _check_matrix(input, "triu")
    return _Triangle.apply(input, diagonal=diagonal, upper=True)


@with_out
def diag(input, diagonal: int = 0):
    """As torch.diag: 1-D input: a square matrix with ``input`` on the given diagonal; 2-D: that diagonal."""
    if input.ndim not in (1, 2):
        raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input.ndim}D")
    return diag_embed(input, diagonal) if input.ndim == 1 else diagonal_(input, diagonal)


def _diagonal_index(n: int, m: int, offset: int, like):
    """(rows, cols) index Tensors, on ``like``'s device, of diagonal ``offset`` of an (n, m) plane."""
    i = np.arange(max(0, min(n, m - offset) if offset >= 0 else min(n + offset, m)))
    rows, cols = (i, i + offset) if offset >= 0 else (i - offset, i)
    xp = backend.xp_of(like._data)
    return tuple(Tensor._make(xp.asarray(v.astype(np.int64))) for v in (rows, cols))


def _plane_dims(dim1, dim2, ndim):
    d1, d2 = wrap_dim(dim1, ndim), wrap_dim(dim2, ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return d1, d2


def diagonal_(input, offset=0, dim1=0, dim2=1):
    """As torch.diagonal: diagonal ``offset`` of the (dim1, dim2) planes, as the last dimension."""
    d1, d2 = _plane_dims(dim1, dim2, input.ndim)
    x = movedim(input, (d1, d2), (-2, -1))
    rows, cols = _diagonal_index(x.shape[-2], x.shape[-1], offset, input)
    return x[..., rows, cols]  # adjacent index tensors: the diagonal stays the last dimension


diagonal = diagonal_


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    """As torch.diag_embed: a tensor with one more dimension whose (dim1, dim2) planes hold the last
    dimension of ``input`` on diagonal ``offset``, zeros elsewhere."""
    d1, d2 = _plane_dims(dim1, dim2, input.ndim + 1)
    n = input.shape[-1] + builtins_abs(offset)
    zeros = Tensor._make(backend.xp_of(input._data).zeros(tuple(input.shape[:-1]) + (n, n), dtype=input._data.dtype))
    rows, cols = _diagonal_index(n, n, offset, input)
    return movedim(zeros.index_put((Ellipsis, rows, cols), input), (-2, -1), (d1, d2))


def builtins_abs(v):
    """Python's abs of an int (the op ``abs`` shadows it when re-exported)."""
    return v if v >= 0 else -v


def trace(input):
    """As torch.trace: the sum of a matrix's main diagonal."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim}")
    return diagonal_(input).sum()


def meshgrid(*tensors, indexing: str = "ij"):
    """As torch.meshgrid: 0-d/1-d tensors expanded to the grid of their sizes (``indexing="xy"``
    swaps the first two grid dimensions)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a "
                               f"{t.ndim}D tensor")
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


def _each(tensors, fn):
    """fn of one tensor, or the tuple of fn of several (given separately or as one sequence)."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1:
        tensors = tuple(tensors[0])
    return tuple(fn(t) for t in tensors)


def atleast_1d(*tensors):
    """As torch.atleast_1d: 0-d tensors viewed as 1-d, the others unchanged."""
    return _each(tensors, lambda t: t.reshape(1) if t.ndim == 0 else t)


def atleast_2d(*tensors):
    """As torch.atleast_2d: tensors of fewer than 2 dimensions viewed as (1, n), the others unchanged."""
    return _each(tensors, lambda t: t.reshape(1, -1) if t.ndim < 2 else t)
