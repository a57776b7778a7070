"""A built-in profiler with PyTorch's interface::

    with ember.profiler.profile() as prof:
        with ember.profiler.record_function("train_step"):
            loss = loss_fn(model(x), y); loss.backward(); optimizer.step()
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))
    prof.export_chrome_trace("trace.json")   # open in chrome://tracing or ui.perfetto.dev

What is recorded, and where:

* the forward of every op, named by its ``Function`` class (``Matmul``, ``Conv2d``...), from
  ``Function.apply`` (``ember/autograd/function.py``);
* the backward of every graph node (``MatmulBackward0``...) and every leaf's gradient
  accumulation (``AccumulateGrad``), from the engine loop (``ember/autograd/engine.py``); the
  ops a backward formula runs nest inside its node;
* optimizer steps (``Optimizer.step#SGD.step``) and user regions (``record_function``).

When no profiler is active both hooks cost one module-attribute lookup per op
(``function._profiler is None``). Times are wall-clock (``time.perf_counter_ns``); a region's
*self* time is its total time minus that of the regions directly nested in it. CUDA runs
asynchronously, so while a profiler with ``ProfilerActivity.CUDA`` (the default where CUDA is
available) is active, every recorded region synchronises the device when it starts and ends:
a CUDA op's time then includes its kernels, at the price of losing the CPU/GPU overlap.
"""
from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Iterable
from enum import Enum
from typing import Self

from . import backend
from .autograd import function as _function
from .tensor import Tensor

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "ProfilerActivity", "profile",
           "record_function"]


class ProfilerActivity(Enum):
    """What to profile: ``CPU`` records every op; ``CUDA`` additionally synchronises the device
    around each recorded region so that CUDA ops are timed with their kernels."""

    CPU = 0
    CUDA = 1


def supported_activities() -> set:
    """The activities this machine can profile (CUDA only where it is available)."""
    return {ProfilerActivity.CPU, ProfilerActivity.CUDA} if backend.cuda_available() else \
        {ProfilerActivity.CPU}


class FunctionEvent:
    """One recorded region: an op's forward, a backward node, an optimizer step or a user
    ``record_function``. Times are in microseconds, as in PyTorch."""

    __slots__ = ("child_ns", "cpu_children", "cpu_parent", "device", "end_ns", "input_shapes", "kind", "name",
                 "start_ns", "thread")

    def __init__(self, name: str, device: str, kind: str, thread: int, start_ns: int, end_ns: int,
                 child_ns: int, input_shapes: list | None, children: list) -> None:
        self.name = name
        self.device = device  # "cpu", "cuda" or "-" for regions that are not one op
        self.kind = kind  # "cpu_op", "backward", "user_annotation"
        self.thread = thread
        self.start_ns = start_ns
        self.end_ns = end_ns
        self.child_ns = child_ns  # total time of the directly nested regions
        self.input_shapes = input_shapes
        self.cpu_parent: FunctionEvent | None = None
        self.cpu_children: list[FunctionEvent] = children
        for child in children:
            child.cpu_parent = self

    @property
    def cpu_time_total(self) -> float:
        return (self.end_ns - self.start_ns) / 1e3

    @property
    def self_cpu_time_total(self) -> float:
        return (self.end_ns - self.start_ns - self.child_ns) / 1e3

    def __repr__(self) -> str:
        return (f"<FunctionEvent name={self.name} device={self.device} "
                f"cpu_time_total={self.cpu_time_total:.3f}us self={self.self_cpu_time_total:.3f}us>")


