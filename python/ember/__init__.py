"""Ember: a readable deep-learning library with PyTorch's API over hand-written C++/CUDA kernels.

``import ember as torch`` lets textbook PyTorch code run unchanged: tensors with autograd
(``ember.Tensor``), ``ember.nn``, ``ember.optim``, ``ember.utils.data``, and CUDA through CuPy.

The public names are PyTorch's (``torch.X`` for each ``ember.X``) plus these deliberate Ember extras:
``ember.backend`` (the NumPy/CuPy array layer the kernels run on) and the optional packages
``ember.vision``, ``ember.text``, ``ember.graph`` (small torchvision/torchtext/PyG-style helpers)
and ``ember.examples`` (the textbook models), importable as submodules. Internal helpers live in
their modules (``ember.ops.shape.cast``, ``ember._dtype.from_numpy_dtype``) and are not re-exported.
"""
__version__ = "0.1.0"

import builtins as _builtins

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
