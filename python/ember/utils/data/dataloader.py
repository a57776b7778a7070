"""DataLoader: batches from a dataset, in order or shuffled, in this process or in workers.

A loader combines three pieces:

* a sampler that decides the order of indices (sequential, shuffled, weighted, ...),
* a batch sampler that groups indices into batches of ``batch_size``,
* a collate function that stacks the samples of a batch into tensors.

With ``num_workers > 0`` the samples are read and collated in worker processes started with
the ``spawn`` method: every worker imports the program afresh, so the dataset, the collate
function and ``worker_init_fn`` must be importable (defined at module level, not in a
notebook cell or a lambda), and a script that makes a multi-worker loader keeps its top-level
code under ``if __name__ == "__main__":``. Batches come back in the same order, with the same
contents, as with ``num_workers=0``.
"""
from __future__ import annotations

import itertools
import math
import multiprocessing
import queue
import time
from collections.abc import Iterable
from typing import Any, Callable, Generic, TypeVar

import ember

from ._worker import _ExceptionWrapper, _make_fetcher, _Reset, _worker_loop, _WorkerDone
from .collate import _collate_on_host, _convert_on_host, default_collate, default_convert
from .dataset import Dataset, IterableDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

T_co = TypeVar("T_co", covariant=True)

__all__ = ["DataLoader"]

# How long the main process waits on the result queue before checking that workers are alive.
_POLL_INTERVAL_S = 1.0
# How long a worker may take to exit after being asked to, before it is terminated.
_JOIN_TIMEOUT_S = 5.0


class DataLoader(Generic[T_co]):
    """Iterate over ``dataset`` in batches.

    Args:
        dataset: a map-style :class:`Dataset` (``len`` and ``[i]``) or an
            :class:`IterableDataset`.
        batch_size: samples per batch; ``None`` turns batching off (each sample is only
            converted to tensors by :func:`default_convert`).
        shuffle: visit the samples in a new random order every epoch.
        sampler: the order of indices (mutually exclusive with ``shuffle``).
        batch_sampler: yields whole lists of indices (mutually exclusive with
            ``batch_size``, ``shuffle``, ``sampler`` and ``drop_last``).
        num_workers: worker processes reading and collating batches; 0 reads in this process.
        collate_fn: turns a list of samples into a batch; :func:`default_collate` by default.
        pin_memory: accepted for PyTorch compatibility and has no effect: batches are NumPy
            host memory, which CuPy copies to the GPU when a tensor is moved with ``.to``.
        drop_last: drop the last batch when it has fewer than ``batch_size`` samples.
        timeout: seconds to wait for a batch from the workers before raising (0: forever).
        worker_init_fn: called as ``worker_init_fn(worker_id)`` in each worker after seeding.
        multiprocessing_context: start method name or context; ``"spawn"`` by default.
        generator: the :class:`ember.Generator` used for shuffling and for the workers' seeds;
            the global generator (``ember.manual_seed``) when ``None``.
        prefetch_factor: batches requested ahead per worker (2 by default).
        persistent_workers: keep the workers alive between epochs instead of restarting them.

    Each epoch draws one seed from ``generator``; worker ``k`` seeds ember, NumPy and Python's
    ``random`` with ``seed + k``. The seed is drawn even with ``num_workers=0`` so that the
    shuffling order does not depend on the number of workers.
    """

    def __init__(
        self,
        dataset: Dataset[T_co],
        batch_size: int | None = 1,
        shuffle: bool | None = None,
        sampler: Sampler | Iterable | None = None,
        batch_sampler: Sampler | Iterable | None = None,
        num_workers: int = 0,
        collate_fn: Callable[[list], Any] | None = None,
        pin_memory: bool = False,
        drop_last: bool = False,
        timeout: float = 0,
        worker_init_fn: Callable[[int], None] | None = None,
        multiprocessing_context: str | Any | None = None,
        generator: ember.Generator | None = None,
        *,
        prefetch_factor: int | None = None,
        persistent_workers: bool = False,
    ) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option can only be given with num_workers > 0")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        if isinstance(dataset, IterableDataset):
            if shuffle:
                raise ValueError("DataLoader with an IterableDataset cannot shuffle: the "
                                 "dataset decides its own order")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader with an IterableDataset takes no sampler or "
                                 "batch_sampler")
        else:
            if sampler is not None and shuffle:
                raise ValueError("sampler option is mutually exclusive with shuffle")
            if batch_sampler is not None:
                if batch_size != 1 or shuffle or sampler is not None or drop_last:
                    raise ValueError("batch_sampler option is mutually exclusive with "
                                     "batch_size, shuffle, sampler, and drop_last")
                batch_size, drop_last = None, False
            elif batch_size is None and drop_last:
                raise ValueError("batch_size=None option disables auto-batching and is "
                                 "mutually exclusive with drop_last")
            if sampler is None:
                sampler = (RandomSampler(dataset, generator=generator) if shuffle
                           else SequentialSampler(dataset))
            if batch_size is not None and batch_sampler is None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.dataset = dataset
        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.pin_memory = pin_memory
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.generator = generator
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers = persistent_workers
        if multiprocessing_context is None or isinstance(multiprocessing_context, str):
            multiprocessing_context = multiprocessing.get_context(multiprocessing_context or "spawn")
        self.multiprocessing_context = multiprocessing_context
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self._persistent_iterator: _MultiProcessIterator | None = None

    @property
    def _auto_collation(self) -> bool:
        """True when samples are grouped into batches (by the loader or a batch sampler)."""
        if isinstance(self.dataset, IterableDataset):
            return self.batch_size is not None
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Iterable:
        """What one task is drawn from: lists of indices when batching, single indices if not."""
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self) -> _BaseIterator:
        if self.num_workers == 0:
            return _SingleProcessIterator(self)
        if not self.persistent_workers:
            return _MultiProcessIterator(self)
        if self._persistent_iterator is None:
            self._persistent_iterator = _MultiProcessIterator(self)
        else:
            self._persistent_iterator._start_new_epoch()
        return self._persistent_iterator

    def __len__(self) -> int:
        """Number of batches in one epoch (for an IterableDataset, from ``len(dataset)``)."""
        if isinstance(self.dataset, IterableDataset):
            length = len(self.dataset)  # TypeError when the stream has no known length
            if self.batch_size is None:
                return length
            rounding = math.floor if self.drop_last else math.ceil
            return rounding(length / self.batch_size)
        return len(self._index_sampler)


