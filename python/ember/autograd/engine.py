"""The backward engine: an iterative (no recursion) walk of the graph in dependency order.

1. Count, for every node reachable from the roots, how many edges point at it.
2. Start from the roots with their seed gradients; a node runs once every consumer has sent its
   gradient (count reaches zero), so each gradient is complete when used.
3. Leaves accumulate into ``.grad``; with ``inputs=`` (``autograd.grad``) gradients are captured
   instead. Saved values are released afterwards unless ``retain_graph``.
"""
from __future__ import annotations

from . import anomaly, function, grad_mode
from .function import AccumulateGrad


def _add(a, b):
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _sum_into(buf, nr, g, key, owned) -> None:
    """``buf[nr] += g`` for a gradient arriving at a node that already has one. Without
    create_graph (``owned`` is a set) the first sum is a new array that only the engine holds (its
    slot ``key`` goes into ``owned``) and later gradients are added into it in place: one
    allocation per slot instead of one per addition. With create_graph every sum is a graph op."""
    cur = buf[nr]
    if cur is None:
        buf[nr] = g
    elif owned is None or cur._data.shape != g._data.shape or cur._data.dtype != g._data.dtype or \
            not cur._data.ndim:  # (0-d arrays add up to NumPy scalars)
        buf[nr] = cur + g
    elif key in owned:
        cur._data += g._data
    else:
        buf[nr] = Tensor._make(cur._data + g._data)
        owned.add(key)


def _zeros_for(node, i):
    from .. import backend

    shape, dtype, dev = node.output_meta[i]
    return Tensor._make(backend.xp_for_device(dev).zeros(shape, dtype=dtype))


def run_backward(roots, grad_roots, retain_graph: bool, create_graph: bool, inputs=None,
                 allow_unused: bool = True):
    """Propagate ``grad_roots`` from ``roots``. With ``inputs`` return their gradients
    (and leave ``.grad`` untouched); otherwise accumulate into leaves' ``.grad``."""
    from .function import _grad_edge

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
    nodes: dict[int, object] = {}
    stack = []
    for r in roots:
        if r.grad_fn is not None:
            stack.append(r.grad_fn)
        elif r.requires_grad:
            stack.append(_grad_edge(r)[0])
    for n in stack:
        nodes[id(n)] = n
    seen = set(id(n) for n in stack)
    while stack:
        n = stack.pop()
        for nxt, _ in n.next_functions:
            if nxt is None:
                continue
            deps[id(nxt)] = deps.get(id(nxt), 0) + 1
            if id(nxt) not in seen:
                seen.add(id(nxt))
                nodes[id(nxt)] = nxt
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
    ready_ids = set(id(n) for n in ready)

    check_nan = anomaly.is_anomaly_enabled()
    prof = function._profiler  # ember.profiler: records each node's backward when active
    owned = None if create_graph else set()  # (id(node), nr) of sums only the engine holds
    finished = []
    with grad_mode.set_grad_enabled(create_graph):
        while ready:
            node = ready.pop()
            grads = buffers.pop(id(node), None) or [None] * _num_outputs(node)
            # a leaf may take an engine-made sum as its .grad without a copy (not if hooks see it)
            steal = bool(owned) and (id(node), 0) in owned and not node.pre_hooks and not capture_keys
            if owned:
                for nr in range(len(grads)):
                    owned.discard((id(node), nr))
            for nr, hooks in node.pre_hooks.items():
                # retain_grad() sees the gradient after every user hook, as in PyTorch
                for hook in sorted(hooks, key=lambda h: getattr(h, "retains_grad", False)):
                    out = hook(grads[nr]) if grads[nr] is not None else None
                    if out is not None:
                        grads[nr] = out
            if capture_keys:
                for nr in range(len(grads)):
                    if (id(node), nr) in capture_keys:
                        captured[(id(node), nr)] = grads[nr]
            if isinstance(node, AccumulateGrad):
                if inputs is None and grads[0] is not None:
                    if prof is not None:
                        token = prof.push("AccumulateGrad", "backward", grads)
                    _accumulate(node.variable, grads[0], create_graph, steal)
                    if prof is not None:
                        prof.pop(token)
                continue
            if all(g is None for g in grads):
                in_grads = (None,) * len(node.next_functions)
            else:
                grads = [g if g is not None else _zeros_for(node, i) for i, g in enumerate(grads)]
                if prof is not None:
                    token = prof.push(node.name(), "backward", grads)
                in_grads = node.apply(grads)
                if prof is not None:
                    prof.pop(token)
                if check_nan:
                    _check_nan(node, in_grads)
                for hook in node.hooks:
                    hook(in_grads, grads)
            if not retain_graph:
                # released after the walk: a later node may still read this one's inputs as its outputs
                finished.append(node)
            for (nxt, nr), g in zip(node.next_functions, in_grads):
                if nxt is None:
                    continue
                if g is not None:
                    buf = buffers.get(id(nxt))
                    if buf is None:
                        buf = buffers[id(nxt)] = [None] * _num_outputs(nxt)
                    _sum_into(buf, nr, g, (id(nxt), nr), owned)
                deps[id(nxt)] -= 1
                if deps[id(nxt)] == 0 and id(nxt) not in ready_ids:
                    ready_ids.add(id(nxt))
                    ready.append(nxt)

    for node in finished:
        node.release()
    if inputs is not None:
        result = tuple(captured.get(key) for key in targets)
        if not allow_unused and any(g is None for g in result):
            raise RuntimeError("One of the differentiated Tensors appears to not have been used "
                               "in the graph. Set allow_unused=True if this is the desired behavior.")
        return result
    return None


def _num_outputs(node) -> int:
    return 1 if isinstance(node, AccumulateGrad) else node.num_outputs


def _accumulate(t, g, create_graph: bool, steal: bool = False) -> None:
    """Add ``g`` into the leaf ``t``'s ``.grad``; ``steal``: ``g`` is an engine-made sum that
    nothing else holds, so it can become ``.grad`` without a copy."""
    for hook in t._hooks or ():
        out = hook(g)
        if out is not None:
            g, steal = out, False
    if not create_graph:
        g = g.detach()
    if g.shape != t.shape:
        raise RuntimeError(f"internal error: gradient shape {tuple(g.shape)} does not match "
                           f"tensor shape {tuple(t.shape)}")
    if t.grad is None:
        # own the memory: a gradient may alias an array that other code still holds
        t.grad = g if create_graph or steal else g.clone()
    elif create_graph:
        t.grad = t.grad + g
    else:
        t.grad._data += g._data


def _check_nan(node, in_grads) -> None:
    for i, g in enumerate(in_grads):
        if g is not None and g._data.dtype.kind == "f" and bool(g.isnan().any()):
            where = f"\nThe forward call that created it:\n{node.stack}" if node.stack else ""
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.{where}")


from ..tensor import Tensor  # (at the end: ember.tensor imports this package)
