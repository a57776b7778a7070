"""``ember.backends``: the switches PyTorch code looks for (``backends.mps.is_available()``,
``backends.cuda.matmul.allow_tf32``, ``backends.cudnn.benchmark``)."""
from __future__ import annotations

from types import SimpleNamespace


class _Mps:
    @staticmethod
    def is_available() -> bool:
        return False  # Ember has no Metal backend

    @staticmethod
    def is_built() -> bool:
        return False


mps = _Mps()
# TF32 tensor-core GEMM on CUDA is opt-in, as in PyTorch (default False).
cuda = SimpleNamespace(matmul=SimpleNamespace(allow_tf32=False, allow_bf16_reduced_precision_reduction=True))
cudnn = SimpleNamespace(benchmark=False, deterministic=False, enabled=True, allow_tf32=True,
                        is_available=lambda: False)