class FunctionEventAvg:
    """The events of one name (and device, and input shapes when grouped by them) added up."""

    def __init__(self, key: str, device: str, input_shapes: list | None = None) -> None:
        self.key = key
        self.device = device
        self.input_shapes = input_shapes
        self.count = 0
        self.cpu_time_total = 0.0  # microseconds
        self.self_cpu_time_total = 0.0

    def add(self, event: FunctionEvent) -> None:
        self.count += 1
        self.cpu_time_total += event.cpu_time_total
        self.self_cpu_time_total += event.self_cpu_time_total

    @property
    def cpu_time(self) -> float:
        """Average total time per call (microseconds)."""
        return self.cpu_time_total / max(self.count, 1)

    @property
    def self_cpu_time(self) -> float:
        return self.self_cpu_time_total / max(self.count, 1)

    def __repr__(self) -> str:
        return (f"<FunctionEventAvg key={self.key} device={self.device} count={self.count} "
                f"cpu_time_total={self.cpu_time_total:.3f}us self={self.self_cpu_time_total:.3f}us>")


# ``table(sort_by=...)`` keys: PyTorch's names. Every time here is wall-clock, which for a
# synchronised CUDA op is its device time too, so the CUDA spellings sort by the same values.
_SORT_KEYS = {
    "cpu_time_total": "cpu_time_total", "cuda_time_total": "cpu_time_total",
    "self_cpu_time_total": "self_cpu_time_total", "self_cuda_time_total": "self_cpu_time_total",
    "cpu_time": "cpu_time", "cuda_time": "cpu_time", "self_cpu_time": "self_cpu_time",
    "count": "count",
}


def _format_us(us: float) -> str:
    if abs(us) >= 1e6:
        return f"{us / 1e6:.3f}s"
    if abs(us) >= 1e3:
        return f"{us / 1e3:.3f}ms"
    return f"{us:.3f}us"


class EventList(list):
    """A list of ``FunctionEvent`` or ``FunctionEventAvg`` with PyTorch's ``table``."""

    def __init__(self, events: Iterable = (), header: str = "") -> None:
        super().__init__(events)
        self._header = header

    @property
    def self_cpu_time_total(self) -> float:
        """Sum of the self times (microseconds): the profiled wall time spent in recorded regions."""
        return sum(e.self_cpu_time_total for e in self)

    def table(self, sort_by: str | None = None, row_limit: int = 100, max_name_column_width: int = 55,
              header: str | None = None, top_level_events_only: bool = False) -> str:
        """The events as a text table, one row each: name, device, self time (and its share of
        the total self time), total time (and share), average total time per call, calls, and
        input shapes when grouped by them. ``sort_by`` is one of PyTorch's keys
        (``"self_cpu_time_total"``, ``"cpu_time_total"``, ``"cpu_time"``, ``"count"``, or the
        ``cuda`` spellings) and sorts in decreasing order; ``row_limit < 0`` prints every row."""
        rows = list(self)
        if top_level_events_only:
            rows = [e for e in rows if getattr(e, "cpu_parent", None) is None]
        if sort_by is not None:
            if sort_by not in _SORT_KEYS:
                raise ValueError(f"table(): unknown sort_by {sort_by!r}; expected one of "
                                 f"{sorted(_SORT_KEYS)}")
            rows.sort(key=lambda e: getattr(e, _SORT_KEYS[sort_by]), reverse=True)
        total_self = self.self_cpu_time_total
        shown = rows if row_limit is None or row_limit < 0 else rows[:row_limit]
        with_shapes = any(getattr(e, "input_shapes", None) for e in shown)
        name_width = max([len("Name")] + [min(len(_key(e)), max_name_column_width) for e in shown])
        columns = [("Name", name_width, "<"), ("Device", 6, "<"), ("Self %", 8, ">"), ("Self", 12, ">"),
                   ("Total %", 8, ">"), ("Total", 12, ">"), ("Avg", 12, ">"), ("# Calls", 8, ">")]
        if with_shapes:
            columns.append(("Input Shapes", 40, "<"))
        line = "-" * (sum(w for _, w, _ in columns) + 2 * (len(columns) - 1))

        def fmt_row(cells):
            return "  ".join(f"{c:{align}{w}}" for c, (_, w, align) in zip(cells, columns)).rstrip()

        out = []
        head = self._header if header is None else header
        if head:
            out.append(head)
        out += [line, fmt_row([c for c, _, _ in columns]), line]
        for e in shown:
            name = _key(e)
            if len(name) > name_width:
                name = name[:name_width - 3] + "..."
            cells = [name, e.device,
                     f"{100 * e.self_cpu_time_total / total_self:.2f}%" if total_self else "-",
                     _format_us(e.self_cpu_time_total),
                     f"{100 * e.cpu_time_total / total_self:.2f}%" if total_self else "-",
                     _format_us(e.cpu_time_total),
                     _format_us(e.cpu_time_total / max(getattr(e, "count", 1), 1)),
                     str(getattr(e, "count", 1))]
            if with_shapes:
                cells.append(str(e.input_shapes) if e.input_shapes is not None else "")
            out.append(fmt_row(cells))
        out.append(line)
        out.append(f"Self time total: {_format_us(total_self)}")
        return "\n".join(out)

    def __str__(self) -> str:
        return self.table()