class _BaseIterator:
    """What both iterators share: the epoch's seed and its stream of tasks.

    A task is what one batch is made from: a list of indices (or a single index without
    batching) for a map-style dataset; nothing for an iterable dataset, whose batches are
    simply the next samples of the stream.
    """

    def __init__(self, loader: DataLoader) -> None:
        self._loader = loader
        self._fetcher_options = {"auto_collation": loader._auto_collation,
                                     "collate_fn": loader.collate_fn,
                                     "batch_size": loader.batch_size,
                                     "drop_last": loader.drop_last}
        self._draw_epoch()

    def _draw_epoch(self) -> None:
        loader = self._loader
        self._base_seed = int(ember.random.numpy_generator(loader.generator).integers(2**62))
        if isinstance(loader.dataset, IterableDataset):
            self._tasks = itertools.repeat(None)
        else:
            self._tasks = iter(loader._index_sampler)

    def __iter__(self) -> _BaseIterator:
        return self

    def __len__(self) -> int:
        return len(self._loader)


class _SingleProcessIterator(_BaseIterator):
    """Reads and collates each batch in the calling process when it is asked for."""

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        self._fetcher = _make_fetcher(loader.dataset, **self._fetcher_options)

    def __next__(self) -> Any:
        task = next(self._tasks)  # StopIteration here, or from the fetcher, ends the epoch
        return self._fetcher.fetch(task)


def _split_collate(collate_fn: Callable) -> tuple:
    """The halves of ``collate_fn`` run in the workers and in the main process.

    The default functions collate to NumPy in the workers, so only arrays cross the process
    boundary, and make tensors in the main process; a user's function runs whole in the
    workers, so what it returns must be picklable.
    """
    if collate_fn is default_collate:
        return _collate_on_host, default_convert
    if collate_fn is default_convert:
        return _convert_on_host, default_convert
    return collate_fn, _unchanged


def _unchanged(batch: Any) -> Any:
    return batch


