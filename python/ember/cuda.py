"""``ember.cuda``: device queries and memory statistics (from CuPy's memory pool)."""
from __future__ import annotations

from . import backend
from ._device import device as _device


def is_available() -> bool:
    """True when CuPy, a CUDA device and Ember's CUDA module are all present."""
    return backend.cuda_available()


def device_count() -> int:
    """The number of CUDA devices (0 without CUDA), as ``torch.cuda.device_count``."""
    return backend.require_cuda().cuda.runtime.getDeviceCount() if is_available() else 0


def _index(device) -> int:
    """The index of ``device``: None (the current device), an int, 'cuda[:i]' or an ember.device."""
    if isinstance(device, int):
        return device
    if device is not None:
        device = _device(device)
        if device.type != "cuda":
            raise ValueError(f"Expected a cuda device, but got: {device}")
    return current_device() if device is None or device.index is None else device.index


def current_device() -> int:
    """The index of the current CUDA device, as ``torch.cuda.current_device``."""
    return backend.require_cuda().cuda.Device().id


def set_device(device) -> None:
    """Make ``device`` (an index, 'cuda:i' or an ember.device) the current CUDA device, as ``torch.cuda.set_device``."""
    backend.require_cuda().cuda.Device(_index(device)).use()


def get_device_name(device=None) -> str:
    """The name of ``device`` (default: the current one), e.g. 'NVIDIA H100', as ``torch.cuda.get_device_name``."""
    cp = backend.require_cuda()
    name = cp.cuda.runtime.getDeviceProperties(_index(device))["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize(device=None) -> None:
    """Wait for all work queued on ``device`` (default: the current one) to finish, as ``torch.cuda.synchronize``."""
    backend.require_cuda().cuda.Device(_index(device)).synchronize()


def manual_seed(seed: int) -> None:
    """Seed CuPy's generator, which Ember's CUDA random draws use, as ``torch.cuda.manual_seed``."""
    backend.require_cuda().random.seed(seed)


manual_seed_all = manual_seed


def _pool_bytes(device, which: str) -> int:
    cp = backend.require_cuda()
    with cp.cuda.Device(_index(device)):  # CuPy's pool answers for the current device
        return getattr(cp.get_default_memory_pool(), which)()


def memory_allocated(device=None) -> int:
    """Bytes of ``device`` memory held by live tensors (CuPy's pool; 0 without CUDA), as
    ``torch.cuda.memory_allocated``."""
    return _pool_bytes(device, "used_bytes") if is_available() else 0


def memory_reserved(device=None) -> int:
    """Bytes of ``device`` memory the caching pool holds, used or free (0 without CUDA), as
    ``torch.cuda.memory_reserved``."""
    return _pool_bytes(device, "total_bytes") if is_available() else 0


def max_memory_allocated(device=None) -> int:
    """An upper bound of the peak of ``memory_allocated``: CuPy keeps no peak statistic, so this is
    ``memory_reserved`` (the pool keeps what the peak needed until ``empty_cache``)."""
    return memory_reserved(device)


def empty_cache() -> None:
    """Return the caching pool's free blocks to the driver, as ``torch.cuda.empty_cache``."""
    if is_available():
        backend.require_cuda().get_default_memory_pool().free_all_blocks()
