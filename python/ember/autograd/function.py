"""The op mechanism: every differentiable operation is a ``Function`` subclass with

* ``forward(ctx, *args, **attrs)`` — for Ember's own ops (``Op``) it works on raw NumPy/CuPy
  arrays; for user-defined ``ember.autograd.Function`` subclasses it receives Tensors, as in PyTorch;
* ``backward(ctx, *grad_outputs) -> grad per forward argument`` — written with Ember Tensor ops,
  so that it is itself differentiable (higher-order gradients) unless an op says otherwise.

``apply`` runs forward, wraps the results in Tensors and, when gradients are needed, records a
``Node`` that links to the nodes of the inputs.
"""
from __future__ import annotations

import traceback
import weakref

import numpy as np

from ..tensor import Tensor
from . import anomaly, grad_mode

# The active ``ember.profiler`` recorder, or None: ``Function.apply`` and the backward engine
# read it once per op, which is all that profiling costs when it is off.
_profiler = None


class Context:
    """What ``forward`` leaves for ``backward`` (PyTorch's ``ctx``)."""

    # Defaults as class attributes: every op call makes a context, so creating one sets nothing.
    saved_tensors: tuple = ()
    needs_input_grad: tuple = ()
    inputs: tuple = ()  # the forward arguments, Tensors kept as Tensors
    _outputs: tuple = ()  # (weakref, version) per output
    materialize_grads = True
    _non_differentiable: frozenset = frozenset()
    versions: tuple = ()  # per input: its version when saved (None: backward does not read it)

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = self._non_differentiable | {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:  # accepted for PyTorch compatibility
        pass

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = value

    def output(self, i: int = 0):
        """The i-th output Tensor, graph attached (for backward formulas that reuse it)."""
        ref, version = self._outputs[i]
        out = ref()
        if out is None:
            raise RuntimeError("internal error: an output needed by backward was freed")
        if out._version != version:
            raise RuntimeError(
                "one of the variables needed for gradient computation has been modified by an inplace "
                f"operation: [{out.dtype.name} {list(out.shape)}] is at version {out._version}; "
                f"expected version {version} instead.")
        return out


class Node:
    """A recorded operation in the graph (a tensor's ``grad_fn``)."""

    __slots__ = ("fn", "ctx", "next_functions", "pre_hooks", "hooks", "stack", "num_outputs",
                 "output_meta", "__weakref__")

    def __init__(self, fn, ctx, next_functions, outputs) -> None:
        self.fn = fn
        self.ctx = ctx
        self.next_functions = next_functions  # tuple of (Node | None, input_nr)
        self.pre_hooks: dict[int, list] = {}  # output_nr -> hooks registered on that output
        self.hooks: list = []
        self.num_outputs = len(outputs)
        # (shape, dtype, device) per output, to make zero gradients for the outputs that got none;
        # a one-output node runs only when its output got a gradient, so it keeps none
        self.output_meta = None if len(outputs) == 1 else tuple(
            [(o._data.shape, o._data.dtype, o.device) if o is not None else None for o in outputs])
        self.stack = "".join(traceback.format_stack(limit=12)[:-3]) if anomaly.is_anomaly_enabled() else None

    def name(self) -> str:
        # private op classes (_Softmax) print under PyTorch's public names (SoftmaxBackward0)
        return self.fn.__name__.lstrip("_") + "Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()} object at {hex(id(self))}>"

    def register_hook(self, hook) -> None:
        self.hooks.append(hook)

    def apply(self, grads):
        if self.ctx is None:
            raise RuntimeError(
                "Trying to backward through the graph a second time (or directly access saved "
                "tensors after they have already been freed). Saved intermediate values of the graph "
                "are freed when you call .backward() or autograd.grad(). Specify retain_graph=True if "
                "you need to backward through the graph a second time or if you need to access saved "
                "tensors after calling backward.")
        for i, (arg, version) in enumerate(zip(self.ctx.inputs, self.ctx.versions)):
            if version is not None and arg._version != version:
                raise RuntimeError(
                    f"one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{arg.dtype.name} {list(arg.shape)}] is at version "
                    f"{arg._version}; expected version {version} instead (input {i} of {self.name()}).")
        result = self.fn.backward(self.ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        return result

    def release(self) -> None:
        self.ctx = None


class AccumulateGrad:
    """The graph's sink for a leaf tensor: adds incoming gradients into ``tensor.grad``."""

    __slots__ = ("variable", "next_functions", "pre_hooks", "hooks", "__weakref__")

    def __init__(self, variable) -> None:
        self.variable = variable
        self.next_functions = ()
        self.pre_hooks: dict = {}
        self.hooks: list = []

    def name(self) -> str:
        return "AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {hex(id(self))}>"


_NO_EDGE = (None, 0)  # the edge of an argument that takes no gradient
_NO_OUTPUT = (lambda: None, 0)  # ctx._outputs entry of a None output


def _grad_edge(t):
    """The (node, input_nr) an input tensor's gradient should flow to."""
    if not t.requires_grad:
        return _NO_EDGE
    if t.grad_fn is not None:
        return (t.grad_fn, t._output_nr)
    acc = t._accumulator() if t._accumulator is not None else None
    if acc is None:
        acc = AccumulateGrad(t)
        t._accumulator = weakref.ref(acc)
    return (acc, 0)


class Function:
    """User-defined differentiable function, PyTorch style::

        class Exp(ember.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                y = x.exp(); ctx.save_for_backward(y); return y
            @staticmethod
            def backward(ctx, g):
                (y,) = ctx.saved_tensors; return g * y
    """

    # Ember's own ops (``Op``) receive arrays in forward; user Functions receive Tensors.
    _forward_on_arrays = False
    # Whether backward reads the values of the inputs (in-place ops copy the old value only then).
    needs_input_values = True

    @classmethod
    def apply(cls, *args, **attrs):
        prof = _profiler
        if prof is not None:
            token = prof.push(cls.__name__.lstrip("_"), "cpu_op", args)  # as Node.name()
        # list comprehensions and `True in`: this runs for every op, so it avoids generators
        needs = tuple([isinstance(a, Tensor) and a.requires_grad for a in args])
        record = True in needs and grad_mode.is_grad_enabled()
        ctx = Context()
        ctx.needs_input_grad = needs
        if cls._forward_on_arrays:
            raw = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in args], **attrs)
        else:
            with grad_mode.no_grad():
                raw = cls.forward(ctx, *[a.detach() if isinstance(a, Tensor) else a for a in args],
                                  **attrs)
        single = not isinstance(raw, tuple)
        outs = (_wrap(raw),) if single else tuple([_wrap(r) for r in raw])  # Tensors and Nones
        if record:
            ctx.inputs = args
            if cls.needs_input_values:
                ctx.versions = tuple([a._version if isinstance(a, Tensor) else None for a in args])
            edges = tuple([_grad_edge(a) if isinstance(a, Tensor) else _NO_EDGE for a in args])
            node = Node(cls, ctx, edges, outs)
            non_differentiable = ctx._non_differentiable
            for i, o in enumerate(outs):
                if o is not None and o._data.dtype.kind == "f" and id(o) not in non_differentiable:
                    o.requires_grad = True
                    o.grad_fn = node
                    o._output_nr = i
            ctx._outputs = tuple([(weakref.ref(o), o._version) if o is not None else _NO_OUTPUT
                                  for o in outs])
        if prof is not None:
            prof.pop(token)
        return outs[0] if single else outs

    @staticmethod
    def forward(ctx, *args, **attrs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise NotImplementedError


class Op(Function):
    """Base of Ember's built-in ops: ``forward`` takes and returns raw arrays."""

    _forward_on_arrays = True


def _wrap(r):
    if type(r) is np.ndarray:  # the common case first
        return Tensor._make(r)
    if isinstance(r, Tensor):
        return r.detach() if r.requires_grad else r
    if r is None:
        return r
    if isinstance(r, np.generic) or not (hasattr(r, "__array_interface__") or
                                         hasattr(r, "__cuda_array_interface__")):
        r = np.asarray(r)  # reductions may hand back NumPy scalars
    return Tensor._make(r)

