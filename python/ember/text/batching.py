"""Batching text for sequence models.

Two styles:

* **One long stream** (language modelling, as in PyTorch's ``word_language_model`` example):
  :func:`batchify` cuts the token stream into ``batch_size`` parallel columns and
  :func:`get_batch` takes ``bptt`` consecutive rows as input, the same rows shifted by one as
  target.
* **Many separate sequences** (classification, translation): :class:`BucketBatchSampler`
  groups sequences of similar length so little padding is needed, and :class:`PadCollate`
  pads each batch into one tensor.
"""
from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

import ember
from ember.nn.utils.rnn import pad_sequence
from ember.utils.data import Sampler, default_collate
from ember.utils.data._arrays import to_numpy

__all__ = ["BucketBatchSampler", "PadCollate", "batchify", "get_batch"]


def batchify(data: ember.Tensor | Sequence[int], batch_size: int) -> ember.Tensor:
    """Arrange a 1-D token stream into ``batch_size`` columns: ``(len(data) // batch_size,
    batch_size)``.

    Column ``j`` holds the ``j``-th contiguous slice of the stream; tokens that do not fill a
    whole row are dropped. The alphabet with ``batch_size=4`` gives 6 rows, columns
    ``a..f``, ``g..l``, ``m..r``, ``s..x``, and drops ``y z``. Each column is then read
    top to bottom as an independent sequence.
    """
    if not isinstance(data, ember.Tensor):
        data = ember.tensor(list(data), dtype=ember.int64)
    if data.ndim != 1:
        raise ValueError(f"batchify expects a 1-D stream of token ids, got shape {tuple(data.shape)}")
    rows = data.shape[0] // batch_size
    return data[: rows * batch_size].reshape(batch_size, rows).t().contiguous()


def get_batch(source: ember.Tensor, i: int, bptt: int = 35) -> tuple[ember.Tensor, ember.Tensor]:
    """Input rows ``i .. i+L-1`` of a batchified ``source`` and the next-token targets.

    ``L = min(bptt, len(source) - 1 - i)``. ``data`` has shape ``(L, batch_size)``; ``target``
    is rows ``i+1 .. i+L`` flattened to ``(L * batch_size,)``, ready for cross-entropy against
    ``(L * batch_size, vocab)`` logits. Loop with ``for i in range(0, len(source) - 1, bptt)``.
    """
    seq_len = min(bptt, source.shape[0] - 1 - i)
    if seq_len <= 0:
        raise ValueError(f"i={i} leaves no target rows in a source of {source.shape[0]} rows")
    data = source[i : i + seq_len]
    target = source[i + 1 : i + 1 + seq_len].reshape(-1)
    return data, target


class BucketBatchSampler(Sampler[list[int]]):
    """Batches of indices whose sequences have similar lengths, for ``DataLoader(batch_sampler=...)``.

    Every epoch the indices are shuffled (with ``shuffle``), cut into pools of
    ``pool_size`` (100 batches' worth by default), each pool is sorted by length and cut into
    batches, and the batches are shuffled. Sorting only within pools keeps some randomness in
    which sequences meet, while each batch needs little padding.
    """

    def __init__(self, lengths: Sequence[int], batch_size: int, shuffle: bool = True,
                 drop_last: bool = False, pool_size: int | None = None,
                 generator: ember.Generator | None = None) -> None:
        if batch_size <= 0:
            raise ValueError(f"batch_size should be positive, got {batch_size}")
        self.lengths = to_numpy(lengths).astype(np.int64)
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.pool_size = pool_size or 100 * batch_size
        self.generator = generator

    def _pool_sizes(self) -> list[int]:
        full, rest = divmod(len(self.lengths), self.pool_size)
        return [self.pool_size] * full + ([rest] if rest else [])

    def __iter__(self) -> Iterator[list[int]]:
        rng = ember.random.numpy_generator(self.generator)
        order = rng.permutation(len(self.lengths)) if self.shuffle else np.arange(len(self.lengths))
        batches, start = [], 0
        for size in self._pool_sizes():
            pool = order[start : start + size]
            start += size
            pool = pool[np.argsort(self.lengths[pool], kind="stable")]
            for first in range(0, size, self.batch_size):
                batch = pool[first : first + self.batch_size]
                if len(batch) == self.batch_size or not self.drop_last:
                    batches.append(batch.tolist())
        if self.shuffle:
            batches = [batches[k] for k in rng.permutation(len(batches))]
        return iter(batches)

    def __len__(self) -> int:
        rounding = math.floor if self.drop_last else math.ceil
        return sum(rounding(size / self.batch_size) for size in self._pool_sizes())


class PadCollate:
    """A ``collate_fn`` for variable-length token sequences, built on
    :func:`ember.nn.utils.rnn.pad_sequence`.

    Each sample is a sequence of token ids (list, array or 1-D tensor) or a tuple
    ``(sequence, target, ...)``. The batch is ``(padded, lengths)`` or
    ``(padded, lengths, targets, ...)``: ``padded`` has shape ``(max_len, B)`` (``(B, max_len)``
    with ``batch_first``) and holds ``padding_value`` past each sequence's end; ``lengths`` is
    an ``int64`` tensor ``(B,)``, as ``pack_padded_sequence`` wants it; the remaining fields go
    through ``default_collate``.
    """

    def __init__(self, padding_value: int = 0, batch_first: bool = False) -> None:
        self.padding_value = padding_value
        self.batch_first = batch_first

    def __call__(self, batch: Sequence[Any]) -> tuple[ember.Tensor, ...]:
        has_extra_fields = isinstance(batch[0], tuple)
        sequences = [ember.as_tensor(sample[0] if has_extra_fields else sample).reshape(-1)
                     for sample in batch]
        lengths = ember.tensor([s.shape[0] for s in sequences], dtype=ember.int64)
        padded = pad_sequence(sequences, batch_first=self.batch_first,
                              padding_value=self.padding_value)
        result = (padded, lengths)
        if has_extra_fields:
            result += tuple(default_collate([sample[1:] for sample in batch]))
        return result

    def __repr__(self) -> str:
        return f"PadCollate(padding_value={self.padding_value}, batch_first={self.batch_first})"