class _MultiProcessIterator(_BaseIterator):
    """Hands tasks to worker processes and yields their batches in task order.

    Each worker has its own index queue, so the main process decides which worker makes
    which batch (round robin); all workers answer on one result queue. Results that arrive
    ahead of their turn wait in ``_waiting`` until the batches before them have been yielded.
    """

    def __init__(self, loader: DataLoader) -> None:
        super().__init__(loader)
        worker_collate, self._finish_batch = _split_collate(loader.collate_fn)
        worker_options = dict(self._fetcher_options, collate_fn=worker_collate)
        context = loader.multiprocessing_context
        self._result_queue = context.Queue()
        self._done = context.Event()
        self._index_queues = []
        self._workers = []
        self._shut_down = False
        for worker_id in range(loader.num_workers):
            index_queue = context.Queue()
            worker = context.Process(
                target=_worker_loop,
                args=(loader.dataset, index_queue, self._result_queue, self._done, worker_options,
                      loader.worker_init_fn, worker_id, loader.num_workers, self._base_seed),
                daemon=True,
            )
            worker.start()
            self._index_queues.append(index_queue)
            self._workers.append(worker)
        self._next_task_id = 0
        self._start_bookkeeping()

    def _start_new_epoch(self) -> None:
        """Persistent workers: reuse the processes for another pass over the data."""
        self._draw_epoch()
        for index_queue in self._index_queues:
            index_queue.put(_Reset(self._base_seed))
        self._start_bookkeeping()

    def _start_bookkeeping(self) -> None:
        """Reset the per-epoch state and send the first tasks.

        Task ids keep increasing across epochs, so results of an epoch that was abandoned
        half-way (ids below ``_epoch_first_task``) are recognised and dropped.
        """
        num_workers = self._loader.num_workers
        self._epoch_first_task = self._next_task_id
        self._next_to_yield = self._next_task_id
        self._waiting = {}
        self._active_workers = [True] * num_workers
        self._worker_turn = itertools.cycle(range(num_workers))
        self._tasks_exhausted = False
        for _ in range(self._loader.prefetch_factor * num_workers):
            self._send_task()

    def _send_task(self) -> None:
        """Send the next task to the next worker (in turn) whose stream is not exhausted."""
        if self._tasks_exhausted or not any(self._active_workers):
            return
        worker_id = next(self._worker_turn)
        while not self._active_workers[worker_id]:
            worker_id = next(self._worker_turn)
        try:
            task = next(self._tasks)
        except StopIteration:
            self._tasks_exhausted = True
            return
        self._index_queues[worker_id].put((self._next_task_id, task))
        self._next_task_id += 1

    def __next__(self) -> Any:
        while self._next_to_yield < self._next_task_id:
            result = self._wait_for(self._next_to_yield)
            self._next_to_yield += 1
            if isinstance(result, _WorkerDone):
                self._active_workers[result.worker_id] = False
                continue
            self._send_task()
            if isinstance(result, _ExceptionWrapper):
                result.reraise()
            return self._finish_batch(result)
        if not self._loader.persistent_workers:
            self._shutdown()
        raise StopIteration

    def _wait_for(self, task_id: int) -> Any:
        while task_id not in self._waiting:
            received_id, result = self._receive()
            if received_id >= self._epoch_first_task:
                self._waiting[received_id] = result
        return self._waiting.pop(task_id)

    def _receive(self) -> tuple:
        """The next (task_id, result) from any worker; raises if a worker died or on timeout."""
        waited = 0.0
        timeout = self._loader.timeout
        while True:
            poll = _POLL_INTERVAL_S if not timeout else min(_POLL_INTERVAL_S, timeout - waited)
            started = time.monotonic()
            try:
                return self._result_queue.get(timeout=poll)
            except queue.Empty:
                waited += time.monotonic() - started
            dead = [worker for worker in self._workers if not worker.is_alive()]
            if dead:
                self._shutdown()
                details = ", ".join(f"pid {w.pid} exit code {w.exitcode}" for w in dead)
                raise RuntimeError(f"DataLoader worker(s) exited unexpectedly ({details})")
            if timeout and waited >= timeout:
                raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def _shutdown(self) -> None:
        """Ask every worker to exit, terminate those that do not, and close the queues."""
        if self._shut_down:
            return
        self._shut_down = True
        self._done.set()
        for index_queue in self._index_queues:
            index_queue.put(None)
        for worker in self._workers:
            worker.join(timeout=_JOIN_TIMEOUT_S)
            if worker.is_alive():
                worker.terminate()
                worker.join()
        for message_queue in (*self._index_queues, self._result_queue):
            message_queue.cancel_join_thread()
            message_queue.close()

    def __del__(self) -> None:
        if hasattr(self, "_shut_down"):  # absent when __init__ failed before starting workers
            self._shutdown()
