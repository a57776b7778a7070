"""The backward engine: an iterative (no recursion) walk of the graph in dependency order.

1. Count, for every node reachable from the roots, how many edges point at it.
2. Start from the roots with their seed gradients; a node runs once every consumer has sent its
   gradient (count reaches zero), so each gradient is complete when used.
3. Leaves accumulate into ``.grad``; with ``inputs=`` (``autograd.grad``) gradients are captured
   instead. Saved values are released afterwards unless ``retain_graph``.

A gradient that only the engine can reach (``_sole_owner``) is summed into in place and becomes
``.grad`` without a copy; anything else is copied first, so ``.grad`` never aliases a tensor that
user code can still see.
"""
from __future__ import annotations

import sys

import numpy as np

from .. import backend
from ..tensor import Tensor
from . import anomaly, function, grad_mode
from .function import AccumulateGrad, _grad_edge


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _refcounts(grads: list, i: int) -> tuple:
    t = grads[i]
    return sys.getrefcount(t), sys.getrefcount(t._data), t._data.base is None


def _sole_owner(grads: list, i: int) -> bool:
    """Whether only the slot ``grads[i]`` reaches that gradient's memory: nothing else refers to the
    Tensor, its array owns its memory, and no other Tensor or array view refers to that array. The
    engine may then add into it in place or make it a ``.grad`` without a copy (as PyTorch steals
    such buffers); anything a user can still see (a gradient passed to backward, kept by a hook,
    saved by a Function) fails the test. The counts are those of a fresh Tensor measured by the
    same function, so interpreter details cancel out."""
    return _refcounts(grads, i) == _ALONE


def _sum_into(buf: list, nr: int, g, create_graph: bool) -> None:
    """``buf[nr] += g`` for a gradient arriving at a node. Without create_graph, into the gradient
    already there when only the engine holds it (one allocation per slot, not one per addition);
    with create_graph every sum is a graph op."""
    if buf[nr] is None:
        buf[nr] = g
    elif not create_graph and _sole_owner(buf, nr) and buf[nr]._data.shape == g._data.shape and \
            buf[nr]._data.dtype == g._data.dtype:
        buf[nr]._data += g._data
    else:
        buf[nr] = buf[nr] + g


def _zeros_for(node, i):
    shape, dtype, dev = node.output_meta[i]
    return Tensor._make(backend.xp_for_device(dev).zeros(shape, dtype=dtype))


def _run_hooks(hooks, grads: list, nr: int) -> None:
    """Call each hook on ``grads[nr]``; a returned tensor replaces it."""
    for hook in hooks:
        out = hook(grads[nr])
        if out is not None:
            grads[nr] = out


def run_backward(roots, grad_roots, retain_graph: bool, create_graph: bool, inputs=None,
                 allow_unused: bool = True, stop_at_inputs: bool = False):
    """Propagate ``grad_roots`` from ``roots``. With ``inputs`` return their gradients
    (and leave ``.grad`` untouched); otherwise accumulate into leaves' ``.grad``. With
    ``stop_at_inputs`` the walk neither visits nor runs what lies behind the inputs' nodes (for
    inputs none of which depends on another: a composite's stand-ins)."""
    captured: dict = {}
    targets = []
    if inputs is not None:
        for t in inputs:
            if not t.requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node, nr = _grad_edge(t)
            targets.append((id(node), nr))
    capture_keys = set(targets)

    # 1. dependency counts over the reachable graph (iterative DFS)
    deps: dict[int, int] = {}
    stack = []
    for r in roots:
        if r.grad_fn is not None:
            stack.append(r.grad_fn)
        elif r.requires_grad:
            stack.append(_grad_edge(r)[0])
    nodes = {id(n): n for n in stack}
    stack = list(nodes.values())  # two roots of one node: its edges count once
    stops = {key for key, _ in targets} if stop_at_inputs else ()
    while stack:
        node = stack.pop()
        if id(node) in stops:
            continue
        for nxt, _ in node.next_functions:
            if nxt is None:
                continue
            key = id(nxt)
            if key in deps:
                deps[key] += 1
            else:
                deps[key] = 1
                if key not in nodes:
                    nodes[key] = nxt
                    stack.append(nxt)

    # 2. seed
    buffers: dict[int, list] = {}
    for r, g in zip(roots, grad_roots):
        node = r.grad_fn
        if node is None:
            node = _grad_edge(r)[0]
            nr = 0
        else:
            nr = r._output_nr
        buf = buffers.setdefault(id(node), [None] * _num_outputs(node))
        buf[nr] = _add(buf[nr], g)
    ready = [n for n in (nodes[k] for k in list(buffers)) if deps.get(id(n), 0) == 0]
    ready_ids = {id(n) for n in ready}

    # 3. run the nodes
    check_nan = anomaly.is_anomaly_enabled()
    prof = function._profiler  # ember.profiler: records each node's backward when active
    finished = []
    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            grads = buffers.pop(id(node), None) or [None] * _num_outputs(node)
            for nr, hooks in node.pre_hooks.items():
                if grads[nr] is not None:
                    # retain_grad() sees the gradient after every user hook, as in PyTorch
                    hooks = sorted(hooks, key=lambda h: getattr(h, "retains_grad", False))
                    _run_hooks(hooks, grads, nr)
            if capture_keys:
                for nr in range(len(grads)):
                    if (id(node), nr) in capture_keys:
                        captured[(id(node), nr)] = grads[nr]
            if id(node) in stops:
                continue
            if isinstance(node, AccumulateGrad):
                if inputs is None and grads[0] is not None:
                    if prof is not None:
                        token = prof.push("AccumulateGrad", "backward", grads)
                    accumulate_grad(node.variable, grads, create_graph)
                    if prof is not None:
                        prof.pop(token)
                continue
            if not retain_graph:
                # released after the walk: a later node may still read this one's inputs as its outputs
                finished.append(node)
            # straight from _apply to _send: a local variable here would keep the gradients
            # referenced, and _sole_owner would then copy them
            _send(node, _apply(node, grads, prof, check_nan, create_graph), buffers, deps, ready,
                  ready_ids, create_graph)

    for node in finished:
        node.release()
    if inputs is not None:
        result = tuple(captured.get(key) for key in targets)
        if not allow_unused and any(g is None for g in result):
            raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                               "in the graph. Set allow_unused=True if this is the desired behavior.")
        return result
    return None


