"""Anomaly detection: record where each graph node was created and name the backward function
that produced NaN, as ``torch.autograd.detect_anomaly`` does."""
from __future__ import annotations

import threading


class _State(threading.local):
    enabled = False  # each thread starts disabled; a class default: read per recorded op


_state = _State()


def is_anomaly_enabled() -> bool:
    return _state.enabled


class detect_anomaly:  # noqa: N801
    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan

    def __enter__(self):
        self._prev = is_anomaly_enabled()
        _state.enabled = self.check_nan
        return self

    def __exit__(self, *exc):
        _state.enabled = self._prev
        return False


class set_detect_anomaly(detect_anomaly):  # noqa: N801
    def __init__(self, mode: bool) -> None:
        super().__init__(mode)
        self._prev = is_anomaly_enabled()
        _state.enabled = mode
