"""Tensor factories (``tensor``, ``zeros``, ``arange``, ``randn``, ...) and in-place random fills.
Random draws come from ``ember.random`` so ``ember.manual_seed`` makes them reproducible."""
from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype, backend
from .. import random as _random
from .._device import CPU, device
from ..autograd import grad_mode
from ..tensor import Tensor
from ._util import with_out

# The public ops (``from .creation import *`` in ember.ops); helpers are imported by their module path.
__all__ = [
    "arange", "as_tensor", "asarray", "bernoulli", "empty", "empty_like", "eye", "from_dlpack", "from_numpy",
    "full", "full_like", "linspace", "logspace", "multinomial", "normal", "ones", "ones_like", "poisson", "rand",
    "rand_like", "randint", "randint_like", "randn", "randn_like", "randperm", "tensor", "tril_indices",
    "triu_indices", "zeros", "zeros_like",
]


def _dev(d) -> device:
    if d is None:
        return CPU
    return d if isinstance(d, device) else (device("cuda", d) if isinstance(d, int) else device(d))


def _finish(arr, dtype, dev, requires_grad):
    dt = _dtype.to_dtype(dtype).np if dtype is not None else None
    if dt is not None and arr.dtype != dt:
        arr = arr.astype(dt)
    dev = _dev(dev)
    if dev.type == "cuda":
        arr = backend.to_device_array(arr, dev)
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _infer(data):
    """NumPy array for nested Python data, with PyTorch's dtype inference."""
    if isinstance(data, Tensor):
        return backend.to_host(data._data)
    if isinstance(data, np.ndarray):
        return data
    if isinstance(data, (list, tuple)):
        flat = _flatten(data)
        if any(isinstance(v, Tensor) for v in flat):
            data = _replace_tensors(data)
            flat = _flatten(data)
        if flat and all(isinstance(v, (bool, np.bool_)) for v in flat):
            return np.array(data, dtype=np.bool_)
        if flat and all(isinstance(v, (numbers.Integral, np.integer)) for v in flat):
            return np.array(data, dtype=np.int64)
        if not flat:
            return np.array(data, dtype=_dtype.get_default_dtype().np)
        arr = np.array(data)
        if arr.dtype.kind == "f" and not any(isinstance(v, np.floating) and v.dtype == np.float64
                                             for v in flat if isinstance(v, np.generic)):
            arr = arr.astype(_dtype.get_default_dtype().np)
        return arr
    if isinstance(data, (bool, np.bool_)):
        return np.array(data, dtype=np.bool_)
    if isinstance(data, (numbers.Integral,)):
        return np.array(data, dtype=np.int64)
    if isinstance(data, float):
        return np.array(data, dtype=_dtype.get_default_dtype().np)
    if isinstance(data, np.generic):
        return np.array(data)
    if hasattr(data, "__array__") or hasattr(data, "__cuda_array_interface__"):
        return data if backend.is_cuda_array(data) else np.asarray(data)
    raise TypeError(f"tensor(): could not infer dtype of {type(data).__name__}")


def _flatten(data):
    out, stack = [], [data]
    while stack:
        v = stack.pop()
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        else:
            out.append(v)
    return out