def _apply(node, grads: list, prof, check_nan: bool, create_graph: bool) -> tuple:
    """The gradients ``node`` sends to its inputs (its missing output gradients taken as zeros)."""
    if all(g is None for g in grads):
        return (None,) * len(node.next_functions)
    if node.ctx is None or node.ctx.materialize_grads:  # (a released ctx: apply raises below)
        for i, g in enumerate(grads):
            if g is None and node.output_meta[i] is not None:
                grads[i] = _zeros_for(node, i)
    if prof is not None:
        token = prof.push(node.name(), "backward", grads)
    in_grads = node.apply(grads, create_graph)
    if prof is not None:
        prof.pop(token)
    if check_nan:
        _check_nan(node, in_grads)
    for hook in node.hooks:
        hook(in_grads, grads)
    return in_grads


def _send(node, in_grads: tuple, buffers: dict, deps: dict, ready: list, ready_ids: set,
          create_graph: bool) -> None:
    """Add ``node``'s input gradients into the buffers of the nodes they flow to; a node whose
    consumers have all sent theirs becomes ready."""
    for (nxt, nr), g in zip(node.next_functions, in_grads):
        if nxt is None:
            continue
        key = id(nxt)
        if g is not None:
            buf = buffers.get(key)
            if buf is None:
                buf = buffers[key] = [None] * _num_outputs(nxt)
            _sum_into(buf, nr, g, create_graph)
        deps[key] -= 1
        if deps[key] == 0 and key not in ready_ids:
            ready_ids.add(key)
            ready.append(nxt)


def _num_outputs(node) -> int:
    return 1 if isinstance(node, AccumulateGrad) else node.num_outputs


def accumulate_grad(t, grads: list, create_graph: bool) -> None:
    """Add ``grads[0]`` into the leaf ``t``'s ``.grad``: in place into an existing ``.grad``
    (without create_graph); as the new ``.grad`` itself when only the engine holds it; else a copy,
    so that ``.grad`` never shares memory with a tensor the user can still see."""
    if t._hooks:
        _run_hooks(t._hooks, grads, 0)
    sole = _sole_owner(grads, 0)  # (before any local variable refers to the gradient)
    g = grads[0]
    if g._data.shape != t._data.shape:
        raise RuntimeError(f"internal error: gradient shape {tuple(g.shape)} does not match "
                           f"tensor shape {tuple(t.shape)}")
    if not create_graph and g.requires_grad:
        g = g.detach()
    if t.grad is None:
        t.grad = g if sole and g._data.flags.c_contiguous else g.clone()  # C order, as a copy
    elif create_graph:
        t.grad = t.grad + g
    else:
        t.grad._data += g._data


def _check_nan(node, in_grads) -> None:
    for i, g in enumerate(in_grads):
        if g is not None and g._data.dtype.kind == "f" and bool(g.isnan().any()):
            where = f"\nThe forward call that created it:\n{node.stack}" if node.stack else ""
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.{where}")


_ALONE = _refcounts([Tensor._make(np.empty(1))], 0)  # what _sole_owner expects
