"""``ember.autograd``: reverse-mode automatic differentiation."""
from __future__ import annotations

from .. import backend
from ..tensor import Tensor
from . import anomaly, grad_mode  # noqa: F401
from .anomaly import detect_anomaly, set_detect_anomaly  # noqa: F401
from .engine import accumulate_grad, run_backward
from .function import Context, Function  # noqa: F401
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401


def _seed(t, g):
    if g is None:
        if t.numel() != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        return Tensor._make(_ones_like(t._data))
    if not isinstance(g, Tensor):
        from ..ops import tensor as make

        g = make(g, dtype=t.dtype, device=t.device)
    if tuple(g.shape) != tuple(t.shape):
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {list(g.shape)} and output[0] "
                           f"has a shape of {list(t.shape)}.")
    return g


def _ones_like(arr):
    return backend.xp_of(arr).ones(arr.shape, dtype=arr.dtype)


def _as_tuple(x):
    if x is None:
        return None
    return tuple(x) if isinstance(x, (list, tuple)) else (x,)


def _roots(tensors, grad_tensors) -> tuple[tuple, list]:
    """The roots of a backward pass as a tuple, each checked to require grad, and their seed
    gradients (``grad_tensors``, or ones for scalar roots)."""
    tensors = _as_tuple(tensors)
    grads = _as_tuple(grad_tensors) or (None,) * len(tensors)
    for t in tensors:
        if not t.requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
    return tensors, [_seed(t, g) for t, g in zip(tensors, grads)]


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph: bool = False, inputs=None) -> None:
    """Accumulate d(tensors)/d(leaf) into each leaf's ``.grad`` (``inputs`` limits which leaves)."""
    tensors, seeds = _roots(tensors, grad_tensors)
    retain = create_graph if retain_graph is None else retain_graph
    if inputs is not None:
        inputs = _as_tuple(inputs)
        found = run_backward(tensors, seeds, retain, create_graph, inputs=inputs)
        for t, g in zip(inputs, found):
            if g is not None:
                accumulate_grad(t, [g], create_graph)
        return
    run_backward(tensors, seeds, retain, create_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph: bool = False,
         only_inputs: bool = True, allow_unused: bool = False, is_grads_batched: bool = False):
    """Gradients of ``outputs`` with respect to ``inputs`` (returned, not accumulated)."""
    outputs, seeds = _roots(outputs, grad_outputs)
    inputs = _as_tuple(inputs)
    retain = create_graph if retain_graph is None else retain_graph
    return run_backward(outputs, seeds, retain, create_graph, inputs=inputs, allow_unused=allow_unused)

