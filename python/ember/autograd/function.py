"""The op mechanism: every differentiable operation is a ``Function`` subclass with

* ``forward(ctx, *args, **attrs)`` — for Ember's own ops (``Op``) it works on raw NumPy/CuPy
  arrays; for user-defined ``ember.autograd.Function`` subclasses it receives Tensors, as in PyTorch;
* ``backward(ctx, *grad_outputs) -> grad per forward argument`` — written with Ember Tensor ops,
  so that it is itself differentiable (higher-order gradients) unless an op says otherwise;
* optionally ``composite(*args, **attrs)`` — the same computation as ``forward`` written with
  differentiable Tensor ops (Tensors where forward gets arrays, the same outputs). An op whose
  ``backward`` runs a fused kernel defines it: when the backward is recorded (``create_graph``)
  the node's gradients are instead the vector-Jacobian product through the composite, so the
  derivative is written once, in the kernel, and gradients of any order still work.

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
    _dirty: tuple = ()  # the tensors forward modified in place (mark_dirty)
    versions: tuple = ()  # per input: its version when saved (None: backward does not read it)
    create_graph = False  # set by the engine: whether this backward is itself being recorded
    attrs = None  # the keyword arguments of forward, when they were given (for ``composite``)

    def save_for_backward(self, *tensors) -> None:
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors) -> None:
        self._non_differentiable = self._non_differentiable | {id(t) for t in tensors}

    def mark_dirty(self, *tensors) -> None:
        """Declare inputs that forward modified in place. Each must be returned as an output; that
        output is then the input object itself, its version bumped and its history rebased onto
        this op (as PyTorch)."""
        self._dirty = self._dirty + tensors

    def set_materialize_grads(self, value: bool) -> None:
        """With True (the default) backward receives zeros for outputs that got no gradient; with
        False it receives None for them."""
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

    __slots__ = (
        "__weakref__",
        "ctx",
        "fn",
        "hooks",
        "next_functions",
        "num_outputs",
        "output_meta",
        "pre_hooks",
        "stack",
    )

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

    def apply(self, grads, create_graph: bool = False):
        """The gradients for the inputs: ``fn.backward``, or with ``create_graph`` the VJP through
        ``fn.composite`` where the op has one."""
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
        self.ctx.create_graph = create_graph
        composite = getattr(self.fn, "composite", None) if create_graph else None
        if composite is not None:
            return composite_backward(composite, self.ctx, grads)
        with np.errstate(all="ignore"):  # as in the forward
            result = self.fn.backward(self.ctx, *grads)
        if not isinstance(result, tuple):
            result = (result,)
        return result

    def release(self) -> None:
        self.ctx = None


class AccumulateGrad:
    """The graph's sink for a leaf tensor: adds incoming gradients into ``tensor.grad``."""

    __slots__ = ("__weakref__", "hooks", "next_functions", "pre_hooks", "variable")

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
        # PyTorch never warns on floating-point exceptions (0/0 is nan, 1/0 inf): neither does NumPy here
        if cls._forward_on_arrays:
            with np.errstate(all="ignore"):
                raw = cls.forward(ctx, *[a._data if isinstance(a, Tensor) else a for a in args], **attrs)
        else:
            detached = [a.detach() if isinstance(a, Tensor) else a for a in args]
            with grad_mode.no_grad(), np.errstate(all="ignore"):
                raw = cls.forward(ctx, *detached, **attrs)
        single = not isinstance(raw, tuple)
        outs = (_wrap(raw),) if single else tuple([_wrap(r) for r in raw])  # Tensors and Nones
        if ctx._dirty:
            outs = _dirty_outputs(ctx, args, detached, outs, record)
        if record:
            ctx.inputs = args
            if attrs:
                ctx.attrs = attrs
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


class _CompositeInput(Op):
    """Identity: the stand-in for an op's input that its composite is differentiated against.
    Its node links to the input's own, so the gradients it yields stay part of the graph; the
    walk that differentiates the composite stops at it (no hook of the input sees a partial
    gradient, and the history before the op is not visited)."""

    needs_input_values = False

    @staticmethod
    def forward(ctx, x):
        return x

    @staticmethod
    def backward(ctx, g):
        return g


def composite_backward(composite, ctx, grads) -> tuple:
    """The input gradients of a node as the vector-Jacobian product through its op's
    ``composite``, recorded (for ``create_graph``): the composite runs again on the node's
    inputs, and its outputs are differentiated against the inputs that need a gradient, with
    the node's output gradients as the vector. None for the other arguments."""
    from .engine import run_backward

    args = ctx.inputs
    needs = ctx.needs_input_grad
    wanted = [i for i, a in enumerate(args) if needs[i]]
    result = [None] * len(args)
    if not wanted:
        return tuple(result)
    with grad_mode.enable_grad():
        stand_ins = list(args)
        for i in wanted:
            stand_ins[i] = _CompositeInput.apply(args[i])
        outs = composite(*stand_ins, **(ctx.attrs or {}))
    outs = outs if isinstance(outs, tuple) else (outs,)
    # outputs that cannot carry a gradient (integer indices, constants) are left out of the product
    pairs = [(o, g) for o, g in zip(outs, grads)
             if isinstance(o, Tensor) and o.requires_grad and g is not None]
    if not pairs:
        return tuple(result)
    found = run_backward([o for o, _ in pairs], [g for _, g in pairs], True, True,
                         inputs=[stand_ins[i] for i in wanted], stop_at_inputs=True)
    for i, g in zip(wanted, found):
        result[i] = g
    return tuple(result)


def _dirty_outputs(ctx, args, detached, outs, record: bool) -> tuple:
    """PyTorch's mark_dirty: an output that is a dirtied input becomes that input object (its
    version bumped by the in-place writes forward made on its detached alias, at least once), so
    ``apply`` rebases its history below."""
    where = {id(d): i for i, d in enumerate(detached) if isinstance(d, Tensor)}
    dirty = {id(t) for t in ctx._dirty}
    returned = set()
    outs = list(outs)
    for k, o in enumerate(outs):
        if o is None or id(o) not in dirty or id(o) not in where:
            continue
        original = args[where[id(o)]]
        if record and original.is_leaf and original.requires_grad:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        original._version += max(o._version, 1)
        outs[k] = original
        returned.add(id(o))
    if returned != dirty:
        raise RuntimeError("Some elements marked as dirty during the forward method were not "
                           "returned as output. The inputs that are modified inplace must all be "
                           "outputs of the Function.")
    return tuple(outs)


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

