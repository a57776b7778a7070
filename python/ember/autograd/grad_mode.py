"""Whether operations record the autograd graph: ``no_grad``, ``enable_grad``,
``set_grad_enabled``, ``inference_mode`` (context managers and decorators, as in PyTorch)."""
from __future__ import annotations

import functools
import threading


class _State(threading.local):
    enabled = True  # each thread starts enabled; a class default: read per op, never a lookup miss


_state = _State()


def is_grad_enabled() -> bool:
    """As torch.is_grad_enabled: whether ops record the graph in this thread."""
    return _state.enabled


def _set(enabled: bool) -> None:
    _state.enabled = bool(enabled)


class _GradMode:
    enabled = True

    def __enter__(self):
        self._prev = is_grad_enabled()
        _set(self.enabled)
        return self

    def __exit__(self, *exc):
        _set(self._prev)
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with self.__class__():
                return fn(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801
    """Disable graph recording: results have ``requires_grad=False``."""

    enabled = False


class enable_grad(_GradMode):  # noqa: N801
    enabled = True


class inference_mode(_GradMode):  # noqa: N801
    """Like ``no_grad`` (Ember has no separate inference tensors)."""

    def __init__(self, mode: bool = True) -> None:
        self.enabled = not mode


class set_grad_enabled(_GradMode):  # noqa: N801
    """``set_grad_enabled(False)`` works as a call, a context manager and a decorator."""

    def __init__(self, mode: bool) -> None:
        self._prev = is_grad_enabled()
        self.enabled = bool(mode)
        _set(mode)

    def __enter__(self):
        return self

    def __call__(self, fn):
        mode = self.enabled
        _set(self._prev)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)

        return wrapper
