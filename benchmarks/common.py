"""The benchmark case interface and the timing helpers every ``bench_<family>.py`` shares.

Writing a family's benchmark
----------------------------
Add ``benchmarks/bench_<family>.py`` with one function::

    def cases(device: str) -> list[Case]:      # device is "cpu" or "cuda"

Each ``Case`` is one shape of one kernel, fully set up: allocate inputs *and* outputs while
building the case, so that the callables only launch work. ``run.py`` discovers the module,
times every callable of every case the same way and prints one table. Example::

    from benchmarks.common import Case, ember_module, array_module, torch_or_none

    def cases(device):
        C, xp = ember_module(device), array_module(device)
        a = xp.ones((512, 512), xp.float32); b = a.copy(); c = xp.empty_like(a); c_ref = c.copy()
        refs = {xp.__name__: lambda: xp.matmul(a, b, out=c_ref)}
        torch = torch_or_none(device)
        if torch is not None:                      # optional extra column, never required
            ta, tb = torch.as_tensor(a), torch.as_tensor(b)
            refs["torch"] = lambda: torch.matmul(ta, tb)
        return [Case("gemm", "sgemm 512^3", ember=lambda: C.gemm(a, b, c), references=refs,
                     flops=2 * 512**3, bytes=3 * 4 * 512**2)]

Rules
- ``ember`` calls the raw kernel module (``ember._C`` / ``ember._C_cuda``, see
  ``ember_module``) with preallocated outputs: the benchmark measures kernels, not Python.
- ``references`` maps a display name to a callable computing the same result with what a user
  would otherwise use: ``"numpy"`` on cpu, ``"cupy"`` on cuda (the first entry is the primary
  reference, its time gives the ratio column), plus ``"torch"`` when PyTorch is importable.
- ``flops`` (floating-point operations) and ``bytes`` (the minimum bytes a kernel must move:
  every input read once, every output written once) give the achieved GFLOP/s and GB/s and the
  fraction of the roofline: the runner measures its own ceilings at start-up (copy bandwidth,
  BLAS GEMM peak for the case's ``dtype``) and reports ``max(flops/peak, bytes/bandwidth) / time``.
  Leave one at 0 when it does not apply.
- Keep each case under ~100 ms per call so that a full run stays short.

Timing
- CPU (``time_cpu``): a short pause first (OpenBLAS and OpenMP worker threads keep spinning
  for a while after a call and would steal cores from the next library timed), warm-up, then
  the median of ``repeats`` measurements with ``time.perf_counter``; a measurement runs the
  callable enough times to last >= 1 ms, so that microsecond kernels are not dominated by the
  clock.
- CUDA (``time_cuda``): CUDA events on CuPy's current stream around one call, warm-up, median
  of ``repeats``, and the L2 cache flushed before each measurement by writing a buffer larger
  than L2, so that every call starts from device memory like in a real network.
"""

from __future__ import annotations

import importlib
import statistics
import time
from dataclasses import dataclass, field
from types import ModuleType
from typing import Callable


@dataclass
class Case:
    """One benchmark: a shape of a kernel with its references (see the module docstring)."""

    family: str  # kernel family, e.g. "gemm" (the bench_<family>.py name)
    name: str  # the shape and variant, e.g. "sgemm 1024x1024x1024"
    ember: Callable[[], object]  # runs the Ember kernel once
    references: dict[str, Callable[[], object]] = field(default_factory=dict)
    flops: float = 0.0  # floating-point operations per call
    bytes: float = 0.0  # minimum bytes moved per call
    dtype: str = "float32"  # picks the GEMM peak used as the compute ceiling


def ember_module(device: str) -> ModuleType:
    """ember._C (cpu) or ember._C_cuda (cuda)."""
    return importlib.import_module("ember._C" if device == "cpu" else "ember._C_cuda")


def array_module(device: str) -> ModuleType:
    """numpy (cpu) or cupy (cuda)."""
    return importlib.import_module("numpy" if device == "cpu" else "cupy")


def torch_or_none(device: str) -> ModuleType | None:
    """torch when it is importable and can run on `device`, else None (torch is optional)."""
    try:
        import torch
    except ImportError:
        return None
    if device == "cuda" and not torch.cuda.is_available():
        return None
    return torch


def time_cpu(
    fn: Callable[[], object],
    repeats: int = 15,
    warmup: int = 2,
    min_seconds: float = 1e-3,
    settle_seconds: float = 0.2,
) -> float:
    """Median seconds per call of fn on the CPU."""
    time.sleep(settle_seconds)  # idle BLAS/OpenMP threads of the previous measurement stop spinning
    for _ in range(warmup):
        fn()
    number = 1  # calls per measurement: grow until one measurement lasts min_seconds
    while True:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        if time.perf_counter() - start >= min_seconds or number >= 1 << 20:
            break
        number *= 2
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


_l2_flush_buffer = None


def flush_l2_cuda() -> None:
    """Overwrites a device buffer twice the size of L2, evicting whatever a kernel left there."""
    global _l2_flush_buffer
    import cupy

    if _l2_flush_buffer is None:
        l2_bytes = cupy.cuda.Device().attributes["L2CacheSize"]
        _l2_flush_buffer = cupy.empty(2 * l2_bytes // 4, dtype=cupy.float32)
    _l2_flush_buffer.fill(0)


def time_cuda(fn: Callable[[], object], repeats: int = 15, warmup: int = 2) -> float:
    """Median seconds per call of fn on the GPU, timed with CUDA events, L2 flushed before each."""
    import cupy

    for _ in range(warmup):
        fn()
    stream = cupy.cuda.get_current_stream()
    start, stop = cupy.cuda.Event(), cupy.cuda.Event()
    samples = []
    for _ in range(repeats):
        flush_l2_cuda()
        start.record(stream)
        fn()
        stop.record(stream)
        stop.synchronize()
        samples.append(cupy.cuda.get_elapsed_time(start, stop) / 1e3)
    return statistics.median(samples)


def time_call(device: str, fn: Callable[[], object], repeats: int = 15) -> float:
    """Median seconds per call on `device`."""
    return time_cpu(fn, repeats) if device == "cpu" else time_cuda(fn, repeats)