def _replace_tensors(data):
    if isinstance(data, Tensor):
        return data.tolist()
    if isinstance(data, (list, tuple)):
        return [_replace_tensors(v) for v in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad: bool = False, pin_memory=False) -> Tensor:
    """A new tensor holding a copy of ``data`` (nested lists, NumPy arrays, scalars, tensors).
    ``pin_memory`` is accepted as a no-op: pinning only speeds host-to-GPU copies up, and Ember's
    host arrays go through CuPy's own staging (as ``Tensor.pin_memory`` returns ``self``)."""
    arr = _infer(data)
    arr = arr.copy()
    if dtype is None and isinstance(data, Tensor):
        dtype = data.dtype
    return _finish(arr, dtype, device if device is not None else (
        data.device if isinstance(data, Tensor) else None), requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with NumPy arrays and tensors when it can."""
    if isinstance(data, Tensor):
        return data.to(device=device, dtype=dtype) if (dtype or device) else data
    arr = _infer(data)
    return _finish(arr, dtype, device, False)


asarray = as_tensor


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``ndarray`` (writes show through both ways)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return Tensor._make(ndarray)


def from_dlpack(ext) -> Tensor:
    """A tensor sharing memory with a DLPack-capable array (NumPy, CuPy, ...), as ``torch.from_dlpack``."""
    dev_type, _ = ext.__dlpack_device__()
    if int(dev_type) == 2:  # kDLCUDA
        cp = backend.require_cuda()
        return Tensor._make(cp.from_dlpack(ext))
    return Tensor._make(np.from_dlpack(ext))


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    return tuple(int(s) for s in size)


def _xp(dev):
    return backend.xp_for_device(_dev(dev))


def _default(dtype):
    return (_dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()).np


def _make(arr, requires_grad):
    t = Tensor._make(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


@with_out(factory=True)
def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of the given size (ints or one sequence) filled with 0, as ``torch.zeros``."""
    return _make(_xp(device).zeros(_size(size), dtype=_default(dtype)), requires_grad)


@with_out(factory=True)
def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of the given size filled with 1, as ``torch.ones``."""
    return _make(_xp(device).ones(_size(size), dtype=_default(dtype)), requires_grad)


@with_out(factory=True)
def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An uninitialised tensor of the given size, as ``torch.empty``."""
    return _make(_xp(device).empty(_size(size), dtype=_default(dtype)), requires_grad)


@with_out(factory=True)
def full(size, fill_value, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A tensor of ``size`` filled with ``fill_value``; the dtype follows the value (bool, int64 or the default
    float), as ``torch.full``."""
    if dtype is None:
        dtype = (_dtype.bool if isinstance(fill_value, bool) else
                 _dtype.int64 if isinstance(fill_value, numbers.Integral) else _dtype.get_default_dtype())
    return _make(_xp(device).full(_size((size,)), fill_value,
                                  dtype=_default(dtype)), requires_grad)


def _like(fn, input, dtype, device, requires_grad, *args):
    return fn(tuple(input.shape), *args, dtype=dtype or input.dtype, device=device or input.device,
              requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    """Zeros of ``input``'s shape, dtype and device unless given, as ``torch.zeros_like``."""
    return _like(zeros, input, dtype, device, requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    """Ones of ``input``'s shape, dtype and device unless given, as ``torch.ones_like``."""
    return _like(ones, input, dtype, device, requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    """An uninitialised tensor of ``input``'s shape, dtype and device unless given, as ``torch.empty_like``."""
    return _like(empty, input, dtype, device, requires_grad)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    """``fill_value`` in ``input``'s shape, dtype and device unless given, as ``torch.full_like``."""
    return full(tuple(input.shape), fill_value, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


@with_out(factory=True)
def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """1-D values ``start, start + step, ...`` below ``end`` (``arange(n)`` is ``0..n-1``); int64 when all arguments
    are ints, as ``torch.arange``."""
    if end is None:
        start, end = 0, start
    vals = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    if dtype is None:
        dtype = _dtype.int64 if all(isinstance(v, numbers.Integral) for v in vals) else _dtype.get_default_dtype()
    if vals[2] == 0:
        raise RuntimeError("step must be nonzero")
    arr = np.arange(vals[0], vals[1], vals[2], dtype=np.float64 if _dtype.to_dtype(dtype).is_floating_point else None)
    return _finish(arr, dtype, device, requires_grad)


@with_out(factory=True)
def range_(start, end, step=1, *, dtype=None, device=None):
    # end is included: half a step past it (either sign of step) is the exclusive bound of arange
    """``ember.range``: 1-D values from ``start`` to ``end`` inclusive by ``step`` (default float dtype), as the
    deprecated ``torch.range``."""
    return arange(start, end + step / 2, step, dtype=dtype or _dtype.get_default_dtype(), device=device)


@with_out(factory=True)
def linspace(start, end, steps: int, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive, as ``torch.linspace``."""
    return _finish(np.linspace(start, end, steps), dtype or _dtype.get_default_dtype(), device, requires_grad)


@with_out(factory=True)
def logspace(start, end, steps: int, base=10.0, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """``steps`` values ``base ** x`` for ``x`` evenly spaced from ``start`` to ``end``, as ``torch.logspace``."""
    return _finish(np.logspace(start, end, steps, base=base), dtype or _dtype.get_default_dtype(), device,
                   requires_grad)


@with_out(factory=True)
def eye(n: int, m: int | None = None, *, dtype=None, device=None, requires_grad=False) -> Tensor:
    """An ``(n, m)`` matrix (``m`` defaults to ``n``) with ones on the diagonal, as ``torch.eye``."""
    return _make(_xp(device).eye(n, m, dtype=_default(dtype)), requires_grad)


def tril_indices(row, col, offset=0, *, dtype=None, device=None):
    """The ``(2, N)`` row/column indices of the lower triangle of a ``row x col`` matrix, as ``torch.tril_indices``."""
    r, c = np.tril_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(np.int64), dtype, device, False)


def triu_indices(row, col, offset=0, *, dtype=None, device=None):
    """The ``(2, N)`` row/column indices of the upper triangle of a ``row x col`` matrix, as ``torch.triu_indices``."""
    r, c = np.triu_indices(row, offset, col)
    return _finish(np.stack([r, c]).astype(np.int64), dtype, device, False)


# ---- random --------------------------------------------------------------------------------------
@with_out(factory=True)
def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples from ``[0, 1)`` of the given size, as ``torch.rand``."""
    arr = _random.random_array("uniform", _size(size), _default(dtype), _dev(device), generator)
    return _make(arr, requires_grad)


@with_out(factory=True)
def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples of the given size, as ``torch.randn``."""
    arr = _random.random_array("normal", _size(size), _default(dtype), _dev(device), generator)
    return _make(arr, requires_grad)


@with_out(factory=True)
def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Integer samples uniform in ``[low, high)`` of shape ``size`` (int64 by default), as ``torch.randint``."""
    if high is None:
        low, high = 0, low
    if size is None:
        raise TypeError("randint() missing required argument 'size'")
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = _dtype.to_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    arr = _random.random_array("integers", tuple(size), dt, _dev(device), generator, low=low, high=high)
    return _make(arr, requires_grad)


@with_out(factory=True)
def randperm(n: int, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """A random permutation of ``0..n-1`` (int64 by default), as ``torch.randperm``."""
    dt = _dtype.to_dtype(dtype).np if dtype is not None else np.dtype(np.int64)
    return _make(_random.random_array("permutation", (n,), dt, _dev(device), generator, n=n), requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    """``rand`` in ``input``'s shape, dtype and device unless given, as ``torch.rand_like``."""
    return rand(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    """``randn`` in ``input``'s shape, dtype and device unless given, as ``torch.randn_like``."""
    return randn(tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad)


def randint_like(input, low=0, high=None, *, dtype=None, device=None):
    """``randint`` in ``input``'s shape, dtype and device unless given, as ``torch.randint_like``."""
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype, device=device or input.device)


@with_out(factory=True)
def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, device=None, requires_grad=False):
    """Normal samples: tensor ``mean``/``std`` broadcast together, or scalars with ``size``, as ``torch.normal``."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        noise = randn(tuple(np.broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))),
                      generator=generator, dtype=ref.dtype, device=ref.device)
        return (mean + std * noise).detach()
    arr = _random.random_array("normal", tuple(size), _default(dtype), _dev(device), generator, mean=mean, std=std)
    return _make(arr, requires_grad)


@with_out
def bernoulli(input, p=None, *, generator=None) -> Tensor:
    """0/1 samples, 1 with probability ``input`` (or ``p``), in ``input``'s shape and dtype, as ``torch.bernoulli``."""
    probs = input._data if p is None else p
    u = _random.random_array("uniform", tuple(input.shape), input._data.dtype, input.device, generator)
    return Tensor._make((u < probs).astype(input._data.dtype))


@with_out
def multinomial(input, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """``num_samples`` category indices per row of the (unnormalised) probabilities ``input`` (1-D or 2-D), as
    ``torch.multinomial``."""
    probs = backend.to_host(input._data).astype(np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    if (rows < 0).any() or not np.isfinite(rows).all():
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rng = _random.numpy_generator(generator)
    out = np.empty((rows.shape[0], num_samples), dtype=np.int64)
    for r, row in enumerate(rows):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if not replacement and num_samples > np.count_nonzero(row):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        out[r] = rng.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    out = out.reshape(probs.shape[:-1] + (num_samples,))
    return Tensor._make(backend.to_device_array(out, input.device))


def poisson(input, generator=None):
    """Poisson samples with rates ``input``, in ``input``'s shape and dtype, as ``torch.poisson``."""
    rng = _random.numpy_generator(generator)
    out = rng.poisson(backend.to_host(input._data)).astype(input._data.dtype)
    return Tensor._make(backend.to_device_array(out, input.device))


def _check_fill(t):
    if grad_mode.is_grad_enabled() and t.requires_grad and t.is_leaf:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")


def random_fill_(t: Tensor, kind, generator, **params) -> Tensor:
    """Fills ``t`` in place with draws of ``kind`` (``ember.random.random_array``); behind
    ``Tensor.uniform_``/``normal_``/``random_``."""
    _check_fill(t)
    t._data[...] = _random.random_array(kind, tuple(t.shape), t._data.dtype, t.device, generator, **params)
    t._version += 1
    return t


def bernoulli_(t, p, generator):
    """Fills ``t`` in place with 0/1, 1 with probability ``p``, as ``Tensor.bernoulli_``."""
    _check_fill(t)
    probs = p._data if isinstance(p, Tensor) else p
    u = _random.random_array("uniform", tuple(t.shape), np.float64, t.device, generator)
    t._data[...] = (u < probs)
    t._version += 1
    return t


def exponential_(t, lambd, generator):
    """Fills ``t`` in place with exponential samples of rate ``lambd``, as ``Tensor.exponential_``."""
    _check_fill(t)
    u = _random.random_array("uniform", tuple(t.shape), np.float64, t.device, generator)
    t._data[...] = -backend.xp_of(u).log1p(-u) / lambd
    t._version += 1
    return t


def geometric_(t, p, generator):
    """Fills ``t`` in place with geometric samples (trials to first success, probability ``p``), as
    ``Tensor.geometric_``."""
    _check_fill(t)
    u = _random.random_array("uniform", tuple(t.shape), np.float64, t.device, generator)
    xp = backend.xp_of(u)
    t._data[...] = xp.ceil(xp.log1p(-u) / np.log1p(-p))
    t._version += 1
    return t


def log_normal_(t, mean, std, generator):
    """Fills ``t`` in place with ``exp`` of normal(``mean``, ``std``) samples, as ``Tensor.log_normal_``."""
    _check_fill(t)
    z = _random.random_array("normal", tuple(t.shape), np.float64, t.device, generator, mean=mean, std=std)
    t._data[...] = backend.xp_of(z).exp(z)
    t._version += 1
    return t


def cauchy_(t, median, sigma, generator):
    """Fills ``t`` in place with Cauchy(``median``, ``sigma``) samples, as ``Tensor.cauchy_``."""
    _check_fill(t)
    u = _random.random_array("uniform", tuple(t.shape), np.float64, t.device, generator)
    t._data[...] = median + sigma * backend.xp_of(u).tan(np.pi * (u - 0.5))
    t._version += 1
    return t
