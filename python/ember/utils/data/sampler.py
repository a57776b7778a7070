"""Samplers: the order in which a DataLoader visits a map-style dataset.

A sampler yields dataset indices; a batch sampler yields lists of indices, one list a batch.
Every random sampler draws from ``ember.random.numpy_generator(generator)``: its own seeded
:class:`ember.Generator` when given one, otherwise the global generator that
``ember.manual_seed`` reseeds. Random draws happen when iteration starts, so each epoch
(each ``iter(loader)``) gets a fresh order.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence, Sized
from typing import Generic, TypeVar

import numpy as np

import ember

from ._arrays import to_numpy

T_co = TypeVar("T_co", covariant=True)

__all__ = [
    "BatchSampler",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
]


class Sampler(Generic[T_co]):
    """Base class: subclasses define ``__iter__`` (and ``__len__`` when the length is known)."""

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError(f"{type(self).__name__} must define __iter__")


class SequentialSampler(Sampler[int]):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler[int]):
    """Indices in random order.

    Without replacement (the default) each epoch is a permutation; a ``num_samples`` larger
    than the dataset chains several permutations. With ``replacement=True`` indices are drawn
    independently and uniformly.
    """

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: ember.Generator | None = None,
    ) -> None:
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"num_samples should be a positive integer, got {num_samples!r}")
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator

    @property
    def num_samples(self) -> int:
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n = len(self.data_source)
        rng = ember.random.numpy_generator(self.generator)
        if self.replacement:
            yield from rng.integers(0, n, size=self.num_samples).tolist()
            return
        full_passes, remainder = divmod(self.num_samples, n)
        for _ in range(full_passes):
            yield from rng.permutation(n).tolist()
        if remainder:
            yield from rng.permutation(n)[:remainder].tolist()

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """The given ``indices`` in a random order (a fresh permutation every epoch)."""

    def __init__(self, indices: Sequence[int], generator: ember.Generator | None = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        order = ember.random.numpy_generator(self.generator).permutation(len(self.indices))
        for position in order.tolist():
            yield self.indices[position]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """``num_samples`` indices in ``[0, len(weights))`` drawn with probability ``weights[i] / sum``.

    The weights need not sum to 1. A common use is rebalancing classes: give each sample the
    weight ``1 / count(its class)``.
    """

    def __init__(
        self,
        weights: Sequence[float],
        num_samples: int,
        replacement: bool = True,
        generator: ember.Generator | None = None,
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer, got {num_samples!r}")
        weights_array = to_numpy(weights).astype(np.float64)
        if weights_array.ndim != 1:
            raise ValueError(f"weights should be a 1-D sequence, got shape {weights_array.shape}")
        if (weights_array < 0).any() or not np.isfinite(weights_array).all():
            raise ValueError("weights should be finite and non-negative")
        if weights_array.sum() == 0:
            raise ValueError("weights should not all be zero")
        if not replacement and num_samples > np.count_nonzero(weights_array):
            raise ValueError(
                f"cannot draw {num_samples} samples without replacement from "
                f"{np.count_nonzero(weights_array)} non-zero weights"
            )
        self.weights = weights_array
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        rng = ember.random.numpy_generator(self.generator)
        probabilities = self.weights / self.weights.sum()
        draws = rng.choice(len(probabilities), size=self.num_samples, replace=self.replacement,
                           p=probabilities)
        yield from draws.tolist()

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list]):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    The last list is shorter when the sampler's length is not a multiple of ``batch_size``,
    unless ``drop_last=True`` drops it.
    """

    def __init__(self, sampler: Sampler[int] | Sequence[int], batch_size: int,
                 drop_last: bool) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer, got {batch_size!r}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list]:
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size