def _key(e) -> str:
    return e.key if isinstance(e, FunctionEventAvg) else e.name


def _device_of(values) -> str:
    """'cuda' or 'cpu' from the first Tensor among ``values`` (one level of lists looked into)."""
    for v in values:
        if isinstance(v, (list, tuple)):
            v = next((x for x in v if isinstance(x, Tensor)), None)
        if isinstance(v, Tensor):
            return "cuda" if backend.is_cuda_array(v._data) else "cpu"
    return "-"


def _shapes_of(values) -> list:
    """Input shapes as PyTorch records them: a Tensor's shape, [] for anything else."""
    return [list(v._data.shape) if isinstance(v, Tensor) else [] for v in values]


class _Recorder:
    """The object ``function._profiler`` points at while profiling: the hooks call ``push``
    when a region starts and ``pop`` with push's token when it ends. A region that raised is
    never popped; the next ``pop`` of an enclosing region discards it."""

    def __init__(self, record_shapes: bool, sync_cuda: bool) -> None:
        self.record_shapes = record_shapes
        self.sync_cuda = sync_cuda
        self.events: list[FunctionEvent] = []
        # thread -> open regions [name, device, kind, shapes, start, child_ns, children]
        self._stacks: dict[int, list] = {}

    def _sync(self) -> None:
        backend.require_cuda().cuda.Device().synchronize()

    def push(self, name: str, kind: str = "cpu_op", values=()) -> tuple:
        stack = self._stacks.setdefault(threading.get_ident(), [])
        device = _device_of(values) if values else "-"
        shapes = _shapes_of(values) if self.record_shapes and values else None
        if self.sync_cuda:
            self._sync()
        stack.append([name, device, kind, shapes, 0, 0, []])
        stack[-1][4] = time.perf_counter_ns()  # last, so that the bookkeeping is not counted
        return (stack, len(stack) - 1)

    def pop(self, token: tuple) -> None:
        if self.sync_cuda:
            self._sync()
        end = time.perf_counter_ns()
        stack, depth = token
        if len(stack) <= depth:  # already discarded (profiling stopped inside the region)
            return
        del stack[depth + 1:]
        name, device, kind, shapes, start, child_ns, children = stack.pop()
        event = FunctionEvent(name, device, kind, threading.get_ident(), start, end, child_ns, shapes, children)
        if stack:
            stack[-1][5] += end - start
            stack[-1][6].append(event)
        self.events.append(event)


