"""Shared test fixtures.

Kernel tests are written once and run on every backend: the ``kernels`` fixture yields a
``KernelBackend`` holding the extension module (``ember._C`` or ``ember._C_cuda``) and the array
module that owns its memory (NumPy or CuPy). Tests marked ``cuda`` (the cuda parameter of the
fixture carries the mark) skip loudly without a GPU and fail instead when EMBER_REQUIRE_CUDA=1.
"""
from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from types import ModuleType

import numpy as np
import pytest

REQUIRE_CUDA = os.environ.get("EMBER_REQUIRE_CUDA", "") not in ("", "0")


def _cuda_unavailable_reason() -> str | None:
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return "no CUDA device"
    except Exception as exc:  # ImportError, CUDARuntimeError without a driver
        return f"CuPy/CUDA unavailable ({type(exc).__name__}: {exc})"
    try:
        importlib.import_module("ember._C_cuda")
    except ImportError as exc:
        return f"ember._C_cuda was not built ({exc})"
    return None


_CUDA_REASON: list = []  # computed once, lazily


def pytest_runtest_setup(item):
    if "cuda" not in item.keywords:
        return
    if not _CUDA_REASON:
        _CUDA_REASON.append(_cuda_unavailable_reason())
    reason = _CUDA_REASON[0]
    if reason is not None:
        if REQUIRE_CUDA:
            pytest.fail(f"EMBER_REQUIRE_CUDA=1 but {reason}", pytrace=False)
        pytest.skip(f"CUDA test skipped: {reason}")


@dataclass
class KernelBackend:
    name: str
    C: ModuleType  # ember._C or ember._C_cuda
    xp: ModuleType  # numpy or cupy

    def asarray(self, a, dtype=None):
        """Host array -> this backend's memory."""
        return self.xp.asarray(np.asarray(a, dtype=dtype))

    def numpy(self, a) -> np.ndarray:
        """This backend's array -> NumPy (a copy from the device on CUDA)."""
        return a.get() if hasattr(a, "get") else np.asarray(a)

    def empty(self, shape, dtype):
        return self.xp.empty(shape, dtype=dtype)

    def zeros(self, shape, dtype):
        return self.xp.zeros(shape, dtype=dtype)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def kernels(request) -> KernelBackend:
    if request.param == "cpu":
        return KernelBackend("cpu", importlib.import_module("ember._C"), np)
    import cupy

    return KernelBackend("cuda", importlib.import_module("ember._C_cuda"), cupy)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request) -> str:
    """Tensor-level tests run once per device; the cuda run skips without a GPU."""
    return request.param
