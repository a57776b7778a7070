"""Ember: a readable deep-learning library with PyTorch's API over hand-written C++/CUDA kernels.

``import ember as torch`` lets textbook PyTorch code run unchanged: tensors with autograd
(``ember.Tensor``), ``ember.nn``, ``ember.optim``, ``ember.utils.data``, and CUDA through CuPy.

The public names are PyTorch's (``torch.X`` for each ``ember.X``) plus these deliberate Ember extras:
``ember.backend`` (the NumPy/CuPy array layer the kernels run on) and the optional packages
``ember.vision``, ``ember.text``, ``ember.graph`` (small torchvision/torchtext/PyG-style helpers)
and ``ember.examples`` (the textbook models), importable as submodules. Internal helpers live in
their modules (``ember.ops.shape.cast``, ``ember._dtype.from_numpy_dtype``) and are not re-exported.
"""
import builtins as _builtins
import re as _re
from math import e, inf, nan, pi  # noqa: F401  (torch.e, torch.inf, torch.nan, torch.pi)

from . import _C  # noqa: F401  (the CPU kernels; fails loudly if the extension was not built)
from . import autograd, backends, cuda  # noqa: F401
from ._device import device  # noqa: F401
from ._dtype import (bool, double, dtype, float, float16, float32, float64, get_default_dtype,  # noqa: F401,A004
                     half, int, int8, int16, int32, int64, long, set_default_dtype, short, uint8)
from .autograd import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                       set_grad_enabled)
from .ops import *  # noqa: F401,F403
from .ops import (abs, all, any, max, min, pow, round, sum, range_ as range)  # noqa: F401,A004
from . import _methods  # noqa: F401  (attaches the ops to Tensor as methods and operators)
from .random import (Generator, default_generator, get_rng_state, initial_seed, manual_seed,  # noqa: F401
                     seed, set_rng_state)
from .tensor import Size, Tensor  # noqa: F401
from .serialization import load, save  # noqa: F401
from . import nn, optim, utils  # noqa: F401,E402  (after Tensor: they build on it)
from . import profiler  # noqa: F401,E402
from .nn.functional import cosine_similarity, pairwise_distance, pdist  # noqa: F401,E402  (torch.* too)


class _Version(str):
    """``ember.__version__``: a str that compares as a version with strings and tuples, as
    ``torch.__version__`` (``ember.__version__ >= "0.1"``, ``ember.__version__ < (1, 0)``)."""

    __slots__ = ()
    _PATTERN = _re.compile(r"v?(\d+(?:\.\d+)*)(?:(a|b|rc)(\d+))?(?:\.dev(\d+))?(?:\+([a-z0-9.]+))?",
                           _re.IGNORECASE)

    @classmethod
    def _key(cls, v):
        """PEP 440 order of a release[pre][.dev][+local] string; None if it is not one."""
        if isinstance(v, (tuple, list)):  # (2, 1) means "2.1"
            v = ".".join(str(p) for p in v)
        m = cls._PATTERN.fullmatch(v) if isinstance(v, str) else None
        if m is None:
            return None
        release = [_builtins.int(p) for p in m[1].split(".")]
        while len(release) > 1 and release[-1] == 0:
            release.pop()  # 2.0 == 2.0.0
        pre = ({"a": 0, "b": 1, "rc": 2}[m[2].lower()], _builtins.int(m[3])) if m[2] else \
            ((-1, 0) if m[4] else (3, 0))  # dev release < pre-release < final
        dev = _builtins.int(m[4]) if m[4] else inf  # a final (no .dev) sorts after its dev releases
        local = tuple((1, _builtins.int(p), "") if p.isdigit() else (0, 0, p) for p in (m[5] or "").split(".") if p)
        return tuple(release), pre, dev, local

    def _compare(self, other, op):
        mine, theirs = _Version._key(_builtins.str(self)), _Version._key(other)
        if mine is None or theirs is None:  # not a version (e.g. "parrot"): plain str order, as torch
            return getattr(_builtins.str, op)(self, other)
        return getattr(mine, op)(theirs)

    def __lt__(self, other): return self._compare(other, "__lt__")
    def __le__(self, other): return self._compare(other, "__le__")
    def __gt__(self, other): return self._compare(other, "__gt__")
    def __ge__(self, other): return self._compare(other, "__ge__")
    def __eq__(self, other): return self._compare(other, "__eq__")
    def __ne__(self, other): return self._compare(other, "__ne__")

    __hash__ = _builtins.str.__hash__


__version__ = _Version("0.1.0")


def get_num_threads() -> _builtins.int:
    """Threads the CPU kernels use (OpenMP; ``OMP_NUM_THREADS``, default all cores)."""
    return _C.num_threads()


def set_num_threads(n: _builtins.int) -> None:
    """Sets the number of threads the CPU kernels use, as ``torch.set_num_threads``."""
    if isinstance(n, _builtins.bool) or not isinstance(n, _builtins.int):
        raise TypeError(f"set_num_threads(): argument 'n' must be int, not {type(n).__name__}")
    _C.set_num_threads(n)


def is_tensor(obj) -> _builtins.bool:
    """True if ``obj`` is an ``ember.Tensor``, as ``torch.is_tensor``."""
    return isinstance(obj, Tensor)


def is_floating_point(t: Tensor) -> _builtins.bool:
    """True if ``t``'s dtype is a floating-point type, as ``torch.is_floating_point``."""
    return t.is_floating_point()


def numel(t: Tensor) -> _builtins.int:
    """The number of elements of ``t``, as ``torch.numel``."""
    return t.numel()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None,
                     sci_mode=None) -> None:
    """Forwards precision, threshold, edgeitems and linewidth to NumPy's print options. Known gap: the
    tensor repr (``ember/_format.py``) keeps PyTorch's default layout and reads none of them yet."""
    import numpy as _np

    _np.set_printoptions(**{k: v for k, v in dict(precision=precision, threshold=threshold,
                                                  edgeitems=edgeitems, linewidth=linewidth).items()
                            if v is not None})


def _typed_tensor(dt):
    class _Typed:
        """Legacy constructor (``ember.FloatTensor([1, 2])``, ``ember.LongTensor(3)``)."""

        def __new__(cls, *args):
            from .ops import empty, tensor

            if len(args) == 1 and not isinstance(args[0], _builtins.int):
                return tensor(args[0], dtype=dt)
            return empty(*args, dtype=dt)

    _Typed.__name__ = dt.name.capitalize() + "Tensor"
    return _Typed


FloatTensor = _typed_tensor(float32)
DoubleTensor = _typed_tensor(float64)
LongTensor = _typed_tensor(int64)
IntTensor = _typed_tensor(int32)
BoolTensor = _typed_tensor(bool)
ByteTensor = _typed_tensor(uint8)