class profile:
    """Records every op, backward node and optimizer step run inside the ``with`` block.

    Args:
        activities: ``ProfilerActivity`` values; default: every supported one. With
            ``ProfilerActivity.CUDA`` each recorded region synchronises the device (see the
            module docstring).
        record_shapes: also record the input shapes of each op (``key_averages(group_by_input_shape=True)``).
        enabled: ``False`` makes the profiler a no-op that records nothing.
    """

    def __init__(self, activities: Iterable[ProfilerActivity] | None = None, *, record_shapes: bool = False,
                 enabled: bool = True) -> None:
        self.activities = set(supported_activities() if activities is None else activities)
        unknown = [a for a in self.activities if not isinstance(a, ProfilerActivity)]
        if unknown:
            raise TypeError(f"activities must be ProfilerActivity values, got {unknown!r}")
        self.record_shapes = record_shapes
        self.enabled = enabled
        self._recorder: _Recorder | None = None
        self._events: list[FunctionEvent] = []

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if not self.enabled:
            return
        if _function._profiler is not None:
            raise RuntimeError("Profiler is already enabled: ember.profiler.profile() cannot be nested")
        sync = ProfilerActivity.CUDA in self.activities and backend.cuda_available()
        self._recorder = _Recorder(self.record_shapes, sync)
        self._events = self._recorder.events
        _function._profiler = self._recorder

    def stop(self) -> None:
        if self._recorder is None:
            return
        if _function._profiler is self._recorder:
            _function._profiler = None
        for stack in self._recorder._stacks.values():
            stack.clear()  # regions still open when profiling stops are not recorded
        self._recorder = None

    def _header(self) -> str:
        cuda = ("CUDA synchronised before and after every recorded region, so CUDA times include kernels"
                if ProfilerActivity.CUDA in self.activities and backend.cuda_available()
                else "CUDA not synchronised (CUDA op times are launch times)" if backend.cuda_available()
                else "CPU only")
        return f"Ember profiler: {len(self._events)} events; wall-clock times; {cuda}"

    def events(self) -> EventList:
        """Every recorded region, in the order they ended."""
        return EventList(self._events, self._header())

    def key_averages(self, group_by_input_shape: bool = False) -> EventList:
        """The events added up per name and device (and per input shapes if asked; that needs
        ``record_shapes=True``), in order of first appearance."""
        groups: dict = {}
        for e in self._events:
            shapes = e.input_shapes if group_by_input_shape else None
            key = (e.name, e.device, repr(shapes))
            avg = groups.get(key)
            if avg is None:
                avg = groups[key] = FunctionEventAvg(e.name, e.device, shapes)
            avg.add(e)
        return EventList(groups.values(), self._header())

    @property
    def self_cpu_time_total(self) -> float:
        return sum(e.self_cpu_time_total for e in self._events)

    def export_chrome_trace(self, path: str | os.PathLike) -> None:
        """Write the events in the Chrome trace-event JSON format (complete events, "ph": "X",
        microsecond timestamps), readable by chrome://tracing and ui.perfetto.dev."""
        origin = min((e.start_ns for e in self._events), default=0)
        pid = os.getpid()
        trace = []
        for e in sorted(self._events, key=lambda ev: ev.start_ns):
            args = {"Device": e.device}
            if e.input_shapes is not None:
                args["Input Dims"] = e.input_shapes
            trace.append({"name": e.name, "cat": e.kind, "ph": "X", "ts": (e.start_ns - origin) / 1e3,
                          "dur": (e.end_ns - e.start_ns) / 1e3, "pid": pid, "tid": e.thread, "args": args})
        with open(path, "w") as f:
            json.dump({"traceEvents": trace, "displayTimeUnit": "ms"}, f)


class record_function(contextlib.ContextDecorator):
    """Marks a user region (``with record_function("data"): ...`` or as a decorator); it appears
    in the profile like an op, with the ops run inside nested in it. Free when not profiling."""

    def __init__(self, name: str, args: str | None = None) -> None:
        self.name = name
        self.args = args
        self._open: list = []  # (recorder, token) per active entry (decorated functions may recurse)

    def __enter__(self) -> Self:
        recorder = _function._profiler
        token = recorder.push(self.name, "user_annotation") if recorder is not None else None
        self._open.append((recorder, token))
        return self

    def __exit__(self, *exc) -> bool:
        recorder, token = self._open.pop()
        if recorder is not None and recorder is _function._profiler:
            recorder.pop(token)
        return False
