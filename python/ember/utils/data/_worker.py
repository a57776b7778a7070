"""What runs inside a DataLoader worker process, and what the worker tells the main process.

Protocol (all messages are picklable plain objects):

* main -> worker, on the worker's own index queue:
  ``(task_id, payload)`` fetch one batch (``payload`` is the list of indices for a map-style
  dataset, unused for an iterable one); ``_Reset(seed)`` start a new epoch (persistent
  workers); ``None`` exit.
* main -> all workers: the ``done`` event, set at shutdown. Workers also exit when it is set
  because a queue message is not always delivered: when an abandoned iterator is collected
  by the garbage collector, Python may already have closed its queues' sending threads.
* worker -> main, on the shared result queue: ``(task_id, batch)`` where ``batch`` is the
  collated data, an :class:`_ExceptionWrapper`, or :class:`_WorkerDone` once an iterable
  dataset's copy in that worker is exhausted.
"""
from __future__ import annotations

import itertools
import multiprocessing
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import ember

from .dataset import IterableDataset

__all__ = ["WorkerInfo", "get_worker_info"]

# How often a worker waiting for work checks whether it should exit.
_POLL_INTERVAL_S = 0.2


@dataclass(frozen=True)
class WorkerInfo:
    """Describes the worker process that is running: see :func:`get_worker_info`."""

    id: int
    num_workers: int
    seed: int
    dataset: Any


_worker_info: WorkerInfo | None = None


def get_worker_info() -> WorkerInfo | None:
    """In a DataLoader worker process, its :class:`WorkerInfo`; in the main process, ``None``.

    An :class:`~ember.utils.data.IterableDataset` uses it to give each worker its own share of
    the stream, e.g. ``itertools.islice(stream, info.id, None, info.num_workers)``.
    """
    return _worker_info


@dataclass(frozen=True)
class _Reset:
    """Start a new epoch: reseed and, for an iterable dataset, restart its iterator."""

    seed: int


@dataclass(frozen=True)
class _WorkerDone:
    """This worker's copy of the iterable dataset has no more batches this epoch."""

    worker_id: int


class _ExceptionWrapper:
    """An exception raised in a worker, carried to the main process with its traceback."""

    def __init__(self, worker_id: int) -> None:
        exc_type, _, _ = sys.exc_info()
        self.exc_type = exc_type
        self.message = (
            f"Caught {exc_type.__name__} in DataLoader worker process {worker_id}.\n"
            f"Original {traceback.format_exc()}"
        )

    def reraise(self) -> None:
        try:
            error = self.exc_type(self.message)
        except TypeError:  # an exception type whose constructor wants other arguments
            error = RuntimeError(self.message)
        raise error


class _MapFetcher:
    """Reads the samples at the given indices and collates them."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable) -> None:
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn

    def fetch(self, indices: Any) -> Any:
        if self.auto_collation:
            return self.collate_fn([self.dataset[i] for i in indices])
        return self.collate_fn(self.dataset[indices])


class _IterableFetcher:
    """Takes the next sample (or next ``batch_size`` samples) from the dataset's iterator.

    Raises ``StopIteration`` when the stream is exhausted, or when ``drop_last`` is set and
    fewer than ``batch_size`` samples remain.
    """

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable,
                 batch_size: int | None, drop_last: bool) -> None:
        self.iterator = iter(dataset)
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.batch_size = batch_size
        self.drop_last = drop_last

    def fetch(self, _unused_payload: Any = None) -> Any:
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        batch = list(itertools.islice(self.iterator, self.batch_size))
        if not batch or (self.drop_last and len(batch) < self.batch_size):
            raise StopIteration
        return self.collate_fn(batch)


def _make_fetcher(dataset: Any, auto_collation: bool, collate_fn: Callable,
                  batch_size: int | None, drop_last: bool):
    if isinstance(dataset, IterableDataset):
        return _IterableFetcher(dataset, auto_collation, collate_fn, batch_size, drop_last)
    return _MapFetcher(dataset, auto_collation, collate_fn)


def _seed_everything(seed: int) -> None:
    """Seed ember's global CPU generator, Python's ``random`` and NumPy's legacy global
    generator, so that random transforms in a worker are reproducible.

    Only the CPU generator: ``ember.manual_seed`` would also seed CuPy, which would start a
    CUDA context (time and GPU memory) in every worker; workers prepare host data only.
    """
    ember.default_generator.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)  # the legacy generator only takes 32-bit seeds


def _worker_loop(
    dataset: Any,
    index_queue: multiprocessing.Queue,
    result_queue: multiprocessing.Queue,
    done: multiprocessing.Event,
    fetcher_options: dict,
    worker_init_fn: Callable[[int], None] | None,
    worker_id: int,
    num_workers: int,
    base_seed: int,
) -> None:
    """Body of a worker process: serve fetch requests until told to stop (``None`` or the
    ``done`` event) or the parent process dies.

    Worker ``k`` seeds its random generators with ``base_seed + k``, where the main process
    draws ``base_seed`` afresh for every epoch.
    """

    def start_epoch(epoch_seed: int) -> None:
        global _worker_info
        _seed_everything(epoch_seed + worker_id)
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers,
                                  seed=epoch_seed + worker_id, dataset=dataset)

    start_epoch(base_seed)
    init_error = None
    fetcher = None
    try:
        if worker_init_fn is not None:
            worker_init_fn(worker_id)
        fetcher = _make_fetcher(dataset, **fetcher_options)
    except Exception:  # noqa: BLE001 (whatever user code raises is reported to the main process)
        init_error = _ExceptionWrapper(worker_id)  # in answer to every request

    parent = multiprocessing.parent_process()
    while True:
        try:
            message = index_queue.get(timeout=_POLL_INTERVAL_S)
        except queue.Empty:
            if done.is_set() or (parent is not None and not parent.is_alive()):
                break
            continue
        if message is None or done.is_set():
            break
        if isinstance(message, _Reset):
            start_epoch(message.seed)
            if init_error is None:
                fetcher = _make_fetcher(dataset, **fetcher_options)
            continue
        task_id, payload = message
        if init_error is not None:
            result = init_error
        else:
            try:
                result = fetcher.fetch(payload)
            except StopIteration:
                result = _WorkerDone(worker_id)
            except Exception:  # noqa: BLE001 (reported to the main process, which re-raises)
                result = _ExceptionWrapper(worker_id)
        result_queue.put((task_id, result))
    # Exit without waiting for unread results to drain: the main process no longer wants them.
    result_queue.cancel_join_thread()
    result_queue.close()
