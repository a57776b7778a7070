"""``ember.cuda``: device queries and memory statistics (from CuPy's memory pool)."""
from __future__ import annotations

from . import backend


def is_available() -> bool:
    """True when CuPy, a CUDA device and Ember's CUDA module are all present."""
    return backend.cuda_available()


def device_count() -> int:
    return backend.require_cuda().cuda.runtime.getDeviceCount() if is_available() else 0


def current_device() -> int:
    return backend.require_cuda().cuda.Device().id


def set_device(device) -> None:
    backend.require_cuda().cuda.Device(int(str(device).split(":")[-1]) if not isinstance(device, int) else device).use()


def get_device_name(device=None) -> str:
    cp = backend.require_cuda()
    props = cp.cuda.runtime.getDeviceProperties(0 if device is None else int(str(device).split(":")[-1]))
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else name


def synchronize(device=None) -> None:
    backend.require_cuda().cuda.Device().synchronize()


def manual_seed(seed: int) -> None:
    backend.require_cuda().random.seed(seed)


manual_seed_all = manual_seed


def memory_allocated(device=None) -> int:
    return backend.require_cuda().get_default_memory_pool().used_bytes() if is_available() else 0


def memory_reserved(device=None) -> int:
    return backend.require_cuda().get_default_memory_pool().total_bytes() if is_available() else 0


def max_memory_allocated(device=None) -> int:
    return memory_reserved(device)


def empty_cache() -> None:
    if is_available():
        backend.require_cuda().get_default_memory_pool().free_all_blocks()
