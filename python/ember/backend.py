"""Device dispatch, written once: which array module owns a tensor's memory (NumPy or CuPy) and
which extension module holds its kernels (``ember._C`` or ``ember._C_cuda``)."""
from __future__ import annotations

import ctypes
import importlib
import os
import sys
from types import ModuleType

import numpy as np

from . import _C  # the CPU kernels are always built

_cupy: ModuleType | None = None
_cuda_kernels: ModuleType | None = None
_cuda_error: str | None = None


def _load_cuda() -> None:
    global _cupy, _cuda_kernels, _cuda_error
    if _cupy is not None or _cuda_error is not None:
        return
    try:
        import cupy
    except ImportError as exc:
        _cuda_error = f"CuPy is not installed ({exc}); install with: pip install 'ember[cuda]'"
        return
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            _cuda_error = "no CUDA device is visible"
            return
    except Exception as exc:  # no driver
        _cuda_error = f"CUDA is not usable on this machine ({exc})"
        return
    try:
        _cuda_kernels = importlib.import_module("ember._C_cuda")
    except ImportError as exc:
        _cuda_error = f"ember was built without its CUDA module ({exc}); reinstall with nvcc on PATH"
        return
    _cupy = cupy


def cuda_available() -> bool:
    """True when CuPy, a CUDA device and Ember's CUDA kernels (``ember._C_cuda``) all load."""
    _load_cuda()
    return _cupy is not None


def require_cuda() -> ModuleType:
    """CuPy, or a RuntimeError that says why CUDA cannot be used."""
    _load_cuda()
    if _cupy is None:
        raise RuntimeError(f"ember: CUDA requested but unavailable: {_cuda_error}")
    return _cupy


def is_cuda_array(a) -> bool:
    """True if ``a`` is a CuPy array (never when CUDA was not loaded)."""
    return _cupy is not None and isinstance(a, _cupy.ndarray)


def xp_of(a) -> ModuleType:
    """The array module (numpy or cupy) that owns ``a``."""
    return _cupy if is_cuda_array(a) else np


def kernels_of(a) -> ModuleType:
    """The kernel module for ``a``'s device: ``ember._C`` or ``ember._C_cuda``."""
    return _cuda_kernels if is_cuda_array(a) else _C


def xp_for_device(dev) -> ModuleType:
    """The array module (numpy or cupy) that holds arrays on the ember.device ``dev``."""
    return require_cuda() if dev.type == "cuda" else np


def to_host(a) -> np.ndarray:
    """``a`` as a NumPy array: CuPy arrays are copied to the host, NumPy arrays returned as they are."""
    return a.get() if is_cuda_array(a) else a


def to_device_array(a, dev):
    """Copy/move an array to ``dev`` ('cpu' or 'cuda[:i]')."""
    if dev.type == "cpu":
        return to_host(a)
    cp = require_cuda()
    with cp.cuda.Device(dev.index or 0):
        return cp.asarray(a)


def _keep_freed_host_memory() -> None:
    """Have glibc's malloc keep freed memory for reuse rather than hand it back to the OS at once,
    as a caching allocator does: arrays up to 32 MiB come from the heap (not each from a fresh
    mmap) and the heap is trimmed only past 64 MiB free -- the settings glibc adopts by itself once
    a 32 MiB block has been freed. Otherwise a training step whose activations are a few MiB each
    gets all its memory back from the kernel page by page (TinyGPT: ~13k page faults, a sixth of
    the step). Left alone where the environment already sets these, and off Linux."""
    tuned = ("MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_TOP_PAD_",
             "MALLOC_MMAP_MAX_")
    if not sys.platform.startswith("linux") or "malloc" in os.environ.get("GLIBC_TUNABLES", "") \
            or any(name in os.environ for name in tuned):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    mallopt(m_mmap_threshold, 32 << 20)
    mallopt(m_trim_threshold, 64 << 20)


_keep_freed_host_memory()
