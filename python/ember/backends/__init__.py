"""``ember.backends``: the switches PyTorch code looks for (``backends.mps.is_available()``,
``backends.cuda.matmul.allow_tf32``, ``backends.cudnn.benchmark``)."""
from __future__ import annotations

from types import SimpleNamespace


class _Mps:
    """``ember.backends.mps``: Apple's Metal backend, which Ember does not have."""

    @staticmethod
    def is_available() -> bool:
        """False: Ember has no Metal backend, as ``torch.backends.mps.is_available`` off macOS."""
        return False

    @staticmethod
    def is_built() -> bool:
        """False: Ember is never built with Metal, as ``torch.backends.mps.is_built``."""
        return False


mps = _Mps()
# TF32 tensor-core GEMM on CUDA is opt-in, as in PyTorch (default False).
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False, allow_bf16_reduced_precision_reduction=True))
cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                        is_available=lambda: False)
